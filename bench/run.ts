/**
 * convkit benchmarks: `npm run bench [-- --quick] [-- --json FILE] [-- --filter TEXT]`.
 *
 * Rows: implementation (convkit-wasm, convkit-wasm-relaxed, convkit-ts, tfjs-wasm,
 * tfjs-cpu, and convkit-wasm-mt, convkit-wasm-relaxed-mt: the same builds on all cores,
 * `--threads N` for another count), case, shape, threads, median ms, GFLOP/s or GB/s, and
 * the ratio to tfjs-wasm (tfjs-wasm median / this median: above 1 is faster than
 * tfjs-wasm). Every timed call ends with the result readable from JS (convkit
 * dataSync(), tfjs dataSync()), after warm-up (WASM runs on V8's baseline compiler
 * first). The single-thread rows of both WASM libraries run on one thread; the -mt rows
 * compare against them (convkit's threaded kernels give bitwise the same results). Slow implementations (convkit-ts, tfjs-cpu) are left out of cases that
 * would take too long per call, and say so. Implementations are timed in interleaved
 * rounds (see runCase), so machine load hits them alike.
 *
 * Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd: the script
 * restarts itself with that flag when the engine lacks it.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import * as ck from '../src/index.js';
import { registerWasmVariant, wasmVariantSupported } from '../src/backends/wasm/index.js';
import { cases, setReadBack, type Alternative, type Impl, type Prepared } from './cases.js';
import { useTfBackend } from './peers.js';
import { flag, opt, reexecWithRelaxedSimd } from './args.js';

if (flag('--help')) {
  console.log('usage: npm run bench -- [--quick] [--json FILE] [--filter TEXT[|TEXT...]] [--impl a,b] [--kernel-only] [--threads N]');
  process.exit(0);
}

reexecWithRelaxedSimd();

const quick = flag('--quick');
setReadBack(!flag('--kernel-only'));
const jsonFile = opt('--json');
const filter = opt('--filter');
const only = opt('--impl')?.split(',');

/** Threads of the -mt rows: --threads N, else every core this process may use. */
const mtThreads = Number(opt('--threads') ?? os.availableParallelism());
registerWasmVariant('wasm-simd', 'simd', 1);
registerWasmVariant('wasm-simd-mt', 'simd', mtThreads);
const relaxedOk = wasmVariantSupported('relaxed');
if (relaxedOk) {
  registerWasmVariant('wasm-relaxed', 'relaxed', 1);
  registerWasmVariant('wasm-relaxed-mt', 'relaxed', mtThreads);
}

const impls: Impl[] = [
  { id: 'convkit-wasm', lib: 'convkit', backend: 'wasm-simd', slow: false },
  { id: 'convkit-wasm-relaxed', lib: 'convkit', backend: 'wasm-relaxed', slow: false, unavailable: relaxedOk ? undefined : 'engine lacks relaxed SIMD' },
  { id: 'convkit-wasm-mt', lib: 'convkit', backend: 'wasm-simd-mt', slow: false },
  { id: 'convkit-wasm-relaxed-mt', lib: 'convkit', backend: 'wasm-relaxed-mt', slow: false, unavailable: relaxedOk ? undefined : 'engine lacks relaxed SIMD' },
  { id: 'convkit-ts', lib: 'convkit', backend: 'ts', slow: true },
  { id: 'tfjs-wasm', lib: 'tfjs', backend: 'wasm', slow: false },
  { id: 'tfjs-cpu', lib: 'tfjs', backend: 'cpu', slow: true },
].filter((i) => !only || only.includes(i.id)) as Impl[];

// Budgets. Slow implementations skip cases above a work estimate, or whose first call is too slow.
const budget = quick
  ? { time: 100, warmupTime: 40, iterations: 3, warmupIterations: 2, slowFlops: 6e7, slowFirstCallMs: 300 }
  : { time: 1000, warmupTime: 300, iterations: 10, warmupIterations: 5, slowFlops: 4e9, slowFirstCallMs: 4000 };

interface Row {
  impl: string;
  group: string;
  case: string;
  shape: string;
  /** Threads the implementation ran on (convkit: what the backend reports; the peers run on one). */
  threads: number;
  medianMs: number | null;
  rate: number | null;
  unit: string;
  ratioToTfjsWasm: number | null;
  samples: number;
  note: string;
}
const rows: Row[] = [];

function fmt(x: number | null, digits = 2): string {
  if (x === null || !Number.isFinite(x)) return '';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(digits);
}

