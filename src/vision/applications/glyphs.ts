/**
 * Synthetic handwriting-like glyphs: an endless supply of "identities" for metric learning
 * when the real data has few classes (six digits cannot teach features that carry over to
 * four others; thousands of random glyphs, each drawn many ways, can).
 *
 * A template is 1 to 3 random strokes: cubic Bezier curves, or arcs of ellipses (full loops
 * or part of one). Each rendering of a template jitters the control points, applies a small
 * random rotation, shear and stretch, draws the strokes with a pen of random width on a
 * bitmap 4x the target size, scales the ink's bounding box to fill the canvas (as the UCI
 * digits were normalised) and counts the ink in 4x4 blocks: the UCI digits' own
 * preprocessing, so 8x8 glyphs look like the embedded digits (values 0..1).
 */
import { Rng } from '../../ops/random.js';

export type GlyphStroke =
  | { kind: 'arc'; cx: number; cy: number; rx: number; ry: number; a0: number; span: number }
  | { kind: 'bezier'; p: [number, number][] };

/** A random template: 1-3 strokes in the unit square (30% arcs, of which half are closed loops). */
export function glyphTemplate(rng: Rng): GlyphStroke[] {
  const n = 1 + rng.int(3);
  const strokes: GlyphStroke[] = [];
  for (let s = 0; s < n; s++) {
    if (rng.next() < 0.3) {
      const span = rng.next() < 0.5 ? 2 * Math.PI : Math.PI * rng.uniform(0.7, 1.8);
      strokes.push({ kind: 'arc', cx: rng.uniform(0.25, 0.75), cy: rng.uniform(0.25, 0.75), rx: rng.uniform(0.1, 0.4), ry: rng.uniform(0.1, 0.4), a0: rng.uniform(0, 2 * Math.PI), span });
    } else {
      strokes.push({ kind: 'bezier', p: [0, 1, 2, 3].map(() => [rng.next(), rng.next()] as [number, number]) });
    }
  }
  return strokes;
}

/**
 * One handwritten-looking rendering of `template` into `out` (H x W values in 0..1, row-major),
 * drawn on a 4H x 4W bitmap. `jitter`: standard deviation of the control points' offsets, in
 * units of the glyph's size (default 0.04).
 */
export function renderGlyph(template: readonly GlyphStroke[], rng: Rng, out: Float32Array, H: number, W: number, jitter = 0.04): Float32Array {
  if (out.length !== H * W) throw new RangeError(`renderGlyph: out has ${out.length} values, expected H * W = ${H * W}`);
  const strokes: [number, number][][] = template.map((s) => {
    const pts: [number, number][] = [];
    if (s.kind === 'arc') {
      const cx = s.cx + rng.normal(0, jitter), cy = s.cy + rng.normal(0, jitter);
      const rx = Math.max(0.05, s.rx * (1 + rng.normal(0, 0.15))), ry = Math.max(0.05, s.ry * (1 + rng.normal(0, 0.15)));
      const a0 = s.a0 + rng.normal(0, 0.2), span = s.span * (1 + rng.normal(0, 0.05));
      for (let k = 0; k <= 60; k++) pts.push([cx + rx * Math.cos(a0 + (span * k) / 60), cy + ry * Math.sin(a0 + (span * k) / 60)]);
    } else {
      const p = s.p.map(([x, y]) => [x + rng.normal(0, jitter), y + rng.normal(0, jitter)]);
      for (let k = 0; k <= 40; k++) {
        const u = k / 40, v = 1 - u;
        const b = [v * v * v, 3 * v * v * u, 3 * v * u * u, u * u * u];
        pts.push([0, 1].map((d) => b[0] * p[0][d] + b[1] * p[1][d] + b[2] * p[2][d] + b[3] * p[3][d]) as [number, number]);
      }
    }
    return pts;
  });
  // A small random rotation, shear and change of aspect, about the centre.
  const th = rng.normal(0, 0.12), shear = rng.normal(0, 0.15), aspect = Math.exp(rng.normal(0, 0.1));
  const warped = strokes.map((pts) => pts.map(([x, y]): [number, number] => {
    const X = x - 0.5, Y = y - 0.5;
    return [(Math.cos(th) * X - Math.sin(th) * Y + shear * Y) * aspect, (Math.sin(th) * X + Math.cos(th) * Y) / aspect];
  }));
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const pts of warped) for (const [x, y] of pts) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  const BH = 4 * H, BW = 4 * W;
  // Pen radius in bitmap pixels (1.2-2.5 at 32x32), and the ink's box scaled to fill the canvas.
  const pen = rng.uniform(1.2, 2.5) * (Math.min(BH, BW) / 32);
  const scale = (Math.min(BH, BW) - 2 * pen - 1) / Math.max(x1 - x0, y1 - y0, 1e-3);
  const ox = BW / 2 - (scale * (x0 + x1)) / 2, oy = BH / 2 - (scale * (y0 + y1)) / 2;
  const bmp = new Uint8Array(BH * BW);
  const stamp = (px: number, py: number) => {
    for (let a = Math.max(0, Math.floor(py - pen)); a <= Math.min(BH - 1, Math.ceil(py + pen)); a++) {
      for (let b = Math.max(0, Math.floor(px - pen)); b <= Math.min(BW - 1, Math.ceil(px + pen)); b++) {
        if ((a + 0.5 - py) ** 2 + (b + 0.5 - px) ** 2 <= pen * pen) bmp[a * BW + b] = 1;
      }
    }
  };
  for (const pts of warped) {
    let prev: [number, number] | null = null;
    for (const [x, y] of pts) {
      const X = ox + scale * x, Y = oy + scale * y;
      // Stamp every half pixel along the segment so that fast curves leave no gaps.
      const n = prev ? Math.max(1, Math.ceil(Math.hypot(X - prev[0], Y - prev[1]) / 0.5)) : 1;
      for (let q = 1; q <= n; q++) stamp(prev ? prev[0] + ((X - prev[0]) * q) / n : X, prev ? prev[1] + ((Y - prev[1]) * q) / n : Y);
      prev = [X, Y];
    }
  }
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      let s = 0;
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) s += bmp[(4 * i + a) * BW + 4 * j + b];
      out[i * W + j] = s / 16;
    }
  }
  return out;
}

/**
 * A labelled set of synthetic glyphs: `identities` random templates, each rendered
 * `perIdentity` times, as [H, W, 1] images (default 8 x 8, like the embedded digits);
 * labels `labelOffset + template index`. Seeded.
 */
export function syntheticGlyphs(opts: { identities?: number; perIdentity?: number; size?: readonly [number, number]; seed?: number; labelOffset?: number; jitter?: number } = {}): { x: Float32Array; y: Int32Array; sampleShape: [number, number, number] } {
  const n = opts.identities ?? 100, per = opts.perIdentity ?? 10, [H, W] = opts.size ?? [8, 8];
  for (const [k, v] of Object.entries({ identities: n, perIdentity: per, 'size[0]': H, 'size[1]': W })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`syntheticGlyphs: ${k} must be a positive integer, received ${String(v)}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const x = new Float32Array(n * per * H * W), y = new Int32Array(n * per);
  for (let t = 0; t < n; t++) {
    const tpl = glyphTemplate(rng);
    for (let k = 0; k < per; k++) {
      const i = t * per + k;
      renderGlyph(tpl, rng, x.subarray(i * H * W, (i + 1) * H * W), H, W, opts.jitter);
      y[i] = (opts.labelOffset ?? 0) + t;
    }
  }
  return { x, y, sampleShape: [H, W, 1] };
}
