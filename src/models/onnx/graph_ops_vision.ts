/**
 * Graph-mode evaluators of ONNX's vision operators beyond convolution and pooling: sampling
 * (GridSample, AffineGrid), detection (NonMaxSuppression, RoiAlign, DeformConv), reshaping images
 * (CenterCropPad, Col2Im, MaxUnpool). They index rather than compute, so they run on the host in
 * float64, the way ONNX's reference evaluator defines them (DeformConv's product with its filters
 * excepted), and hand back one tensor per output; no gradient flows through them. Each cites the opset that defines what it implements.
 */
import { attr, attrInt, attrInts, attrString } from './proto.js';
import { tensor } from '../../ops/creation.js';
import { add, cast } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { reshape, transpose } from '../../ops/shape.js';
import { type GCtx, type GVal, type GraphOp, T, floatIn, fmt, intsIn, mk, need, normAxis, nums, prod, roundHalfEven, scalarIn, stridesOf } from './graph_values.js';
import { shapesEqual } from '../../tensor/shape.js';

/** Keys' cubic convolution weights (A = -0.75) of the 4 taps around a point t past the second. */
const cubic4 = (t: number): number[] => {
  const A = -0.75, u = 1 - t;
  return [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A, ((A + 2) * t - (A + 3)) * t * t + 1,
    ((A + 2) * u - (A + 3)) * u * u + 1, ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A];
};

/**
 * GridSample (opset 16: 2-D, modes bilinear / nearest / bicubic; opset 20 on: N-D, linear /
 * nearest / cubic): Y[n, c, p] samples X[n, c] at grid[n, p], a point in [-1, 1] per spatial
 * axis listed last axis first (x, y, ...). align_corners maps -1 and 1 to the centres of the
 * corner cells (else to their outer edges); taps outside X read 0 ('zeros'), the nearest edge
 * cell ('border') or X reflected at the edges ('reflection').
 */
function gridSampleRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X'), g = floatIn(ctx, ins[1], 1, 'grid');
  const xs = x.t.shape, gs = g.t.shape, r = xs.length - 2;
  const given = attrString(ctx.node, 'mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
  const mode = ({ bilinear: 'linear', bicubic: 'cubic' } as Record<string, string>)[given] ?? given;
  const pm = attrString(ctx.node, 'padding_mode', 'zeros'), align = attrInt(ctx.node, 'align_corners', 0) === 1;
  if (r < 1 || (ctx.opset < 20 && r !== 2)) ctx.fail(`X has shape ${fmt(xs)}; expected [N, C, H, W]${ctx.opset >= 20 ? ' or more spatial axes' : ' (N-D from opset 20)'}`);
  if (gs.length !== r + 2 || gs[0] !== xs[0] || gs[r + 1] !== r) ctx.fail(`grid has shape ${fmt(gs)}; expected [${xs[0]}, ...${r} output sizes, ${r}]`);
  if (r === 3 && mode === 'cubic') ctx.fail('cubic sampling of a volume is not supported (ONNX defines it for 2-D)');
  const dims = xs.slice(2), outSp = gs.slice(1, r + 1), N = xs[0], C = xs[1];
  const X = nums(x), G = nums(g), xStr = stridesOf(dims), plane = prod(dims), P = prod(outSp);
  const lo = dims.map(() => (align ? 0 : -0.5)), hi = dims.map((d) => (align ? d - 1 : d - 0.5));
  const reflect = (v: number, a: number, b: number): number => {
    const range = b - a;
    if (v < a) { const dx = a - v, k = Math.trunc(dx / range), rest = dx - k * range; return k % 2 === 0 ? a + rest : b - rest; }
    if (v > b) { const dx = v - b, k = Math.trunc(dx / range), rest = dx - k * range; return k % 2 === 0 ? b - rest : a + rest; }
    return v;
  };
  /** The index read for tap i along axis a, or -1 for a zero. */
  const tap = (i: number, a: number): number => {
    if (i >= 0 && i < dims[a]) return i;
    if (pm === 'zeros') return -1;
    if (pm === 'border') return Math.min(Math.max(i, 0), dims[a] - 1);
    return Math.trunc(reflect(i, lo[a], hi[a]));
  };
  const out = new Float64Array(N * C * P);
  const pos = new Array<number>(r);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      for (let a = 0; a < r; a++) {
        const v = G[(n * P + p) * r + (r - 1 - a)];
        let c = Math.fround(align ? ((v + 1) / 2) * (dims[a] - 1) : ((v + 1) * dims[a] - 1) / 2);
        if (mode === 'nearest') c = roundHalfEven(c);
        if (c < lo[a] || c > hi[a]) c = pm === 'border' ? Math.min(Math.max(c, 0), dims[a] - 1) : pm === 'reflection' ? reflect(c, lo[a], hi[a]) : c;
        pos[a] = c;
      }
      // Taps and weights per axis, then the sum over their product (separable).
      const taps: number[][] = [], wts: number[][] = [];
      for (let a = 0; a < r; a++) {
        if (mode === 'nearest') { taps.push([tap(pos[a], a)]); wts.push([1]); continue; }
        const f = Math.floor(pos[a]), t = pos[a] - f;
        if (mode === 'linear') { taps.push([tap(f, a), tap(f + 1, a)]); wts.push([1 - t, t]); } else { taps.push([f - 1, f, f + 1, f + 2].map((i) => tap(i, a))); wts.push(cubic4(t)); }
      }
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * plane;
        let acc = 0;
        const walk = (a: number, off: number, w: number): void => {
          if (a === r) { acc += w * X[base + off]; return; }
          for (let k = 0; k < taps[a].length; k++) if (taps[a][k] >= 0 && wts[a][k] !== 0) walk(a + 1, off + taps[a][k] * xStr[a], w * wts[a][k]);
        };
        walk(0, 0, 1);
        out[(n * C + c) * P + p] = acc;
      }
    }
  }
  return [mk(out, [N, C, ...outSp], x.dt)];
}