async function switchTo(impl: Impl): Promise<string | null> {
  if (impl.unavailable) return impl.unavailable;
  if (impl.lib === 'convkit') {
    await ck.setBackend(impl.backend);
    return null;
  }
  return useTfBackend(impl.backend as 'wasm' | 'cpu');
}

/**
 * Time one case. The implementations compared against tfjs-wasm run in interleaved
 * rounds (each round times every implementation once, in rotating order) and report
 * the median of their round medians: on a shared, noisy machine this keeps a load
 * spike from landing on one implementation only. tfjs-cpu (another tfjs backend, whose
 * tensors cannot share the rounds) runs on its own afterwards.
 */
/** FLOP per ms each implementation reached in each group: predicts when a slow one would take too long. */
const rateSeen = new Map<string, number>();

async function runCase(c: ReturnType<typeof cases>[number]): Promise<Row[]> {
  const caseRows = new Map<string, Row>();
  const live: { impl: Impl; row: Row; prep: Prepared; first: number; samples: number[] }[] = [];
  const prepareOne = async (impl: Impl, alt?: Alternative) => {
    const id = alt ? `${impl.id} [${alt.label}]` : impl.id;
    const row: Row = { impl: id, group: c.group, case: c.name, shape: c.shape, threads: 1, medianMs: null, rate: null, unit: c.flops ? 'GFLOP/s' : c.bytes ? 'GB/s' : '', ratioToTfjsWasm: null, samples: 0, note: '' };
    caseRows.set(id, row);
    const why = await switchTo(impl);
    if (why) {
      row.note = `unavailable: ${why}`;
      return;
    }
    if (impl.lib === 'convkit') row.threads = Number(ck.backendInfo().threads ?? 1);
    if (impl.slow && c.flops && c.flops > budget.slowFlops) {
      row.note = `skipped: too slow (${(c.flops / 1e9).toFixed(1)} GFLOP per call)`;
      return;
    }
    if (impl.slow && quick && c.group === 'training') {
      row.note = 'skipped in --quick (seconds per step)';
      return;
    }
    const seen = rateSeen.get(`${impl.id} ${c.group}`);
    if (impl.slow && c.flops && seen && c.flops / seen > budget.slowFirstCallMs) {
      row.note = `skipped: too slow (about ${(c.flops / seen / 1000).toFixed(0)} s per call at its ${(seen / 1e6).toFixed(2)} GFLOP/s on the previous case)`;
      return;
    }
    let prep: Prepared | string;
    try {
      prep = (alt ?? c).prepare(impl);
    } catch (e) {
      row.note = `error: ${(e as Error).message.slice(0, 120)}`;
      return;
    }
    if (typeof prep === 'string') {
      row.note = prep;
      return;
    }
    try {
      ck.clearFallbacks();
      const t0 = performance.now();
      prep.run();
      const first = performance.now() - t0;
      if (c.flops) rateSeen.set(`${impl.id} ${c.group}`, c.flops / first);
      if (impl.slow && first > budget.slowFirstCallMs) {
        row.note = `skipped: too slow (first call ${(first / 1000).toFixed(1)} s)`;
        prep.cleanup();
        return;
      }
      if (impl.lib === 'convkit' && impl.backend !== 'ts') {
        const fb = ck.getFallbacks().filter((f) => f.from === impl.backend);
        if (fb.length) row.note = `ran on ts: ${fb.map((f) => `${f.kernel} (${f.reason})`).join(', ')}`;
      }
      live.push({ impl, row, prep, first, samples: [] });
    } catch (e) {
      row.note = `error: ${(e as Error).message.slice(0, 120)}`;
      prep.cleanup();
    }
  };
  const timeRounds = async (all: typeof live) => {
    let entries = all;
    if (quick) {
      // --quick: a call over a second is timed once (its first, warm-up call)
      for (const e of all.filter((x) => x.first > 1000)) {
        e.samples.push(e.first);
        e.row.samples = 1;
        e.row.note = e.row.note || 'one call (--quick)';
      }
      entries = all.filter((x) => x.first <= 1000);
    }
    const rounds = quick ? 2 : entries.some((e) => e.first > 1000) ? 3 : 5;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < entries.length; i++) {
        const e = entries[(i + round) % entries.length];
        if (e.row.note.startsWith('error')) continue;
        await switchTo(e.impl);
        const long = e.first > 1000, medium = e.first > 200;
        const bench = new Bench({
          time: budget.time / rounds,
          warmupTime: long || round > 0 ? 0 : budget.warmupTime,
          warmup: !long,
          iterations: long ? 1 : medium ? 2 : Math.max(2, Math.ceil(budget.iterations / rounds)),
          warmupIterations: round > 0 ? 1 : budget.warmupIterations,
        });
        bench.add(e.impl.id, e.prep.run);
        try {
          bench.runSync();
          const r = bench.tasks[0].result;
          if (r.state !== 'completed') throw (r as { error?: Error }).error ?? new Error(`tinybench state ${r.state}`);
          e.samples.push(r.latency.p50);
          e.row.samples += r.latency.samples?.length ?? 0;
        } catch (err) {
          e.row.note = `error: ${(err as Error).message.slice(0, 120)}`;
        }
      }
    }
    for (const e of all) {
      e.prep.cleanup();
      if (!e.samples.length) continue;
      const sorted = [...e.samples].sort((a, b) => a - b);
      e.row.medianMs = sorted[sorted.length >> 1];
      if (c.flops) {
        e.row.rate = c.flops / (e.row.medianMs * 1e6);
        rateSeen.set(`${e.impl.id} ${c.group}`, c.flops / e.row.medianMs);
      }
      else if (c.bytes) e.row.rate = c.bytes / (e.row.medianMs * 1e6);
    }
  };
  const interleaved = impls.filter((i) => i.id !== 'tfjs-cpu');
  for (const impl of interleaved) {
    await prepareOne(impl);
    // Another way of computing the case (a composite of primitive ops against a fused
    // kernel) joins the same interleaved rounds, so the ratio is not skewed by load.
    if (impl.lib === 'convkit') for (const alt of c.alternatives ?? []) await prepareOne(impl, alt);
  }
  await timeRounds(live.splice(0));
  for (const impl of impls.filter((i) => i.id === 'tfjs-cpu')) {
    await prepareOne(impl);
    await timeRounds(live.splice(0));
  }
  const rowsOut = [...caseRows.values()];
  const peer = caseRows.get('tfjs-wasm')?.medianMs ?? null;
  for (const r of rowsOut) if (peer !== null && r.medianMs !== null) r.ratioToTfjsWasm = peer / r.medianMs;
  for (const impl of interleaved) {
    const main = caseRows.get(impl.id)?.medianMs;
    for (const alt of c.alternatives ?? []) {
      const r = caseRows.get(`${impl.id} [${alt.label}]`);
      if (r && main && r.medianMs !== null) r.note = [r.note, `${(r.medianMs / main).toFixed(2)}x the time of ${impl.id}`].filter(Boolean).join('; ');
    }
  }
  return rowsOut;
}

