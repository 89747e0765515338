/**
 * A plot is a scene of a few primitives in pixel coordinates (rectangles, polylines, text,
 * embedded images), laid out once and rendered two ways: as an SVG document (text, sharp
 * at any size) and rasterised here into RGBA pixels for PNG (no canvas, no dependency:
 * filled rectangles, thick polylines stamped along each segment, a 3x5 bitmap font
 * scaled by 2, nearest-neighbour image blits). The two agree on geometry and colours;
 * the PNG's text is the bitmap font's upper-case letters.
 */
import { encodePng } from '../data/png_write.js';

export type Rgb = readonly [number, number, number];

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: Rgb; stroke?: Rgb }
  | { kind: 'line'; points: readonly (readonly [number, number])[]; stroke: Rgb; width: number; dash?: boolean }
  | { kind: 'text'; x: number; y: number; text: string; size: number; color: Rgb; anchor: 'start' | 'middle' | 'end'; vertical?: boolean; bold?: boolean }
  | { kind: 'image'; x: number; y: number; w: number; h: number; width: number; height: number; rgba: Uint8ClampedArray };

const NAMED: Record<string, Rgb> = {
  black: [0, 0, 0], white: [255, 255, 255], red: [214, 39, 40], green: [44, 160, 44], blue: [31, 119, 180], orange: [255, 127, 14],
  purple: [148, 103, 189], gray: [127, 127, 127], grey: [127, 127, 127], brown: [140, 86, 75], pink: [227, 119, 194], olive: [188, 189, 34], cyan: [23, 190, 207],
};

/** matplotlib's tab10, the default series colours. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

/** '#rgb', '#rrggbb', 'rgb(r, g, b)' or a basic name (black, white, red, green, blue, orange, purple, gray, ...). */
export function parseColor(c: string, op: string): Rgb {
  const s = c.trim().toLowerCase();
  if (NAMED[s]) return NAMED[s];
  let m = /^#([0-9a-f]{6})$/.exec(s);
  if (m) return [parseInt(m[1].slice(0, 2), 16), parseInt(m[1].slice(2, 4), 16), parseInt(m[1].slice(4, 6), 16)];
  m = /^#([0-9a-f]{3})$/.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as unknown as Rgb;
  m = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/.exec(s);
  if (m && [m[1], m[2], m[3]].every((v) => +v <= 255)) return [+m[1], +m[2], +m[3]];
  throw new RangeError(`${op}: colour '${c}' is not '#rgb', '#rrggbb', 'rgb(r, g, b)' or one of ${Object.keys(NAMED).join(', ')}`);
}

const hex = (c: Rgb) => '#' + c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number) => String(Math.round(v * 100) / 100);

// 3x5 glyphs, rows top to bottom; lower case is drawn as upper case.
const GLYPHS: Record<string, string> = {
  '0': '###,#.#,#.#,#.#,###', '1': '.#.,##.,.#.,.#.,###', '2': '###,..#,###,#..,###', '3': '###,..#,.##,..#,###', '4': '#.#,#.#,###,..#,..#',
  '5': '###,#..,###,..#,###', '6': '###,#..,###,#.#,###', '7': '###,..#,.#.,.#.,.#.', '8': '###,#.#,###,#.#,###', '9': '###,#.#,###,..#,###',
  A: '.#.,#.#,###,#.#,#.#', B: '##.,#.#,##.,#.#,##.', C: '.##,#..,#..,#..,.##', D: '##.,#.#,#.#,#.#,##.', E: '###,#..,##.,#..,###',
  F: '###,#..,##.,#..,#..', G: '.##,#..,#.#,#.#,.##', H: '#.#,#.#,###,#.#,#.#', I: '###,.#.,.#.,.#.,###', J: '..#,..#,..#,#.#,.#.',
  K: '#.#,#.#,##.,#.#,#.#', L: '#..,#..,#..,#..,###', M: '#.#,###,###,#.#,#.#', N: '##.,#.#,#.#,#.#,#.#', O: '.#.,#.#,#.#,#.#,.#.',
  P: '##.,#.#,##.,#..,#..', Q: '.#.,#.#,#.#,##.,.##', R: '##.,#.#,##.,#.#,#.#', S: '.##,#..,.#.,..#,##.', T: '###,.#.,.#.,.#.,.#.',
  U: '#.#,#.#,#.#,#.#,###', V: '#.#,#.#,#.#,#.#,.#.', W: '#.#,#.#,###,###,#.#', X: '#.#,#.#,.#.,#.#,#.#', Y: '#.#,#.#,.#.,.#.,.#.',
  Z: '###,..#,.#.,#..,###', ' ': '...,...,...,...,...', '.': '...,...,...,...,.#.', ',': '...,...,...,.#.,#..', '-': '...,...,###,...,...',
  '+': '...,.#.,###,.#.,...', _: '...,...,...,...,###', ':': '...,.#.,...,.#.,...', '/': '..#,..#,.#.,#..,#..', '(': '.#.,#..,#..,#..,.#.',
  ')': '.#.,..#,..#,..#,.#.', '%': '#.#,..#,.#.,#..,#.#', '=': '...,###,...,###,...', '?': '###,..#,.#.,...,.#.', "'": '.#.,.#.,...,...,...',
  '[': '##.,#..,#..,#..,##.', ']': '.##,..#,..#,..#,.##', '#': '#.#,###,#.#,###,#.#', '!': '.#.,.#.,.#.,...,.#.', '<': '..#,.#.,#..,.#.,..#', '>': '#..,.#.,..#,.#.,#..',
};
const glyphBits = new Map<string, boolean[]>();
function glyph(ch: string): boolean[] {
  const key = GLYPHS[ch] !== undefined ? ch : GLYPHS[ch.toUpperCase()] !== undefined ? ch.toUpperCase() : '?';
  let g = glyphBits.get(key);
  if (!g) glyphBits.set(key, (g = [...GLYPHS[key].replace(/,/g, '')].map((c) => c === '#')));
  return g;
}