/**
 * AffineGrid (opset 20): the sampling grid of theta [N, 2, 3] (or [N, 3, 4]) for an output of
 * size [N, C, H, W] (or [N, C, D, H, W]): each output cell's normalised coordinates (x, y[, z], 1)
 * times theta, [N, H, W, 2] (or [N, D, H, W, 3]).
 */
function affineGridRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const th = floatIn(ctx, ins[0], 0, 'theta'), size = intsIn(ctx, need(ctx, ins[1], 1, 'size'), 1, 'size')!;
  const sp = size.slice(2), r = sp.length, N = size[0];
  if (r !== 2 && r !== 3) ctx.fail(`size ${fmt(size)} must be [N, C, H, W] or [N, C, D, H, W]`);
  if (th.t.shape.length !== 3 || th.t.shape[0] !== N || th.t.shape[1] !== r || th.t.shape[2] !== r + 1) ctx.fail(`theta has shape ${fmt(th.t.shape)}; expected [${N}, ${r}, ${r + 1}]`);
  const align = attrInt(ctx.node, 'align_corners', 0) === 1, T_ = nums(th);
  const coord = (i: number, d: number): number => (align ? (d === 1 ? -1 : -1 + (2 * i) / (d - 1)) : -1 + (2 * i + 1) / d);
  const P = prod(sp), out = new Float64Array(N * P * r), str = stridesOf(sp);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      // (x, y[, z], 1): x along the last axis, y the one before, ...
      const h = [...Array.from({ length: r }, (_, k) => coord(Math.floor(p / str[r - 1 - k]) % sp[r - 1 - k], sp[r - 1 - k])), 1];
      for (let o = 0; o < r; o++) {
        let v = 0;
        for (let k = 0; k <= r; k++) v += T_[(n * r + o) * (r + 1) + k] * h[k];
        out[(n * P + p) * r + o] = v;
      }
    }
  }
  return [mk(out, [N, ...sp, r], th.dt)];
}

/**
 * NonMaxSuppression (opset 11): per batch and class, the boxes scoring above score_threshold
 * taken best first, each dropped when its IoU with one already kept exceeds iou_threshold, at
 * most max_output_boxes_per_class (0 or absent: none). Boxes are [y1, x1, y2, x2] with either
 * diagonal (center_point_box 0) or [x_center, y_center, width, height] (1). Output: int64
 * [selected, 3] rows (batch, class, box), by batch, class, then selection order.
 */
function nmsRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const b = floatIn(ctx, ins[0], 0, 'boxes'), s = floatIn(ctx, ins[1], 1, 'scores');
  const [B, M, four] = b.t.shape, [B2, C, M2] = s.t.shape;
  if (b.t.rank !== 3 || four !== 4) ctx.fail(`boxes has shape ${fmt(b.t.shape)}; expected [batches, boxes, 4]`);
  if (s.t.rank !== 3 || B2 !== B || M2 !== M) ctx.fail(`scores has shape ${fmt(s.t.shape)}; expected [${B}, classes, ${M}]`);
  const maxOut = Math.max(scalarIn(ctx, ins[2], 2, 'max_output_boxes_per_class') ?? 0, 0);
  const iouT = scalarIn(ctx, ins[3], 3, 'iou_threshold') ?? 0, scoreT = scalarIn(ctx, ins[4], 4, 'score_threshold');
  const center = attrInt(ctx.node, 'center_point_box', 0) === 1;
  const bx = nums(b), sc = nums(s);
  /** [ymin, xmin, ymax, xmax] of box m of batch n. */
  const corners = (n: number, m: number): number[] => {
    const o = (n * M + m) * 4, v = [bx[o], bx[o + 1], bx[o + 2], bx[o + 3]];
    if (center) return [v[1] - v[3] / 2, v[0] - v[2] / 2, v[1] + v[3] / 2, v[0] + v[2] / 2];
    return [Math.min(v[0], v[2]), Math.min(v[1], v[3]), Math.max(v[0], v[2]), Math.max(v[1], v[3])];
  };
  const suppresses = (p: number[], q: number[]): boolean => {
    const ih = Math.min(p[2], q[2]) - Math.max(p[0], q[0]), iw = Math.min(p[3], q[3]) - Math.max(p[1], q[1]);
    if (ih <= 0 || iw <= 0) return false;
    const inter = ih * iw, a1 = (p[2] - p[0]) * (p[3] - p[1]), a2 = (q[2] - q[0]) * (q[3] - q[1]), union = a1 + a2 - inter;
    if (a1 <= 0 || a2 <= 0 || union <= 0) return false;
    return inter / union > iouT;
  };
  const rows: number[] = [];
  for (let n = 0; n < B; n++) {
    const boxes = Array.from({ length: M }, (_, m) => corners(n, m));
    for (let c = 0; c < C; c++) {
      const cand: number[] = [];
      for (let m = 0; m < M; m++) if (scoreT === null || sc[(n * C + c) * M + m] > scoreT) cand.push(m);
      // Best first; equal scores: the lower index first.
      cand.sort((p, q) => sc[(n * C + c) * M + q] - sc[(n * C + c) * M + p] || p - q);
      const kept: number[] = [];
      for (const m of cand) {
        if (kept.length >= maxOut) break;
        if (kept.every((k) => !suppresses(boxes[m], boxes[k]))) kept.push(m);
      }
      for (const m of kept) rows.push(n, c, m);
    }
  }
  return [mk(rows, [rows.length / 3, 3], T.INT64)];
}

/**
 * CenterCropPad (opset 18): each axis in 'axes' (all by default) cropped or zero-padded to the
 * size given, about its centre (an odd difference leaves the extra cell at the end).
 */
function centerCropPadRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'input_data'), want = intsIn(ctx, need(ctx, ins[1], 1, 'shape'), 1, 'shape')!;
  const xs = x.t.shape, r = xs.length;
  const axes = (attr(ctx.node, 'axes')?.ints ?? xs.map((_, i) => i)).map((a) => normAxis(ctx, a, r, 'axes'));
  if (axes.length !== want.length) ctx.fail(`shape has ${want.length} entries; expected one per axis of ${fmt(axes)}`);
  const outShape = [...xs], srcStart = xs.map(() => 0), dstStart = xs.map(() => 0);
  axes.forEach((a, i) => {
    const d = xs[a], w = want[i];
    outShape[a] = w;
    if (w < d) srcStart[a] = Math.floor((d - w) / 2);
    else dstStart[a] = Math.floor((w - d) / 2);
  });
  const copy = outShape.map((w, a) => Math.min(w, xs[a]));
  const v = nums(x), out = new Float64Array(prod(outShape)), sStr = stridesOf(xs), oStr = stridesOf(outShape), n = prod(copy);
  for (let f = 0; f < n; f++) {
    let si = 0, di = 0, rest = f;
    for (let a = r - 1; a >= 0; a--) {
      const i = rest % copy[a];
      rest = Math.floor(rest / copy[a]);
      si += (i + srcStart[a]) * sStr[a];
      di += (i + dstStart[a]) * oStr[a];
    }
    out[di] = v[si];
  }
  return [mk(out, outShape, x.dt)];
}

/**
 * Col2Im (opset 18): the inverse of im2col with overlaps summed: input [N, C * prod(block_shape),
 * L] holds, for each of the L sliding blocks of an image of image_shape (dilations, pads,
 * strides), its C x block values; output [N, C, ...image_shape].
 */
function col2ImRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'input');
  const img = intsIn(ctx, need(ctx, ins[1], 1, 'image_shape'), 1, 'image_shape')!, blk = intsIn(ctx, need(ctx, ins[2], 2, 'block_shape'), 2, 'block_shape')!;
  const r = img.length;
  if (blk.length !== r) ctx.fail(`block_shape ${fmt(blk)} and image_shape ${fmt(img)} differ in length`);
  const dil = attrInts(ctx.node, 'dilations', new Array(r).fill(1)), str = attrInts(ctx.node, 'strides', new Array(r).fill(1));
  const pads = attrInts(ctx.node, 'pads', new Array(2 * r).fill(0));
  const [N, CK, L] = x.t.shape, K = prod(blk);
  if (x.t.rank !== 3 || CK % K) ctx.fail(`input has shape ${fmt(x.t.shape)}; expected [N, C * ${K}, L]`);
  const nb = img.map((d, i) => Math.floor((d + pads[i] + pads[i + r] - dil[i] * (blk[i] - 1) - 1) / str[i]) + 1);
  if (prod(nb) !== L) ctx.fail(`input has ${L} blocks; image_shape ${fmt(img)} with these block_shape, dilations, pads and strides has ${prod(nb)}`);
  const C = CK / K, v = nums(x), plane = prod(img), out = new Float64Array(N * C * plane);
  const kStr = stridesOf(blk), bStr = stridesOf(nb), iStr = stridesOf(img);
  for (let n = 0; n < N; n++) {
    for (let ck = 0; ck < CK; ck++) {
      const c = Math.floor(ck / K), k = ck % K;
      for (let l = 0; l < L; l++) {
        let off = 0, inside = true;
        for (let a = 0; a < r && inside; a++) {
          const p = Math.floor(l / bStr[a]) % nb[a] * str[a] - pads[a] + (Math.floor(k / kStr[a]) % blk[a]) * dil[a];
          inside = p >= 0 && p < img[a];
          off += p * iStr[a];
        }
        if (inside) out[(n * C + c) * plane + off] += v[(n * CK + ck) * L + l];
      }
    }
  }
  return [mk(out, [N, C, ...img], x.dt)];
}

/**
 * MaxUnpool (opset 9, 11): a MaxPool's values written back at its Indices (flat indices into
 * the unpooled [N, C, ...] tensor) in zeros of the shape the pooling inverts, placed at the
 * start of output_shape (input 2) when that is given.
 */
function maxUnpoolRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = need(ctx, ins[0], 0, 'X'), idx = intsIn(ctx, need(ctx, ins[1], 1, 'I'), 1, 'I')!;
  const xs = x.t.shape, sp = xs.length - 2;
  const k = attrInts(ctx.node, 'kernel_shape', []);
  if (k.length !== sp) ctx.fail(`kernel_shape ${fmt(k)} has ${k.length} entries; expected ${sp}`);
  const s = attrInts(ctx.node, 'strides', new Array(sp).fill(1)), pads = attrInts(ctx.node, 'pads', new Array(2 * sp).fill(0));
  const inferred = [xs[0], xs[1], ...xs.slice(2).map((d, i) => (d - 1) * s[i] - (pads[i] + pads[i + sp]) + k[i])];
  const shape = ins[2] ? intsIn(ctx, ins[2], 2, 'output_shape')! : inferred;
  if (shape.length !== xs.length || shape.some((d, i) => d < inferred[i])) ctx.fail(`output_shape ${fmt(shape)} must have rank ${xs.length} and hold the unpooled ${fmt(inferred)}`);
  const v = nums(x), y = new Float64Array(prod(inferred));
  if (idx.length !== v.length) ctx.fail(`I has ${idx.length} indices; X has ${v.length} values`);
  idx.forEach((at, i) => {
    if (at < 0 || at >= y.length) ctx.fail(`index ${at} is outside the unpooled tensor of ${y.length} values`);
    y[at] = v[i];
  });
  if (shape.every((d, i) => d === inferred[i])) return [mk(y, shape, x.dt)];
  const out = new Float64Array(prod(shape)), iStr = stridesOf(inferred), oStr = stridesOf(shape);
  for (let f = 0; f < y.length; f++) {
    let o = 0;
    for (let a = 0; a < inferred.length; a++) o += (Math.floor(f / iStr[a]) % inferred[a]) * oStr[a];
    out[o] = y[f];
  }
  return [mk(out, shape, x.dt)];
}

/**
 * RoiAlign (opset 10, 16): for each region of interest [x1, y1, x2, y2] (times spatial_scale, on
 * the image batch_indices names), output_height x output_width bins, each the average ('avg') or
 * the maximum ('max') of sampling_ratio^2 bilinear samples (adaptive, ceil(bin size), when 0).
 * coordinate_transformation_mode 'half_pixel' (opset 16's default) shifts by half a pixel;
 * 'output_half_pixel' (opset 10's behaviour) does not and makes each region at least 1 x 1.
 * Samples beyond a pixel outside the image count as 0; as ONNX's reference, 'max' takes the
 * largest of the four weighted corner values of each sample.
 */
function roiAlignRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X'), rois = floatIn(ctx, ins[1], 1, 'rois'), bi = intsIn(ctx, need(ctx, ins[2], 2, 'batch_indices'), 2, 'batch_indices')!;
  const [N, C, H, W] = x.t.shape, R = rois.t.shape[0];
  if (x.t.rank !== 4) ctx.fail(`X has shape ${fmt(x.t.shape)}; expected [N, C, H, W]`);
  if (rois.t.rank !== 2 || rois.t.shape[1] !== 4 || bi.length !== R) ctx.fail(`rois has shape ${fmt(rois.t.shape)} and batch_indices ${bi.length} entries; expected [R, 4] and R`);
  const n = ctx.node, OH = attrInt(n, 'output_height', 1), OW = attrInt(n, 'output_width', 1), ratio = attrInt(n, 'sampling_ratio', 0);
  const scale = attr(n, 'spatial_scale')?.f ?? 1, max = attrString(n, 'mode', 'avg') === 'max';
  const half = attrString(n, 'coordinate_transformation_mode', ctx.opset >= 16 ? 'half_pixel' : 'output_half_pixel') === 'half_pixel';
  const X = nums(x), B = nums(rois), out = new Float64Array(R * C * OH * OW);
  for (let r = 0; r < R; r++) {
    if (bi[r] < 0 || bi[r] >= N) ctx.fail(`batch index ${bi[r]} of roi ${r} is out of range for ${N} images`);
    const off = half ? 0.5 : 0;
    const [sw, sh, ew, eh] = [0, 1, 2, 3].map((k) => B[r * 4 + k] * scale - off);
    let rw = ew - sw, rh = eh - sh;
    if (!half) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
    const bh = rh / OH, bw = rw / OW;
    const gh = ratio > 0 ? ratio : Math.ceil(rh / OH), gw = ratio > 0 ? ratio : Math.ceil(rw / OW), count = Math.max(gh * gw, 1);
    // Per sample: the four corner offsets and weights (all 0 beyond the image).
    const samples: number[][] = [];
    for (let ph = 0; ph < OH; ph++) {
      for (let pw = 0; pw < OW; pw++) {
        for (let iy = 0; iy < gh; iy++) {
          for (let ix = 0; ix < gw; ix++) {
            let y = sh + ph * bh + ((iy + 0.5) * bh) / gh, xx = sw + pw * bw + ((ix + 0.5) * bw) / gw;
            if (y < -1 || y > H || xx < -1 || xx > W) { samples.push([0, 0, 0, 0, 0, 0, 0, 0]); continue; }
            y = Math.max(y, 0); xx = Math.max(xx, 0);
            let yl = Math.trunc(y), xl = Math.trunc(xx), yh: number, xh: number;
            if (yl >= H - 1) { yh = yl = H - 1; y = yl; } else yh = yl + 1;
            if (xl >= W - 1) { xh = xl = W - 1; xx = xl; } else xh = xl + 1;
            const ly = y - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
            samples.push([yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh, hy * hx, hy * lx, ly * hx, ly * lx]);
          }
        }
      }
    }
    for (let c = 0; c < C; c++) {
      const base = (bi[r] * C + c) * H * W;
      let k = 0;
      for (let p = 0; p < OH * OW; p++) {
        let v = max ? -Infinity : 0;
        for (let q = 0; q < gh * gw; q++, k++) {
          const sm = samples[k];
          const vals = [0, 1, 2, 3].map((j) => sm[4 + j] * X[base + sm[j]]);
          v = max ? Math.max(v, ...vals) : v + vals[0] + vals[1] + vals[2] + vals[3];
        }
        out[(r * C + c) * OH * OW + p] = max ? (gh * gw ? v : 0) : v / count;
      }
    }
  }
  return [mk(out, [R, C, OH, OW], x.dt)];
}

