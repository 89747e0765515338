/**
 * fromPixels / toPixels / decodeImage in Node: ImageData-like objects, the TF.js value
 * rules (int32 0..255, float 0..1), the errors, and decodeImage's own PNG/PGM path with a
 * JPEG refused by a message that says what to do. The browser sources (canvas,
 * ImageBitmap, a decoded JPEG) are in test/data/pixels_browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const rgba = (w: number, h: number) => ({ width: w, height: h, data: Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256) });

describe('fromPixels', () => {
  it('ImageData-like -> int32 [h, w, 3] (alpha dropped), 1 (red), 4 (RGBA), float32 in [0, 1]', () => {
    const img = rgba(3, 2);
    const t = ck.fromPixels(img);
    expect(t.shape).toEqual([2, 3, 3]);
    expect(t.dtype).toBe('int32');
    const d = img.data;
    expect(t.toArray().slice(0, 6)).toEqual([d[0], d[1], d[2], d[4], d[5], d[6]]);
    expect(ck.fromPixels(img, 1).toArray()).toEqual(Array.from({ length: 6 }, (_, p) => d[p * 4]));
    expect(ck.fromPixels(img, 4).toArray()).toEqual(Array.from(d));
    const f = ck.fromPixels(img, 3, { dtype: 'float32' });
    expect(f.dtype).toBe('float32');
    expect(f.toArray()[1]).toBeCloseTo(d[1] / 255, 6);
  });

  it('errors: bad channels, wrong data length, unknown objects, no canvas in Node for elements', () => {
    expect(() => ck.fromPixels(rgba(2, 2), 2)).toThrow(/channels must be 1, 3 or 4, received 2/);
    expect(() => ck.fromPixels({ width: 2, height: 2, data: new Uint8ClampedArray(15) })).toThrow(/has 15 bytes, 2x2 RGBA needs 16/);
    expect(() => ck.fromPixels({ width: 2, height: 2, data: [1, 2] as unknown as Uint8Array })).toThrow(/Uint8ClampedArray or Uint8Array/);
    expect(() => ck.fromPixels({ foo: 1 } as never)).toThrow(/none of their members/);
    expect(() => ck.fromPixels(null as never)).toThrow(/received null/);
    expect(() => ck.fromPixels({ naturalWidth: 4, naturalHeight: 4, complete: true })).toThrow(/needs a canvas \(OffscreenCanvas or document\).*in Node pass an ImageData-like/);
    expect(() => ck.fromPixels({ naturalWidth: 4, naturalHeight: 4, complete: false })).toThrow(/has not finished loading/);
    expect(() => ck.fromPixels({ videoWidth: 4, videoHeight: 4, readyState: 0 })).toThrow(/no current frame/);
    expect(() => ck.fromPixels(rgba(2, 2), 3, { dtype: 'float64' as never })).toThrow(/dtype must be 'int32' or 'float32'/);
  });
});

describe('toPixels', () => {
  it('int32 [0, 255] and float [0, 1] tensors -> RGBA; grey replicated, alpha 255; round trip with fromPixels', async () => {
    const img = rgba(4, 3);
    for (let p = 0; p < 12; p++) img.data[p * 4 + 3] = 255;
    expect(Array.from(await ck.toPixels(ck.fromPixels(img, 4)))).toEqual(Array.from(img.data));
    expect(Array.from(await ck.toPixels(ck.fromPixels(img, 3, { dtype: 'float32' })))).toEqual(Array.from(img.data));
    expect(Array.from(await ck.toPixels(ck.tensor([[0, 0.5], [1, 0.25]])))).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 64, 64, 64, 255]);
  });

  it('draws into a canvas-like object (resized to the tensor)', async () => {
    let put: { data: Uint8ClampedArray } | null = null;
    const canvas = {
      width: 0, height: 0,
      getContext: () => ({ createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }), putImageData: (i: { data: Uint8ClampedArray }) => (put = i), drawImage() {}, getImageData: () => rgba(1, 1) }),
    };
    const out = await ck.toPixels(ck.tensor([1, 2, 3, 4, 5, 6], [1, 2, 3], 'int32'), canvas);
    expect([canvas.width, canvas.height]).toEqual([2, 1]);
    expect(Array.from(put!.data)).toEqual(Array.from(out));
  });

  it('errors name the value and range, the shape, the channel count', async () => {
    await expect(ck.toPixels(ck.tensor([0, 1.5], [1, 2]))).rejects.toThrow(/value 1.5 at index 1 is outside \[0, 1\] \(a float32 tensor/);
    await expect(ck.toPixels(ck.tensor([0, 300], [1, 2], 'int32'))).rejects.toThrow(/value 300 at index 1 is outside \[0, 255\]/);
    await expect(ck.toPixels(ck.tensor([0, NaN], [1, 2]))).rejects.toThrow(/value NaN/);
    await expect(ck.toPixels(ck.zeros([2]))).rejects.toThrow(/\[height, width\] or \[height, width, channels\], received \[2\]/);
    await expect(ck.toPixels(ck.zeros([1, 1, 2]))).rejects.toThrow(/2 channels; expected 1, 3 or 4/);
  });
});

describe('decodeImage in Node', () => {
  it('PNG (bytes, ArrayBuffer, Blob) and PGM decode with convkit own readers', async () => {
    const png = ck.encodePng({ width: 2, height: 1, channels: 3, data: [10, 20, 30, 40, 50, 60] });
    for (const src of [png, png.slice().buffer, new Blob([png])]) {
      const t = await ck.decodeImage(src);
      expect(t.shape).toEqual([1, 2, 3]);
      expect(t.toArray()).toEqual([10, 20, 30, 40, 50, 60]);
    }
    const pgm = new TextEncoder().encode('P2 2 1 255 7 9\n');
    expect((await ck.decodeImage(pgm, 4)).toArray()).toEqual([7, 7, 7, 255, 9, 9, 9, 255]);
  });

  it('a JPEG gets an error saying what to do (convert to PNG, or decode in a browser); so does readImage', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]);
    await expect(ck.decodeImage(jpeg)).rejects.toThrow(/JPEG cannot be decoded here.*Convert the file to PNG.*or decode it in a browser/);
    await expect(ck.readImage(jpeg)).rejects.toThrow(/JPEG cannot be decoded here/);
    await expect(ck.decodeImage(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/not a PNG, PGM or PPM image/);
    await expect(ck.decodeImage('x.png' as never)).rejects.toThrow(/Uint8Array, an ArrayBuffer or a Blob/);
  });
});