/** Pixel scale of the bitmap font for a text of `size` px (the 5-row glyph fills about 60% of the em). */
const fontScale = (size: number) => Math.max(1, Math.round((size * 0.75) / 5));
/** Width of `text` in the PNG's bitmap font (4 columns a character), and in SVG (about 0.6 em a character). */
export const textWidth = (text: string, size: number) => Math.max(text.length * 4 * fontScale(size), text.length * size * 0.6);

/** An RGBA pixel buffer with the primitives the charts draw. */
class Raster {
  readonly data: Uint8ClampedArray;
  constructor(readonly width: number, readonly height: number, background: Rgb) {
    this.data = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([background[0], background[1], background[2], 255], i * 4);
  }
  set(x: number, y: number, c: Rgb): void {
    x = Math.floor(x);
    y = Math.floor(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
    this.data[o + 3] = 255;
  }
  fill(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.set(xx, yy, c);
  }
  /** A segment `width` px thick: a square stamped every half pixel along it. */
  segment(ax: number, ay: number, bx: number, by: number, width: number, c: Rgb, dash: boolean): void {
    const len = Math.hypot(bx - ax, by - ay);
    const steps = Math.max(1, Math.ceil(len * 2));
    const r = Math.max(0.5, width / 2);
    for (let s = 0; s <= steps; s++) {
      if (dash && Math.floor(((s / steps) * len) / 5) % 2 === 1) continue;
      const x = ax + ((bx - ax) * s) / steps, y = ay + ((by - ay) * s) / steps;
      this.fill(x - r, y - r, 2 * r, 2 * r, c);
    }
  }
  text(t: Extract<Shape, { kind: 'text' }>): void {
    const k = fontScale(t.size);
    const w = t.text.length * 4 * k - k;
    const shift = t.anchor === 'start' ? 0 : t.anchor === 'middle' ? -w / 2 : -w;
    // (x, y) is the baseline point in SVG; the glyph's 5 rows sit above it.
    [...t.text].forEach((ch, i) => {
      const g = glyph(ch);
      for (let r = 0; r < 5; r++) {
        for (let col = 0; col < 3; col++) {
          if (!g[r * 3 + col]) continue;
          const along = shift + (i * 4 + col) * k, across = (r - 5) * k;
          if (t.vertical) this.fill(t.x + across, t.y - along - k, k, k, t.color);
          else this.fill(t.x + along, t.y + across, k, k, t.color);
          if (t.bold) {
            if (t.vertical) this.fill(t.x + across, t.y - along - k - 1, k, k, t.color);
            else this.fill(t.x + along + 1, t.y + across, k, k, t.color);
          }
        }
      }
    });
  }
  image(s: Extract<Shape, { kind: 'image' }>): void {
    const x0 = Math.round(s.x), y0 = Math.round(s.y), w = Math.round(s.w), h = Math.round(s.h);
    for (let yy = 0; yy < h; yy++) {
      const sy = Math.min(s.height - 1, Math.floor((yy * s.height) / h));
      for (let xx = 0; xx < w; xx++) {
        const sx = Math.min(s.width - 1, Math.floor((xx * s.width) / w));
        const o = (sy * s.width + sx) * 4;
        this.set(x0 + xx, y0 + yy, [s.rgba[o], s.rgba[o + 1], s.rgba[o + 2]]);
      }
    }
  }
}

const bytesToBase64 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
};

