/**
 * WebGPU benchmarks: `npm run bench:webgpu [-- --quick] [-- --swiftshader] [-- --json FILE]
 * [-- --filter TEXT] [-- --budget SECONDS] [-- --resnet-size N]`.
 *
 * Cases: GEMM 256..4096 (NN, and TN/NT at 1024 and above), the convolution shapes of the
 * WASM benchmark (bench/cases.ts CONV_SHAPES: forward, input gradient, filter gradient),
 * and a full training step (forward, softmax cross-entropy, backward, Adam) of LeNet-5 and
 * ResNet-18 at batch 32, from the model zoo.
 *
 * Timing. Kernels: after two warm-up calls (pipeline compilation), `reps` calls are
 * recorded back to back and the clock stops when the GPU reports them done
 * (queue.onSubmittedWorkDone); the per-call time is the median over 5 such batches, and
 * TFLOP/s = FLOPs / per-call time (GEMM 2*M*N*K, conv 2*N*OH*OW*F*KH*KW*C). The time of
 * one call including the read back into JS (`await y.data()`) is reported beside it.
 * Training steps end with `await loss.data()` (what a training loop needs each step);
 * TFLOP/s counts 3 x the forward FLOPs (forward, input gradients, weight gradients),
 * the usual convention, from the model summary's MACs (2 FLOPs per MAC).
 *
 * `--swiftshader` points Vulkan at Chromium's SwiftShader (a CPU rasteriser, about
 * 1 GFLOP/s here): it proves the cases run, it says nothing about GPU speed. Cases whose
 * estimated time exceeds `--budget` seconds (default 60) are skipped and say so.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as ck from '../src/index.js';
import type { WebGPUBackend } from '../src/backends/webgpu/backend.js';
import { computeConv2DInfo, type Padding } from '../src/kernels/conv_info.js';
import { CONV_SHAPES } from './cases.js';
import { flag, opt } from './args.js';

if (flag('--help')) {
  console.log('usage: npm run bench:webgpu -- [--quick] [--swiftshader] [--json FILE] [--filter TEXT] [--budget SECONDS] [--resnet-size N]');
  process.exit(0);
}
const quick = flag('--quick');
const jsonFile = opt('--json');
const filter = opt('--filter');
const budget = Number(opt('--budget') ?? (quick ? 20 : 60));
const resnetSize = Number(opt('--resnet-size') ?? 224);
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (flag('--swiftshader')) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
const onSwiftShader = (process.env.VK_ICD_FILENAMES ?? '').includes('swiftshader');

interface Row {
  group: string;
  case: string;
  shape: string;
  flops: number;
  /** Median per-call GPU time (ms), or null when skipped. */
  ms: number | null;
  /** One call including the read back into JS (ms). */
  msWithRead: number | null;
  tflops: number | null;
  note: string;
}

const rows: Row[] = [];
const now = () => performance.now();
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

let backend: WebGPUBackend;
/** Rate measured so far (FLOP/s), to estimate whether the next case fits the budget. */
let observedRate = 0;

async function sync(): Promise<void> {
  await backend.sync();
}

/**
 * Time `call` (which records GPU work and returns the tensor a user would read).
 * Returns null and a note when the estimated time exceeds the budget.
 */
async function timeKernel(flops: number, call: () => ck.Tensor): Promise<{ ms: number; msWithRead: number } | string> {
  if (observedRate > 0 && (flops / observedRate) * 9 > budget) {
    return `skipped: about ${((flops / observedRate) * 9).toFixed(0)} s at the ${(observedRate / 1e9).toFixed(2)} GFLOP/s measured so far (budget ${budget} s)`;
  }
  for (let i = 0; i < 2; i++) ck.tidy(() => void call());
  await sync();
  const t0 = now();
  const y = call();
  await y.data();
  const msWithRead = now() - t0;
  y.dispose();
  const single = msWithRead / 1000;
  const reps = Math.max(1, Math.min(50, Math.floor(0.25 / Math.max(single, 1e-4))));
  const batches: number[] = [];
  for (let b = 0; b < (single > 2 ? 1 : 5); b++) {
    await sync();
    const t = now();
    for (let r = 0; r < reps; r++) ck.tidy(() => void call());
    await sync();
    batches.push((now() - t) / reps);
  }
  const ms = median(batches);
  observedRate = Math.max(observedRate, flops / (ms / 1000));
  return { ms, msWithRead };
}

function include(group: string, name: string, shape: string): boolean {
  return !filter || `${group} ${name} ${shape}`.includes(filter);
}

async function record(group: string, name: string, shape: string, flops: number, call: () => ck.Tensor): Promise<void> {
  if (!include(group, name, shape)) return;
  const r = await timeKernel(flops, call);
  const row: Row = typeof r === 'string'
    ? { group, case: name, shape, flops, ms: null, msWithRead: null, tflops: null, note: r }
    : { group, case: name, shape, flops, ms: r.ms, msWithRead: r.msWithRead, tflops: flops / (r.ms / 1000) / 1e12, note: '' };
  rows.push(row);
  print(row);
}

function print(r: Row): void {
  const f = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  console.log(`${r.case.padEnd(34)} ${r.shape.padEnd(34)} ${f(r.ms).padStart(10)} ms ${f(r.msWithRead).padStart(10)} ms ${(r.tflops === null ? '-' : r.tflops.toFixed(4)).padStart(9)} TFLOP/s ${r.note}`);
}

const randn = (shape: number[], seed: number) => ck.keep(ck.randomNormal(shape, { seed }));

