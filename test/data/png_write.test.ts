import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/data/png_write.js';
import { decodePng } from '../../src/data/image.js';

describe('encodePng', () => {
  it('round-trips through decodePng for 1-4 channels, odd sizes, flat and varied pixels', async () => {
    for (const [w, h, c] of [[1, 1, 1], [7, 5, 3], [3, 9, 2], [64, 40, 4], [300, 200, 3]]) {
      const d = new Uint8Array(w * h * c);
      for (let i = 0; i < d.length; i++) d[i] = i % 97 < 50 ? 200 : (i * 31) & 255;
      const back = await decodePng(encodePng({ width: w, height: h, channels: c, data: d }));
      expect([back.width, back.height, back.channels]).toEqual([w, h, c]);
      expect(Array.from(back.data)).toEqual(Array.from(d));
    }
  });

  it('compresses flat images (LZ77 matches) far below the raw size', () => {
    const d = new Uint8Array(400 * 300 * 3).fill(255);
    expect(encodePng({ width: 400, height: 300, channels: 3, data: d }).length).toBeLessThan(5000);
  });

  it('rejects bad sizes and channel counts', () => {
    expect(() => encodePng({ width: 0, height: 1, channels: 1, data: [] })).toThrow(/positive integers/);
    expect(() => encodePng({ width: 1, height: 1, channels: 5, data: [0, 0, 0, 0, 0] })).toThrow(/channels must be 1, 2, 3 or 4/);
    expect(() => encodePng({ width: 2, height: 2, channels: 1, data: [1, 2, 3] })).toThrow(/3 values for 2x2x1/);
  });
});
