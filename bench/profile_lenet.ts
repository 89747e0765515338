// Development aid: per-kernel time of one LeNet-5 training step on the wasm backend
// (`node build/bench/bench/profile_lenet.js [--shapes]`). Wraps every registered wasm
// kernel; --shapes splits each kernel's time by the shapes of its inputs.
import * as ck from '../src/index.js';
import { cases } from './cases.js';

const byShape = process.argv.includes('--shapes');
const stats = new Map<string, { n: number; ms: number }>();
ck.wrapKernels('wasm', (name, run) => (i, a, b) => {
  const t0 = performance.now();
  const r = run(i, a, b);
  const key = byShape ? `${name} ${i.map((t) => `[${t.shape.join(',')}]`).join(' ')}` : name;
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += performance.now() - t0;
  stats.set(key, s);
  return r;
});
ck.setBackendSync('wasm');
const c = cases(true).find((x) => x.name.startsWith('LeNet'))!;
const p = c.prepare({ id: 'convkit-wasm', lib: 'convkit', backend: 'wasm', slow: false });
if (typeof p === 'string') throw new Error(p);
for (let i = 0; i < 20; i++) p.run();
stats.clear();
ck.clearFallbacks();
const reps = 20;
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < reps; i++) p.run();
const cpu = process.cpuUsage(c0);
const wall = (performance.now() - t0) / reps;
let kern = 0;
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [k, s] of rows) kern += s.ms;
console.log(`step: wall ${wall.toFixed(2)} ms, cpu ${((cpu.user + cpu.system) / 1000 / reps).toFixed(2)} ms, in kernels ${(kern / reps).toFixed(2)} ms`);
for (const [k, s] of rows) console.log(`${k.padEnd(byShape ? 60 : 28)} ${(s.ms / reps).toFixed(3).padStart(8)} ms/step  ${(s.n / reps).toFixed(1)} calls`);
console.log('fallbacks:', ck.getFallbacks());