async function gemm(): Promise<void> {
  const sizes = quick ? [256, 512] : [256, 512, 1024, 2048, 4096];
  for (const n of sizes) {
    const variants: [string, boolean, boolean][] = n >= 1024 && !quick ? [['NN', false, false], ['TN', true, false], ['NT', false, true]] : [['NN', false, false]];
    for (const [v, ta, tb] of variants) {
      if (!include('gemm', `matmul ${v} ${n}`, `${n}x${n}x${n}`)) continue;
      const a = randn([n, n], 1), b = randn([n, n], 2);
      await record('gemm', `matmul ${v} ${n}`, `${n}x${n}x${n}`, 2 * n ** 3, () => ck.matmul(a, b, { transposeA: ta, transposeB: tb }));
      a.dispose();
      b.dispose();
    }
  }
}

async function conv(): Promise<void> {
  for (const s of CONV_SHAPES) {
    const xs = [s.N, s.H, s.W, s.C], ws = [s.K, s.K, s.C, s.F];
    const info = computeConv2DInfo('bench', xs, ws, { padding: s.padding as Padding });
    const ys = [s.N, info.outH, info.outW, s.F];
    const flops = 2 * s.N * info.outH * info.outW * s.F * s.K * s.K * s.C;
    const shape = `x[${xs}] w[${ws}]`;
    const x = randn(xs, 1), w = randn(ws, 2), dy = randn(ys, 3);
    await record('conv2d forward', `conv2d ${s.label}`, shape, flops, () => ck.conv2d(x, w, { padding: s.padding }));
    await record('conv2d input gradient', `conv2d dx ${s.label}`, shape, flops, () => ck.runKernel('Conv2DBackpropInput', [dy, w], { conv: info })[0]);
    await record('conv2d filter gradient', `conv2d dw ${s.label}`, shape, flops, () => ck.runKernel('Conv2DBackpropFilter', [x, dy], { conv: info })[0]);
    for (const t of [x, w, dy]) t.dispose();
  }
}

async function trainStep(name: string, model: ck.Model, batch: number): Promise<void> {
  const shape = `batch ${batch} x [${model.inputShape}]`;
  if (!include('training step', name, shape)) return;
  const macs = model.summaryJSON().macs;
  const flops = 3 * 2 * macs * batch;
  if (observedRate > 0 && (flops / observedRate) * 4 > budget) {
    const row: Row = { group: 'training step', case: name, shape, flops, ms: null, msWithRead: null, tflops: null, note: `skipped: about ${((flops / observedRate) * 4).toFixed(0)} s at the ${(observedRate / 1e9).toFixed(2)} GFLOP/s measured so far (budget ${budget} s)` };
    rows.push(row);
    print(row);
    return;
  }
  const x = randn([batch, ...model.inputShape], 5);
  const labels = ck.keep(ck.tensor(Array.from({ length: batch }, (_, i) => (i * 7) % model.outputShape[model.outputShape.length - 1]), [batch], 'int32'));
  const opt = new ck.Adam({ lr: 1e-3 });
  const params = model.trainableWeights;
  const step = async () => {
    const loss = ck.tidy(() => {
      const l = ck.softmaxCrossEntropy(model.apply(x, { training: true }), labels);
      l.backward();
      return l;
    });
    opt.step(params);
    opt.zeroGrad(params);
    const v = (await loss.data())[0];
    loss.dispose();
    return v;
  };
  const first = await step(); // warm-up: pipelines, optimiser state
  if (!Number.isFinite(first)) throw new Error(`${name}: the loss is ${first}`);
  const times: number[] = [];
  const n = quick ? 2 : 5;
  let elapsed = 0;
  for (let i = 0; i < n && (i < 2 || elapsed < budget / 2); i++) {
    const t = now();
    await step();
    const dt = now() - t;
    times.push(dt);
    elapsed += dt / 1000;
  }
  const ms = median(times);
  const row: Row = { group: 'training step', case: name, shape, flops, ms, msWithRead: ms, tflops: flops / (ms / 1000) / 1e12, note: `${times.length} timed steps after 1 warm-up; loss ${first.toFixed(3)}` };
  rows.push(row);
  print(row);
  opt.dispose();
  x.dispose();
  labels.dispose();
}

async function main(): Promise<void> {
  try {
    await ck.setBackend('webgpu');
  } catch (e) {
    console.error(`bench:webgpu: ${(e as Error).message}\nOn a machine without a GPU, run with --swiftshader (a correctness device, not a speed one).`);
    process.exit(1);
  }
  backend = ck.backend() as unknown as WebGPUBackend;
  const device = onSwiftShader ? 'SwiftShader (Vulkan on the CPU, via Dawn)' : backend.adapterName;
  console.log(`convkit webgpu benchmark on ${device}${quick ? ' (quick)' : ''}; budget ${budget} s per case`);
  if (onSwiftShader) console.log('NOTE: SwiftShader is a CPU rasteriser: these numbers prove the cases run, not GPU speed.');
  console.log(`${'case'.padEnd(34)} ${'shape'.padEnd(34)} ${'per call'.padStart(13)} ${'with read'.padStart(13)} ${'rate'.padStart(17)}`);
  await gemm();
  await conv();
  await trainStep('LeNet-5 training step', ck.zoo.lenet5({ activation: 'relu', pooling: 'max' }), 32);
  if (!quick || filter) {
    const size = resnetSize;
    await trainStep(`ResNet-18 training step${size !== 224 ? ` (${size}x${size} input)` : ''}`, ck.zoo.resnet18({ inputShape: [size, size, 3] }), 32);
  }
  if (jsonFile) {
    writeFileSync(jsonFile, JSON.stringify({
      date: new Date().toISOString(), device, swiftshader: onSwiftShader, quick, budget,
      node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, rows,
    }, null, 2));
    console.log(`wrote ${jsonFile}`);
  }
}

await main();
