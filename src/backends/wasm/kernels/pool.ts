/**
 * Pooling kernels on `wasm` (assembly/pool_f32.ts), same contract as the reference
 * (src/kernels/pool.ts): NHWC, channels vectorised, padding never wins, max-pool gradient
 * to the first maximum (or first NaN) in row-major window order, average pooling with or
 * without counting padded cells.
 */
import { AvgPool2D, AvgPool2DGrad, MaxPool2D, MaxPool2DGrad, poolInShape, poolOutShape, type Pool2DInfo } from '../../../kernels/pool.js';
import { FLOPS_PER_FLOAT_MOVED, wasmKernel } from '../backend.js';
import type { RangeSplit } from '../threads.js';

/** The geometry arguments every pooling export takes, in order. */
function geom(p: Pool2DInfo): number[] {
  return [p.batch, p.inH, p.inW, p.channels, p.outH, p.outW, p.kH, p.kW, p.strideH, p.strideW, p.dilationH, p.dilationW, p.padTop, p.padLeft];
}

/**
 * The work of a pooling call in flop-equivalents: the input once and every window cell
 * of every output (see FLOPS_PER_FLOAT_MOVED).
 */
function work(p: Pool2DInfo): number {
  return FLOPS_PER_FLOAT_MOVED * (p.batch * p.inH * p.inW * p.channels + p.batch * p.outH * p.outW * p.channels * p.kH * p.kW);
}

/**
 * On threads, the gradients take bands of whole images (an image's gradient scatters
 * within the image, and depends on that image alone): the export runs on fewer images, its
 * pointers (`input` ones advance an input image, `output` ones an output image) moved to
 * the band. The forward kernels take bands of output rows (parts of the N * OH: every
 * output is computed alone), so that one image, at batch 1, runs on every thread. Bitwise
 * the same result on any thread count.
 */
function byImages(p: Pool2DInfo, nArg: number, input: number[], output: number[]): RangeSplit {
  const inImg = 4 * p.inH * p.inW * p.channels, outImg = 4 * p.outH * p.outW * p.channels;
  return { nArg, strides: [...input.map((i) => [i, inImg] as const), ...output.map((i) => [i, outImg] as const)], align: 1 };
}

wasmKernel(MaxPool2D, ([x], { pool }, be) => {
  const y = be.alloc(poolOutShape(pool));
  be.parallel('max_pool2d_f32', [be.ptr(x), be.ptr(y), ...geom(pool)], -1, work(pool), 2, pool.batch * pool.outH);
  return y;
});

wasmKernel(MaxPool2DGrad, ([dy, x], { pool }, be) => {
  const dx = be.alloc(poolInShape(pool));
  be.parallelSplit('max_pool2d_grad_f32', [be.ptr(dy), be.ptr(x), be.ptr(dx), ...geom(pool)], byImages(pool, 3, [1, 2], [0]), work(pool));
  return dx;
});

wasmKernel(AvgPool2D, ([x], { pool, countIncludePad }, be) => {
  const y = be.alloc(poolOutShape(pool));
  be.parallel('avg_pool2d_f32', [be.ptr(x), be.ptr(y), ...geom(pool), countIncludePad ? 1 : 0], -1, work(pool), 2, pool.batch * pool.outH);
  return y;
});

wasmKernel(AvgPool2DGrad, ([dy], { pool, countIncludePad }, be) => {
  const dx = be.alloc(poolInShape(pool));
  be.parallelSplit('avg_pool2d_grad_f32', [be.ptr(dy), be.ptr(dx), ...geom(pool), countIncludePad ? 1 : 0], byImages(pool, 2, [1], [0]), work(pool));
  return dx;
});
