/**
 * Inference of the same models in convkit and in onnxruntime-web, on the same number of
 * threads (default 1): `npm run bench:onnx [-- --quick] [-- --models resnet18,mobilenetV2,squeezenet1_1]
 * [-- --batches 1,8] [-- --size 224] [-- --threads N] [-- --settle-ms 30] [-- --cold] [-- --warmup-ms 1000] [-- --onnx-dir DIR] [-- --json FILE]`.
 *
 * Each zoo model (seeded random weights, 1000 classes) is exported with convkit's own
 * exporter (`ck.encodeOnnx`, NCHW input as PyTorch-style consumers take it) and run by
 * onnxruntime-web's wasm execution provider (numThreads 1, SIMD build); convkit runs the
 * model itself on the wasm backend, plain and relaxed SIMD. Both sides are timed the same
 * way: one call until the output is readable from JS (convkit: `predict` then `dataSync`;
 * onnxruntime: `session.run` resolving with its tensor), after a warm-up of each runtime
 * (`--warmup-ms`, default 1000, at least two calls: V8 compiles convkit's JavaScript, the
 * dispatch and graph code, over the first tens of calls; MobileNetV3-Small at batch 1 took
 * 15 ms on the second call, 7-8 ms around the tenth and 5.5 ms after thirty), the
 * median of interleaved rounds (convkit plain, relaxed, onnxruntime, repeated) so load on
 * this shared machine hits every column alike. The first output of each is compared
 * (same model, same weights) so the rows time the same function. With --onnx-dir, the
 * files in DIR (torchvision's models as scripts/onnx/export_torch.py --full writes them)
 * are run instead: onnxruntime runs each file, convkit the model `ck.loadOnnx` makes of it.
 *
 * With threads, each runtime's timed call comes after a pause (`--settle-ms`: onnxruntime's
 * workers spin for 15-20 ms after a call, convkit's for 1 ms, and a spinning thread of one
 * runtime would take a core from the other) and one untimed call of the same runtime, so
 * both are timed with their threads awake, as in a loop of calls. `--cold` drops that call:
 * each timed call then also pays for waking its threads (and this VM's idle vCPU) after the
 * pause, which the two runtimes do very differently (onnxruntime's spinning keeps its threads
 * awake through short pauses; convkit's sleep after 1 ms, WasmBackend.spinMs).
 *
 * Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd: the script
 * re-executes itself with the flag, as bench/run.ts does.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import * as ck from '../src/index.js';
import { registerWasmVariant, wasmVariantSupported } from '../src/backends/wasm/index.js';
import { flag, opt, reexecWithRelaxedSimd } from './args.js';

if (flag('--help')) {
  console.log('usage: npm run bench:onnx -- [--quick] [--models a,b] [--batches 1,8] [--size 224] [--threads N] [--settle-ms 30] [--cold] [--warmup-ms 1000] [--onnx-dir DIR] [--json FILE]');
  process.exit(0);
}
reexecWithRelaxedSimd();

const quick = flag('--quick');
const models = (opt('--models') ?? 'resnet18,mobilenetV2,squeezenet1_1').split(',');
const batches = (opt('--batches') ?? (quick ? '1' : '1,8')).split(',').map(Number);
const size = Number(opt('--size') ?? 224);
const rounds = quick ? 5 : 11;
// Both sides on the same thread count (convkit's wasm instances default to all cores, so it is set here).
const threads = Number(opt('--threads') ?? 1);
if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`--threads must be a positive integer, received ${opt('--threads')}`);
// With threads: the pause before each timed call (ms), for the other runtime's workers to stop spinning.
const settleMs = Number(opt('--settle-ms') ?? 30);
const cold = flag('--cold');
const warmupMs = Number(opt('--warmup-ms') ?? 1000);
if (!Number.isFinite(warmupMs) || warmupMs < 0) throw new RangeError(`--warmup-ms must be a number >= 0, received ${opt('--warmup-ms')}`);
if (!Number.isFinite(settleMs) || settleMs < 0) throw new RangeError(`--settle-ms must be a number >= 0, received ${opt('--settle-ms')}`);

registerWasmVariant('wasm-simd', 'simd', threads);
const relaxedOk = wasmVariantSupported('relaxed');
if (relaxedOk) registerWasmVariant('wasm-relaxed', 'relaxed', threads);

// onnxruntime-web (devDependency): the wasm execution provider, in Node.
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = threads;

interface Row {
  model: string;
  batch: number;
  convkitMs: number;
  convkitRelaxedMs: number | null;
  ortMs: number;
  /** onnxruntime time / convkit time (above 1: convkit is faster). */
  speedup: number;
  speedupRelaxed: number | null;
  maxAbsDiff: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function randomInput(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** NCHW values -> NHWC values (convkit's layout). */
function toNHWC(v: Float32Array, N: number, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = v[((n * C + c) * H + h) * W + w];
  }
  return out;
}

const rows: Row[] = [];
console.log('| model | batch | convkit wasm ms | convkit relaxed ms | onnxruntime-web ms | ort / convkit | ort / relaxed | max abs diff |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
// --onnx-dir DIR: the torchvision files scripts/onnx/export_torch.py --full DIR writes
// (<name>.onnx, NCHW, dynamic batch), imported by convkit and run as they are by onnxruntime.
const onnxDir = opt('--onnx-dir');
const sources = onnxDir
  ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')).sort().map((f) => ({ name: `torchvision ${f.replace(/\.onnx$/, '')}`, file: join(onnxDir, f) }))
  : models.map((name) => ({ name, file: '' }));
for (const { name, file } of sources) {
  // the zoo model itself, or the model convkit imports from the file: one instance per
  // backend, its weights made there (seeded: the same values), since a kernel copies every
  // input stored on another backend on every call (the relaxed column of earlier runs paid
  // for a copy of all the weights per call)
  const make = () => (file ? ck.loadOnnx(new Uint8Array(readFileSync(file)), { name: file }) : ck.zoo.get(name, { classes: 1000, inputShape: [size, size, 3], seed: 1 }));
  const onBackend = (backend: string) => ck.withBackend(backend, () => {
    const model = make();
    for (const w of model.weights) void w.value;
    return model;
  });
  const models: Record<string, ck.Model> = { 'wasm-simd': onBackend('wasm-simd'), ...(relaxedOk ? { 'wasm-relaxed': onBackend('wasm-relaxed') } : {}) };
  const m = models['wasm-simd'];
  const bytes = file ? new Uint8Array(readFileSync(file)) : ck.encodeOnnx(m, { inputLayout: 'NCHW' });
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inName = session.inputNames[0], outName = session.outputNames[0];
  for (const batch of batches) {
    const nchw = randomInput(batch * 3 * size * size, 7 + batch);
    const nhwc = toNHWC(nchw, batch, 3, size, size);
    const feeds = { [inName]: new ort.Tensor('float32', nchw, [batch, 3, size, size]) };
    const runConvkit = (backend: string): Float32Array =>
      ck.withBackend(backend, () => ck.tidy(() => models[backend].predict(ck.tensor(nhwc, [batch, size, size, 3])).dataSync() as Float32Array).slice());
    const runOrt = async (): Promise<Float32Array> => (await session.run(feeds))[outName].data as Float32Array;
    // warm-up (and the outputs compared): each runtime runs for warmupMs (at least 2 calls)
    const warm = async (f: () => unknown): Promise<void> => {
      const t0 = performance.now();
      for (let i = 0; i < 2 || performance.now() - t0 < warmupMs; i++) await f();
    };
    const want = await runOrt();
    await warm(runOrt);
    const got = runConvkit('wasm-simd');
    await warm(() => runConvkit('wasm-simd'));
    if (relaxedOk) await warm(() => runConvkit('wasm-relaxed'));
    let maxAbsDiff = 0;
    for (let i = 0; i < want.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(want[i] - got[i]));
    const t = { plain: [] as number[], relaxed: [] as number[], ort: [] as number[] };
    // With threads: a pause keeps one runtime's spinning threads off the cores the next one
    // is timed on, then an untimed call wakes the timed runtime's threads (see the top)
    const settle = async (wake: () => unknown): Promise<void> => {
      if (threads === 1) return;
      await new Promise((r) => setTimeout(r, settleMs));
      if (!cold) await wake();
    };
    for (let r = 0; r < rounds; r++) {
      await settle(() => runConvkit('wasm-simd'));
      let t0 = performance.now();
      runConvkit('wasm-simd');
      t.plain.push(performance.now() - t0);
      if (relaxedOk) {
        await settle(() => runConvkit('wasm-relaxed'));
        t0 = performance.now();
        runConvkit('wasm-relaxed');
        t.relaxed.push(performance.now() - t0);
      }
      await settle(runOrt);
      t0 = performance.now();
      await runOrt();
      t.ort.push(performance.now() - t0);
    }
    const row: Row = {
      model: name, batch,
      convkitMs: median(t.plain), convkitRelaxedMs: relaxedOk ? median(t.relaxed) : null, ortMs: median(t.ort),
      speedup: 0, speedupRelaxed: null, maxAbsDiff,
    };
    row.speedup = row.ortMs / row.convkitMs;
    row.speedupRelaxed = row.convkitRelaxedMs ? row.ortMs / row.convkitRelaxedMs : null;
    rows.push(row);
    const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
    console.log(`| ${name} | ${batch} | ${f(row.convkitMs)} | ${f(row.convkitRelaxedMs)} | ${f(row.ortMs)} | ${row.speedup.toFixed(2)}x | ${row.speedupRelaxed?.toFixed(2) ?? '-'}x | ${maxAbsDiff.toExponential(1)} |`);
  }
  await session.release();
  for (const model of Object.values(models)) model.dispose();
}

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`;
console.log(`\nmachine: ${machine}; onnxruntime-web wasm, numThreads ${threads}; convkit wasm (plain / relaxed SIMD), ${threads} thread(s); ${size}x${size}, ${warmupMs} ms warm-up, ${rounds} rounds${threads > 1 ? `; ${settleMs} ms pause before each timed call${cold ? ' (cold: no untimed call after it)' : ', then one untimed call'}` : ''}`);
const jsonFile = opt('--json');
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ date: new Date().toISOString(), machine, threads, size, warmupMs, rounds, settleMs: threads > 1 ? settleMs : 0, cold: threads > 1 && cold, rows }, null, 2));
