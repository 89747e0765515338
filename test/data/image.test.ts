import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { decodePng, decodePnm, imageToInput, DataFormatError } from '../../src/data/index.js';
import { encodePNG } from '../../src/vision/visualize.js';

/** A PNG with every scanline filter type (row y uses filter y % 5), bit depth 8. */
function filteredPng(width: number, height: number, channels: 1 | 2 | 3 | 4, px: Uint8Array): Uint8Array {
  const bpp = channels, stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = y % 5;
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = px[y * stride + i];
      const a = i >= bpp ? px[y * stride + i - bpp] : 0, b = y > 0 ? px[(y - 1) * stride + i] : 0, c = y > 0 && i >= bpp ? px[(y - 1) * stride + i - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[y * (stride + 1) + 1 + i] = (x - pred) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    new DataView(out.buffer).setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    return out; // CRC left 0: the decoder does not check it
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

describe('image files for predict', () => {
  it('decodes PNG written by the vision encoder (grey and RGB)', async () => {
    const grey = Uint8Array.from({ length: 6 * 4 }, (_, i) => (i * 11) % 256);
    const g = await decodePng(encodePNG({ width: 6, height: 4, channels: 1, pixels: grey }));
    expect([g.width, g.height, g.channels]).toEqual([6, 4, 1]);
    expect(Array.from(g.data)).toEqual(Array.from(grey));
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
    expect(Array.from((await decodePng(encodePNG({ width: 3, height: 2, channels: 3, pixels: rgb }))).data)).toEqual(Array.from(rgb));
  });

  it('undoes every PNG scanline filter (sub, up, average, Paeth) for 1 to 4 channels', async () => {
    for (const ch of [1, 2, 3, 4] as const) {
      const px = Uint8Array.from({ length: 7 * 6 * ch }, (_, i) => (i * 97 + (i >> 3) * 13) % 256);
      const d = await decodePng(filteredPng(7, 6, ch, px));
      expect(d.channels).toBe(ch);
      expect(Array.from(d.data)).toEqual(Array.from(px));
    }
  });

  it('reads PGM and PPM, ASCII and binary', () => {
    const p2 = decodePnm(new TextEncoder().encode('P2\n# comment\n3 1\n10\n0 5 10\n'));
    expect(Array.from(p2.data)).toEqual([0, 128, 255]);
    const head = new TextEncoder().encode('P6 1 2 255\n');
    const p6 = decodePnm(Uint8Array.from([...head, 1, 2, 3, 4, 5, 6]));
    expect([p6.width, p6.height, p6.channels]).toEqual([1, 2, 3]);
    expect(Array.from(p6.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => decodePnm(Uint8Array.from([...new TextEncoder().encode('P5 4 4 255\n'), 1, 2]), 'x.pgm')).toThrow(/x.pgm: truncated/);
  });

  it('fits an image to the model input: grey from RGB, resize, scale, invert', () => {
    const rgb = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 0, 0, 255]) };
    const g = imageToInput(rgb, [1, 2, 1]);
    expect(g[0]).toBeCloseTo(0.299, 6);
    expect(g[1]).toBeCloseTo(0.114, 6);
    const up = imageToInput({ width: 1, height: 1, channels: 1, data: Uint8Array.from([51]) }, [3, 3, 3], { invert: true });
    expect(Array.from(up).every((v) => Math.abs(v - 0.8) < 1e-6)).toBe(true);
    const same = imageToInput({ width: 2, height: 2, channels: 1, data: Uint8Array.from([0, 255, 255, 0]) }, [2, 2, 1]);
    expect(Array.from(same)).toEqual([0, 1, 1, 0]);
  });

  it('rejects files that are not PNG with the file name', async () => {
    await expect(decodePng(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'a.png')).rejects.toThrow(DataFormatError);
    await expect(decodePng(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'a.png')).rejects.toThrow(/a.png: not a PNG file/);
  });
});