/**
 * DeformConv (opset 19, 2-D): a convolution whose taps are moved per output cell by 'offset'
 * [N, offset_group * 2 * kH * kW, oH, oW] ((dh, dw) per tap) and weighted by 'mask' (default 1):
 * each moved tap reads X bilinearly, 0 outside (GridSample with align_corners 1 and zeros, as
 * ONNX's reference). The sampled columns are built on the host; the product with the filters
 * (per group) is one matmul on the current backend.
 */
function deformConvRun(ctx: GCtx, ins: (GVal | undefined)[]): GVal[] {
  const x = floatIn(ctx, ins[0], 0, 'X'), w = floatIn(ctx, ins[1], 1, 'W'), off = floatIn(ctx, ins[2], 2, 'offset');
  if (x.t.rank !== 4 || w.t.rank !== 4) ctx.fail(`X ${fmt(x.t.shape)} and W ${fmt(w.t.shape)} must be 4-D (2-D deformable convolution)`);
  const [N, C, H, W] = x.t.shape, [OC, ICg, kH, kW] = w.t.shape, K = kH * kW;
  const n = ctx.node, G = attrInt(n, 'group', 1), OG = attrInt(n, 'offset_group', 1);
  const [sH, sW] = attrInts(n, 'strides', [1, 1]), [dH, dW] = attrInts(n, 'dilations', [1, 1]), pads = attrInts(n, 'pads', [0, 0, 0, 0]);
  if (C !== ICg * G || OC % G || C % OG) ctx.fail(`channels: X has ${C}, W ${fmt(w.t.shape)}, group ${G}, offset_group ${OG} do not fit`);
  const OH = Math.floor((H + pads[0] + pads[2] - ((kH - 1) * dH + 1)) / sH) + 1, OW = Math.floor((W + pads[1] + pads[3] - ((kW - 1) * dW + 1)) / sW) + 1;
  const P = OH * OW;
  if (!shapesEqual(off.t.shape, [N, OG * 2 * K, OH, OW])) ctx.fail(`offset has shape ${fmt(off.t.shape)}; expected ${fmt([N, OG * 2 * K, OH, OW])}`);
  const mask = ins[4] ? nums(floatIn(ctx, ins[4], 4, 'mask')) : null;
  if (mask && mask.length !== N * OG * K * P) ctx.fail(`mask has ${mask.length} values; expected ${N * OG * K * P} ([N, offset_group * kH * kW, oH, oW])`);
  // Columns [G, ICg * K, N * P]: channel c = g ICg + c', tap k, image b, output cell p.
  const X = nums(x), O = nums(off), cols = new Float32Array(C * K * N * P);
  const at = (base: number, i: number, j: number): number => (i >= 0 && i < H && j >= 0 && j < W ? X[base + i * W + j] : 0);
  for (let b = 0; b < N; b++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / (C / OG)), base = (b * C + c) * H * W;
      for (let k = 0; k < K; k++) {
        const ki = Math.floor(k / kW), kj = k % kW;
        for (let p = 0; p < P; p++) {
          const oi = Math.floor(p / OW), oj = p % OW;
          const oIdx = ((b * OG + g) * 2 * K + 2 * k) * P + p;
          const h = oi * sH - pads[0] + ki * dH + O[oIdx], v = oj * sW - pads[1] + kj * dW + O[oIdx + P];
          const h0 = Math.floor(h), v0 = Math.floor(v), th = h - h0, tv = v - v0;
          const val = (1 - th) * ((1 - tv) * at(base, h0, v0) + tv * at(base, h0, v0 + 1)) + th * ((1 - tv) * at(base, h0 + 1, v0) + tv * at(base, h0 + 1, v0 + 1));
          cols[(c * K + k) * N * P + b * P + p] = mask ? val * mask[((b * OG + g) * K + k) * P + p] : val;
        }
      }
    }
  }
  // [G, OC / G, ICg * K] filters times the columns: [G, OC / G, N * P], then [N, OC, oH, oW].
  const colT = tensor(cols, [G, ICg * K, N * P]);
  const wt = reshape(x.t.dtype === w.t.dtype ? w.t : cast(w.t, x.t.dtype), [G, OC / G, ICg * K]);
  const prodT = matmul(wt, colT.dtype === x.t.dtype ? colT : cast(colT, x.t.dtype));
  let y = reshape(transpose(reshape(prodT, [OC, N, P]), [1, 0, 2]), [N, OC, OH, OW]);
  if (ins[3]) y = add(y, reshape(floatIn(ctx, ins[3], 3, 'B').t, [1, OC, 1, 1]));
  return [{ t: y, dt: x.dt }];
}

