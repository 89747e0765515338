/**
 * Pooling kernels on `wasm` (assembly/pool_f32.ts), same contract as the `ts` oracle
 * (src/backends/ts/kernels/pool.ts): NHWC, channels vectorised, padding never wins,
 * max-pool gradient to the first maximum (or first NaN) in row-major window order,
 * average pooling with or without counting padded cells.
 */
import { registerKernel } from '../../../registry/kernels.js';
import type { TensorInfo } from '../../../tensor/backend.js';
import type { Pool2DInfo } from '../../../kernels/conv_info.js';
import { fmtShape, shapesEqual } from '../../../tensor/shape.js';
import type { WasmBackend } from '../backend.js';

const inShape = (p: Pool2DInfo) => [p.batch, p.inH, p.inW, p.channels];
const outShape = (p: Pool2DInfo) => [p.batch, p.outH, p.outW, p.channels];

function expect(kernel: string, arg: string, t: TensorInfo, shape: number[]): void {
  if (!shapesEqual(t.shape, shape)) throw new RangeError(`${kernel}: ${arg} has shape ${fmtShape(t.shape)}, the pool geometry expects ${fmtShape(shape)}`);
}

/** The geometry arguments every pooling export takes, in order. */
function geom(p: Pool2DInfo): number[] {
  return [p.batch, p.inH, p.inW, p.channels, p.outH, p.outW, p.kH, p.kW, p.strideH, p.strideW, p.dilationH, p.dilationW, p.padTop, p.padLeft];
}

registerKernel({
  kernelName: 'MaxPool2D',
  backendName: 'wasm',
  kernelFunc: ([x], attrs, backend) => {
    const be = backend as WasmBackend;
    const p = attrs.pool as Pool2DInfo;
    expect('MaxPool2D', 'x', x, inShape(p));
    const y = be.alloc(outShape(p));
    be.wasm.max_pool2d_f32(be.ptr(x), be.ptr(y), ...geom(p));
    return y;
  },
});

registerKernel({
  kernelName: 'MaxPool2DGrad',
  backendName: 'wasm',
  kernelFunc: ([dy, x], attrs, backend) => {
    const be = backend as WasmBackend;
    const p = attrs.pool as Pool2DInfo;
    expect('MaxPool2DGrad', 'dy', dy, outShape(p));
    expect('MaxPool2DGrad', 'x', x, inShape(p));
    const dx = be.alloc(inShape(p));
    be.wasm.max_pool2d_grad_f32(be.ptr(dy), be.ptr(x), be.ptr(dx), ...geom(p));
    return dx;
  },
});

registerKernel({
  kernelName: 'AvgPool2D',
  backendName: 'wasm',
  kernelFunc: ([x], attrs, backend) => {
    const be = backend as WasmBackend;
    const p = attrs.pool as Pool2DInfo;
    expect('AvgPool2D', 'x', x, inShape(p));
    const y = be.alloc(outShape(p));
    be.wasm.avg_pool2d_f32(be.ptr(x), be.ptr(y), ...geom(p), attrs.countIncludePad ? 1 : 0);
    return y;
  },
});

registerKernel({
  kernelName: 'AvgPool2DGrad',
  backendName: 'wasm',
  kernelFunc: ([dy], attrs, backend) => {
    const be = backend as WasmBackend;
    const p = attrs.pool as Pool2DInfo;
    expect('AvgPool2DGrad', 'dy', dy, outShape(p));
    const dx = be.alloc(inShape(p));
    be.wasm.avg_pool2d_grad_f32(be.ptr(dy), be.ptr(dx), ...geom(p), attrs.countIncludePad ? 1 : 0);
    return dx;
  },
});