const started = Date.now();
const loadBefore = os.loadavg();
for (const c of cases(quick)) {
  if (filter && !filter.split('|').some((f) => `${c.group} ${c.name} ${c.shape}`.includes(f))) continue;
  for (const r of await runCase(c)) {
    rows.push(r);
    console.log(
      `${r.case.padEnd(30)} ${r.shape.padEnd(30)} ${r.impl.padEnd(23)} ${String(r.threads).padStart(2)}t ` +
        (r.medianMs !== null ? `${fmt(r.medianMs, 3).padStart(9)} ms ${fmt(r.rate).padStart(7)} ${r.unit.padEnd(7)} x${fmt(r.ratioToTfjsWasm)}` : '') +
        (r.note ? `  ${r.note}` : ''),
    );
  }
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
  loadavgAfter: os.loadavg().map((x) => +x.toFixed(2)),
};
const date = new Date().toISOString();
const seconds = (Date.now() - started) / 1000;

// markdown table
const lines = [
  `| case | shape | implementation | threads | median ms | GFLOP/s or GB/s | vs tfjs-wasm | note |`,
  `|---|---|---|---:|---:|---:|---:|---|`,
  ...rows.map((r) => `| ${r.case} | ${r.shape} | ${r.impl} | ${r.threads} | ${fmt(r.medianMs, 3)} | ${r.rate !== null ? `${fmt(r.rate)} ${r.unit}` : ''} | ${r.ratioToTfjsWasm !== null ? `${fmt(r.ratioToTfjsWasm)}x` : ''} | ${r.note} |`),
];
console.log(`\n${quick ? 'quick' : 'full'} run${flag('--kernel-only') ? ' (kernel only: no read-back)' : ''}, ${date}, ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, load ${machine.loadavgBefore.join('/')} -> ${machine.loadavgAfter.join('/')}, ${seconds.toFixed(0)} s\n`);
console.log(lines.join('\n'));
if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({ date, mode: quick ? 'quick' : 'full', readBack: !flag('--kernel-only'), seconds, machine, rows }, null, 2) + '\n');
  console.log(`\nwrote ${jsonFile}`);
}
