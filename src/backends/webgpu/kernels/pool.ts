/**
 * Pooling kernels on `webgpu`, same contract as the reference (src/kernels/pool.ts):
 * windows are visited row-major (kh outer, kw inner), padding never wins a max, NaN
 * does, and the max-pool gradient goes to the first maximum of each window.
 *
 * Forward: one thread per output element. Backward: one thread per INPUT element,
 * which walks the (few) windows that contain it and adds their share, so no two
 * threads write the same cell and no atomics are needed. For max pooling the thread
 * recomputes each such window's winner and takes dy only when the winner is itself.
 */
import { AvgPool2D, AvgPool2DGrad, MaxPool2D, MaxPool2DGrad, poolInShape, poolOutShape, type Pool2DInfo } from '../../../kernels/pool.js';
import { sizeOf } from '../../../tensor/shape.js';
import { gpu } from '../backend.js';
import { MAIN_1D, grid1d, type ParamDecl, type ProgramDef } from '../program.js';
import { registerFloat } from './util.js';

const NAMES = ['batch', 'inH', 'inW', 'channels', 'outH', 'outW', 'kH', 'kW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'padTop', 'padLeft'] as const;
const PARAMS: ParamDecl[] = [{ name: 'total', type: 'u32' }, { name: 'includePad', type: 'u32' }, ...NAMES.map((n) => ({ name: n, type: 'u32' as const }))];
const values = (p: Pool2DInfo, total: number, includePad = false) => {
  const v: Record<string, number> = { total, includePad: includePad ? 1 : 0 };
  for (const n of NAMES) v[n] = p[n];
  return v;
};

const COMMON_FNS = `
fn in_row(oh: u32, kh: u32) -> i32 { return i32(oh * u.strideH + kh * u.dilationH) - i32(u.padTop); }
fn in_col(ow: u32, kw: u32) -> i32 { return i32(ow * u.strideW + kw * u.dilationW) - i32(u.padLeft); }
fn x_at(n: u32, ih: i32, iw: i32, ch: u32) -> u32 { return ((n * u.inH + u32(ih)) * u.inW + u32(iw)) * u.channels + ch; }
`;

const MAX_CELL_FN = `
// Flat index of the winning cell of window (n, oh, ow, ch): the first NaN, else the first strict maximum.
fn max_cell(n: u32, oh: u32, ow: u32, ch: u32) -> u32 {
  var best = 0xffffffffu;
  var bestVal = 0.0;
  for (var kh = 0u; kh < u.kH; kh++) {
    let ih = in_row(oh, kh);
    if (ih < 0 || u32(ih) >= u.inH) { continue; }
    for (var kw = 0u; kw < u.kW; kw++) {
      let iw = in_col(ow, kw);
      if (iw < 0 || u32(iw) >= u.inW) { continue; }
      let j = x_at(n, ih, iw, ch);
      let v = X[j];
      if (best == 0xffffffffu || (!is_nan(bestVal) && (is_nan(v) || v > bestVal))) { best = j; bestVal = v; }
    }
  }
  return best;
}
`;

const DIVISOR_FNS = `
fn real_cells(oh: u32, ow: u32) -> u32 {
  var rows = 0u; var cols = 0u;
  for (var kh = 0u; kh < u.kH; kh++) { let ih = in_row(oh, kh); if (ih >= 0 && u32(ih) < u.inH) { rows++; } }
  for (var kw = 0u; kw < u.kW; kw++) { let iw = in_col(ow, kw); if (iw >= 0 && u32(iw) < u.inW) { cols++; } }
  return rows * cols;
}
fn divisor(oh: u32, ow: u32) -> f32 {
  if (u.includePad != 0u) { return f32(u.kH * u.kW); }
  return f32(real_cells(oh, ow));
}
// Output coordinate whose window reaches input coordinate 'in' through tap k, or -1.
fn src(inp: u32, k: u32, stride: u32, dil: u32, pad: u32, size: u32) -> i32 {
  let off = i32(inp + pad) - i32(k * dil);
  if (off < 0) { return -1; }
  if (u32(off) % stride != 0u) { return -1; }
  let o = u32(off) / stride;
  if (o >= size) { return -1; }
  return i32(o);
}
`;
const FNS = `${COMMON_FNS}${MAX_CELL_FN}${DIVISOR_FNS}`;

/** Output element i -> (n, oh, ow, ch). */
const OUT_COORDS = `  let ch = i % u.channels; let t1 = i / u.channels; let ow = t1 % u.outW; let t2 = t1 / u.outW; let oh = t2 % u.outH; let n = t2 / u.outH;`;
/** Input element i -> (n, ih, iw, ch). */
const IN_COORDS = `  let ch = i % u.channels; let t1 = i / u.channels; let iw = t1 % u.inW; let t2 = t1 / u.inW; let ih = t2 % u.inH; let n = t2 / u.inH;`;

const MAX_POOL: ProgramDef = {
  key: 'max-pool',
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: PARAMS,
  body: `${FNS}\n${MAIN_1D}\n  if (i >= u.total) { return; }\n${OUT_COORDS}\n  Y[i] = X[max_cell(n, oh, ow, ch)];\n}`,
};

const AVG_POOL: ProgramDef = {
  key: 'avg-pool',
  buffers: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: PARAMS,
  body: `${FNS}\n${MAIN_1D}\n  if (i >= u.total) { return; }\n${OUT_COORDS}
  var acc = 0.0;
  for (var kh = 0u; kh < u.kH; kh++) {
    let ih = in_row(oh, kh);
    if (ih < 0 || u32(ih) >= u.inH) { continue; }
    for (var kw = 0u; kw < u.kW; kw++) {
      let iw = in_col(ow, kw);
      if (iw < 0 || u32(iw) >= u.inW) { continue; }
      acc += X[x_at(n, ih, iw, ch)];
    }
  }
  Y[i] = acc / divisor(oh, ow);
}`,
};

/** Loop over the windows (oh, ow) that contain input cell (ih, iw); BODY sees oh, ow as u32. */
const WINDOWS_OF_CELL = (body: string) => `
  for (var kh = 0u; kh < u.kH; kh++) {
    let sh = src(ih, kh, u.strideH, u.dilationH, u.padTop, u.outH);
    if (sh < 0) { continue; }
    for (var kw = 0u; kw < u.kW; kw++) {
      let sw = src(iw, kw, u.strideW, u.dilationW, u.padLeft, u.outW);
      if (sw < 0) { continue; }
      let oh = u32(sh); let ow = u32(sw);
      let o = ((n * u.outH + oh) * u.outW + ow) * u.channels + ch;
${body}
    }
  }`;

const MAX_POOL_GRAD: ProgramDef = {
  key: 'max-pool-grad',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  params: PARAMS,
  body: `${FNS}\n${MAIN_1D}\n  if (i >= u.total) { return; }\n${IN_COORDS}
  var acc = 0.0;${WINDOWS_OF_CELL('      if (max_cell(n, oh, ow, ch) == i) { acc += DY[o]; }')}
  DX[i] = acc;
}`,
};

const AVG_POOL_GRAD: ProgramDef = {
  key: 'avg-pool-grad',
  buffers: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  params: PARAMS,
  body: `${COMMON_FNS}${DIVISOR_FNS}\n${MAIN_1D}\n  if (i >= u.total) { return; }\n${IN_COORDS}
  var acc = 0.0;${WINDOWS_OF_CELL('      acc += DY[o] / divisor(oh, ow);')}
  DX[i] = acc;
}`,
};

registerFloat(MaxPool2D, ([x], { pool }, be) => {
  const y = be.output(poolOutShape(pool), 'float32');
  const total = sizeOf(y.shape);
  be.run(MAX_POOL, [gpu(x), y.dataId], values(pool, total), grid1d(total));
  return y;
});

registerFloat(AvgPool2D, ([x], { pool, countIncludePad }, be) => {
  const y = be.output(poolOutShape(pool), 'float32');
  const total = sizeOf(y.shape);
  be.run(AVG_POOL, [gpu(x), y.dataId], values(pool, total, countIncludePad), grid1d(total));
  return y;
});

registerFloat(MaxPool2DGrad, ([dy, x], { pool }, be) => {
  const dx = be.output(poolInShape(pool), 'float32');
  const total = sizeOf(dx.shape);
  be.run(MAX_POOL_GRAD, [gpu(dy), gpu(x), dx.dataId], values(pool, total), grid1d(total));
  return dx;
});

registerFloat(AvgPool2DGrad, ([dy], { pool, countIncludePad }, be) => {
  const dx = be.output(poolInShape(pool), 'float32');
  const total = sizeOf(dx.shape);
  be.run(AVG_POOL_GRAD, [gpu(dy), dx.dataId], values(pool, total, countIncludePad), grid1d(total));
  return dx;
});