export const VISION_OPS: Record<string, GraphOp> = {
  DeformConv: { attrs: ['dilations', 'group', 'kernel_shape', 'offset_group', 'pads', 'strides'], run: deformConvRun },
  RoiAlign: {
    attrs: ['coordinate_transformation_mode', 'mode', 'output_height', 'output_width', 'sampling_ratio', 'spatial_scale'],
    check: (n) => (['avg', 'max'].includes(attrString(n, 'mode', 'avg')) ? null : `mode '${attrString(n, 'mode', '')}' is not supported (avg, max are)`),
    run: roiAlignRun,
  },
  GridSample: {
    attrs: ['align_corners', 'mode', 'padding_mode'],
    check: (n, opset) => {
      const modes = opset >= 20 ? ['linear', 'nearest', 'cubic'] : ['bilinear', 'nearest', 'bicubic'];
      const m = attrString(n, 'mode', modes[0]), pm = attrString(n, 'padding_mode', 'zeros');
      if (!modes.includes(m)) return `mode '${m}' is not a GridSample mode at opset ${opset} (${modes.join(', ')} are)`;
      return ['zeros', 'border', 'reflection'].includes(pm) ? null : `padding_mode '${pm}' is not supported (zeros, border, reflection are)`;
    },
    run: gridSampleRun,
  },
  AffineGrid: { attrs: ['align_corners'], run: affineGridRun },
  NonMaxSuppression: { attrs: ['center_point_box'], run: nmsRun },
  CenterCropPad: { attrs: ['axes'], run: centerCropPadRun },
  Col2Im: { attrs: ['dilations', 'pads', 'strides'], run: col2ImRun },
  MaxUnpool: { attrs: ['kernel_shape', 'pads', 'strides'], run: maxUnpoolRun },
};
