/**
 * Drawing detections: boxes rasterised into an 8-bit RGB image with their labels written in
 * a built-in 3x5 pixel font (upper-case letters, digits and . : % - _ /), ready for encodePNG.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import type { Box } from './detection.js';
import type { Image8 } from './visualize.js';
import { checkBox } from './metrics.js';

// Each glyph: 5 rows of 3 pixels, top to bottom, concatenated; '#' on.
const FONT: Record<string, string> = {
  A: '.#.#.#####.##.#', B: '##.#.###.#.###.', C: '.###..#..#...##', D: '##.#.##.##.###.', E: '####..####..###', F: '####..####..#..',
  G: '.###..#.##.#.##', H: '#.##.#####.##.#', I: '###.#..#..#.###', J: '..#..#..##.#.#.', K: '#.##.###.#.##.#', L: '#..#..#..#..###',
  M: '#.########.##.#', N: '##.#.##.##.##.#', O: '.#.#.##.##.#.#.', P: '##.#.###.#..#..', Q: '.#.#.##.###..##', R: '##.#.###.#.##.#',
  S: '.###...#...###.', T: '###.#..#..#..#.', U: '#.##.##.##.####', V: '#.##.##.##.#.#.', W: '#.##.########.#', X: '#.##.#.#.#.##.#',
  Y: '#.##.#.#..#..#.', Z: '###..#.#.#..###', '0': '####.##.##.####', '1': '.#.##..#..#.###', '2': '##...#.#.#..###', '3': '##...#.#...###.',
  '4': '#.##.####..#..#', '5': '####..##...###.', '6': '.###..####.####', '7': '###..#.#..#..#.', '8': '####.#####.####', '9': '####.####..###.',
  '.': '.............#.', ':': '....#.....#....', '%': '#.#..#.#.#..#.#', '-': '......###......', '_': '............###', '/': '..#..#.#.#..#..',
  ' ': '...............',
};

/** A distinct colour per class id (RGB 0..255). */
export const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 64, 64], [64, 255, 64], [64, 160, 255], [255, 220, 0], [255, 0, 255], [0, 255, 255], [255, 128, 0], [255, 255, 255],
];

/**
 * Draw `boxes` (corner boxes [x1, y1, x2, y2] relative to the image) and their `labels`
 * onto `image` ([H, W, 3] or [1, H, W, 3], values 0..1), upscaled `scale` times (nearest
 * neighbour, default 4 so that the 3x5 font is readable). `colours[i]` (RGB 0..255) or the
 * class colour of `classIds[i]` colours box i.
 */
export function drawBoxes(
  image: Tensor,
  boxes: readonly Box[],
  labels: readonly string[] = [],
  opts: { scale?: number; classIds?: readonly number[]; colours?: readonly (readonly [number, number, number])[] } = {},
): Image8 {
  const fn = 'drawBoxes';
  const s = image.rank === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (s.length !== 3 || s[2] !== 3) throw new RangeError(`${fn}: image must have shape [H, W, 3] or [1, H, W, 3], received ${fmtShape(image.shape)}`);
  if (labels.length !== 0 && labels.length !== boxes.length) throw new RangeError(`${fn}: ${labels.length} labels for ${boxes.length} boxes`);
  boxes.forEach((b, i) => checkBox(b, `boxes[${i}]`, fn));
  const scale = opts.scale ?? 4;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`${fn}: scale must be a positive integer, received ${scale}`);
  const [H, W] = s;
  const width = W * scale, height = H * scale;
  const v = image.dataSync();
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(y / scale) * W + Math.floor(x / scale)) * 3;
      for (let c = 0; c < 3; c++) pixels[(y * width + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, v[src + c])));
    }
  }
  const put = (x: number, y: number, col: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    pixels.set(col, (y * width + x) * 3);
  };
  boxes.forEach((b, i) => {
    const col = opts.colours?.[i] ?? CLASS_COLOURS[(opts.classIds?.[i] ?? i) % CLASS_COLOURS.length];
    const x1 = Math.round(b[0] * width), y1 = Math.round(b[1] * height);
    const x2 = Math.round(b[2] * width) - 1, y2 = Math.round(b[3] * height) - 1;
    for (let t = 0; t < 2; t++) {
      for (let x = x1; x <= x2; x++) {
        put(x, y1 + t, col);
        put(x, y2 - t, col);
      }
      for (let y = y1; y <= y2; y++) {
        put(x1 + t, y, col);
        put(x2 - t, y, col);
      }
    }
    const text = (labels[i] ?? '').toUpperCase();
    if (!text) return;
    // Label on a dark strip above the box (inside it when the box touches the top).
    const tw = text.length * 4 + 1, th = 7;
    const ty = y1 - th >= 0 ? y1 - th : y1 + 2, tx = Math.max(0, Math.min(width - tw, x1));
    for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) put(tx + x, ty + y, [0, 0, 0]);
    [...text].forEach((ch, k) => {
      const g = FONT[ch] ?? FONT[' '];
      for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) if (g[r * 3 + c] === '#') put(tx + 1 + k * 4 + c, ty + 1 + r, col);
    });
  });
  return { width, height, channels: 3, pixels };
}
