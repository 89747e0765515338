/**
 * fromPixels, toPixels, decodeImage and plot output in headless Chromium (the harness of
 * test/util/browser.ts): a 2D canvas, ImageData, an ImageBitmap, an OffscreenCanvas, a
 * VideoFrame, an <img> loaded from convkit's own PNG, a JPEG blob (encoded by the
 * browser) decoded by decodeImage, toPixels drawing into a canvas, and a plot's SVG parsed
 * by DOMParser.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, runPage } from '../util/browser.js';

const haveChromium = chromiumAvailable('browser image test');

const PAGE = `<!doctype html><meta charset="utf-8"><title>convkit pixels</title>
<script type="module">
import * as ck from './esm/index.js';
const out = {};
try {
  // A 4x3 canvas: left half red, right half blue, one green pixel at (1, 2).
  const canvas = document.createElement('canvas');
  canvas.width = 4; canvas.height = 3;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ff0000'; ctx.fillRect(0, 0, 2, 3);
  ctx.fillStyle = '#0000ff'; ctx.fillRect(2, 0, 2, 3);
  ctx.fillStyle = '#00ff00'; ctx.fillRect(1, 2, 1, 1);
  const t = ck.fromPixels(canvas);
  out.canvas = { shape: t.shape, dtype: t.dtype, values: t.toArray() };
  const id = ctx.getImageData(0, 0, 4, 3);
  out.imageData = ck.fromPixels(id, 4).toArray();
  out.rawRgba = Array.from(id.data);
  const bitmap = await createImageBitmap(canvas);
  out.bitmap = ck.fromPixels(bitmap, 3).toArray();
  const off = new OffscreenCanvas(4, 3);
  off.getContext('2d').drawImage(canvas, 0, 0);
  out.offscreen = ck.fromPixels(off).toArray();
  if (typeof VideoFrame === 'function') {
    const frame = new VideoFrame(canvas, { timestamp: 0 });
    const f = ck.fromPixels(frame);
    out.videoFrame = { shape: f.shape, first: f.toArray().slice(0, 3) };
    frame.close();
  } else out.videoFrame = 'no VideoFrame';
  // toPixels into a canvas, read back.
  const target = document.createElement('canvas');
  const px = await ck.toPixels(ck.tensor([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 1, 1]]]), target);
  out.toPixels = { size: [target.width, target.height], back: Array.from(target.getContext('2d').getImageData(0, 0, 2, 2).data), px: Array.from(px) };
  // A JPEG made by the browser, decoded by decodeImage (createImageBitmap).
  const big = document.createElement('canvas');
  big.width = 16; big.height = 8;
  const bctx = big.getContext('2d');
  bctx.fillStyle = 'rgb(200, 40, 40)'; bctx.fillRect(0, 0, 8, 8);
  bctx.fillStyle = 'rgb(40, 40, 200)'; bctx.fillRect(8, 0, 8, 8);
  const jpeg = await new Promise((ok) => big.toBlob(ok, 'image/jpeg', 0.95));
  const bytes = new Uint8Array(await jpeg.arrayBuffer());
  out.jpegMagic = Array.from(bytes.slice(0, 3));
  const dj = await ck.decodeImage(jpeg);
  const dj2 = await ck.decodeImage(bytes, 3, { dtype: 'float32' });
  out.jpeg = { shape: dj.shape, dtype: dj.dtype, left: dj.toArray().slice((4 * 16 + 3) * 3, (4 * 16 + 3) * 3 + 3), right: dj.toArray().slice((4 * 16 + 12) * 3, (4 * 16 + 12) * 3 + 3), floatShape: dj2.shape, floatMax: Math.max(...dj2.toArray()) };
  // A plot: its SVG through DOMParser, its PNG through an <img>.
  const plot = ck.plot.lineChart({ loss: [1, 0.5, 0.25], val_loss: [1.1, 0.7, 0.6] }, { title: 'a < b & c', width: 200, height: 120 });
  const doc = new DOMParser().parseFromString(plot.svg(), 'image/svg+xml');
  out.svg = { root: doc.documentElement.nodeName, errors: doc.getElementsByTagName('parsererror').length, polylines: doc.getElementsByTagName('polyline').length };
  const img = new Image();
  img.src = URL.createObjectURL(new Blob([plot.png()], { type: 'image/png' }));
  await img.decode();
  const ti = ck.fromPixels(img);
  out.img = { shape: ti.shape, distinct: new Set(ti.toArray()).size };
  window.__result = { ok: true, ...out };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e), ...out };
}
</script>`;

describe.skipIf(!haveChromium)('browser images in headless Chromium', () => {
  it('fromPixels of canvas, ImageData, ImageBitmap, OffscreenCanvas, VideoFrame, <img>; toPixels into a canvas; a JPEG blob decoded; a plot SVG parsed', async () => {
    const { result: r, errors } = await runPage(PAGE);
    expect(errors).toEqual([]);
    expect(r.error ?? null).toBeNull();
    const R = [255, 0, 0], B = [0, 0, 255], G = [0, 255, 0];
    const want = [R, R, B, B, R, R, B, B, R, G, B, B].flat();
    expect(r.canvas).toEqual({ shape: [3, 4, 3], dtype: 'int32', values: want });
    expect(r.imageData).toEqual(r.rawRgba);
    expect(r.bitmap).toEqual(want);
    expect(r.offscreen).toEqual(want);
    if (r.videoFrame !== 'no VideoFrame') expect(r.videoFrame).toEqual({ shape: [3, 4, 3], first: R });
    const tp = r.toPixels as { size: number[]; back: number[]; px: number[] };
    expect(tp.size).toEqual([2, 2]);
    expect(tp.px).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    expect(tp.back).toEqual(tp.px);
    expect(r.jpegMagic).toEqual([0xff, 0xd8, 0xff]);
    const j = r.jpeg as { shape: number[]; dtype: string; left: number[]; right: number[]; floatShape: number[]; floatMax: number };
    expect(j.shape).toEqual([8, 16, 3]);
    expect(j.dtype).toBe('int32');
    // JPEG is lossy: within a few levels of the flat colours away from the edge.
    [200, 40, 40].forEach((v, i) => expect(Math.abs(j.left[i] - v)).toBeLessThan(12));
    [40, 40, 200].forEach((v, i) => expect(Math.abs(j.right[i] - v)).toBeLessThan(12));
    expect(j.floatShape).toEqual([8, 16, 3]);
    expect(j.floatMax).toBeLessThanOrEqual(1);
    expect(r.svg).toEqual({ root: 'svg', errors: 0, polylines: expect.any(Number) });
    expect((r.svg as { polylines: number }).polylines).toBeGreaterThanOrEqual(2);
    expect((r.img as { shape: number[] }).shape).toEqual([120, 200, 3]);
    expect((r.img as { distinct: number }).distinct).toBeGreaterThan(3);
    console.log(`browser images: VideoFrame ${r.videoFrame === 'no VideoFrame' ? 'absent' : 'read'}, JPEG left ${j.left} right ${j.right}`);
  }, 120_000);
});