/** A rendered chart: the same picture as an SVG document, PNG bytes, or RGBA pixels (e.g. for `ck.toPixels` or a canvas's putImageData). */
export class Plot {
  private raster: Raster | null = null;
  readonly width: number;
  readonly height: number;
  constructor(width: number, height: number, readonly shapes: readonly Shape[], readonly background: Rgb = [255, 255, 255]) {
    this.width = Math.ceil(width);
    this.height = Math.ceil(height);
  }

  /** A standalone SVG document (`<svg xmlns=...>`), to write to a .svg file or put in a page. */
  svg(): string {
    const out = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="sans-serif">`,
      `<rect x="0" y="0" width="${this.width}" height="${this.height}" fill="${hex(this.background)}"/>`,
    ];
    for (const s of this.shapes) {
      if (s.kind === 'rect') out.push(`<rect x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" fill="${hex(s.fill)}"${s.stroke ? ` stroke="${hex(s.stroke)}"` : ''}/>`);
      else if (s.kind === 'line') {
        out.push(`<polyline fill="none" stroke="${hex(s.stroke)}" stroke-width="${num(s.width)}" stroke-linejoin="round"${s.dash ? ' stroke-dasharray="5 5"' : ''} points="${s.points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ')}"/>`);
      } else if (s.kind === 'text') {
        const rot = s.vertical ? ` transform="rotate(-90 ${num(s.x)} ${num(s.y)})"` : '';
        out.push(`<text x="${num(s.x)}" y="${num(s.y)}" font-size="${s.size}" fill="${hex(s.color)}" text-anchor="${s.anchor}"${s.bold ? ' font-weight="bold"' : ''}${rot}>${esc(s.text)}</text>`);
      } else {
        const png = encodePng({ width: s.width, height: s.height, channels: 4, data: s.rgba });
        out.push(`<image x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,${bytesToBase64(png)}"/>`);
      }
    }
    out.push('</svg>');
    return out.join('\n') + '\n';
  }

  /** RGBA pixels, row-major (width * height * 4), like ImageData's `data`. */
  rgba(): { width: number; height: number; data: Uint8ClampedArray } {
    if (!this.raster) {
      const r = new Raster(this.width, this.height, this.background);
      for (const s of this.shapes) {
        if (s.kind === 'rect') {
          r.fill(s.x, s.y, s.w, s.h, s.fill);
          if (s.stroke) {
            r.fill(s.x, s.y, s.w, 1, s.stroke);
            r.fill(s.x, s.y + s.h - 1, s.w, 1, s.stroke);
            r.fill(s.x, s.y, 1, s.h, s.stroke);
            r.fill(s.x + s.w - 1, s.y, 1, s.h, s.stroke);
          }
        } else if (s.kind === 'line') {
          for (let i = 1; i < s.points.length; i++) r.segment(s.points[i - 1][0], s.points[i - 1][1], s.points[i][0], s.points[i][1], s.width, s.stroke, !!s.dash);
          if (s.points.length === 1) r.fill(s.points[0][0] - s.width, s.points[0][1] - s.width, 2 * s.width, 2 * s.width, s.stroke);
        } else if (s.kind === 'text') r.text(s);
        else r.image(s);
      }
      this.raster = r;
    }
    return { width: this.width, height: this.height, data: this.raster.data };
  }

  /** PNG file bytes (RGB). */
  png(): Uint8Array {
    const { data } = this.rgba();
    const rgb = new Uint8Array(this.width * this.height * 3);
    for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
      rgb[j] = data[i];
      rgb[j + 1] = data[i + 1];
      rgb[j + 2] = data[i + 2];
    }
    return encodePng({ width: this.width, height: this.height, channels: 3, data: rgb });
  }
}
