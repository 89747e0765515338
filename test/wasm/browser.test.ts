/**
 * The wasm backend in a real browser: src is compiled to plain ES modules (TypeScript's
 * transpiler, file by file, into a temporary directory), served from 127.0.0.1, and
 * loaded by headless Debian Chromium through playwright-core. The page switches to
 * `wasm` (asynchronous instantiation of the inlined module, as browsers require), runs
 * a conv2d + bias + relu + maxPool2d forward and the conv gradients on wasm and on ts,
 * and reports the differences, the build variant and the fallbacks.
 *
 * The harness is test/util/browser.ts.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, runPage } from '../util/browser.js';
import { rand } from '../util/rand.mjs';

const haveChromium = chromiumAvailable('wasm browser test');

const PAGE = `<!doctype html><meta charset="utf-8"><title>convkit wasm</title>
<script type="module">
import * as ck from './esm/index.js';
${rand.toString()}
function run(backend) {
  return ck.withBackend(backend, () => ck.tidy(() => {
    const x = ck.tensor(rand(2 * 11 * 9 * 5, 1), [2, 11, 9, 5]);
    const w = ck.tensor(rand(3 * 3 * 5 * 7, 2), [3, 3, 5, 7]);
    const b = ck.tensor(rand(7, 3), [7]);
    x.requiresGrad = true; w.requiresGrad = true;
    const f = (xx, ww) => ck.sum(ck.square(ck.maxPool2d(ck.relu(ck.conv2d(xx, ww, { strides: 1, padding: 'same', bias: b })), { size: 2 })));
    const { value, grads } = ck.valueAndGrad(f)(x, w);
    const y = ck.conv2d(x, w, { strides: [2, 1], padding: 'valid', dilations: [1, 2] });
    return { y: Array.from(y.dataSync()), loss: value.item(), dx: Array.from(grads[0].dataSync()), dw: Array.from(grads[1].dataSync()) };
  }));
}
const maxRel = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);
try {
  // The default backend: wasm once ready() has compiled it (before that, wasm if this engine compiles
  // the module synchronously on the main thread, else ts).
  const defaultBefore = ck.getBackend();
  const readyName = await ck.ready();
  const defaultAfter = ck.getBackend();
  await ck.setBackend('wasm');
  const be = ck.backend();
  await ck.setBackend('ts');
  ck.clearFallbacks();
  const got = run('wasm');
  const fallbacks = ck.getFallbacks();
  const want = run('ts');
  window.__result = {
    ok: true, variant: be.variant, fallbacks, n: got.y.length, defaultBefore, readyName, defaultAfter,
    y: maxRel(got.y, want.y), loss: Math.abs(got.loss - want.loss) / Math.max(1, Math.abs(want.loss)),
    dx: maxRel(got.dx, want.dx), dw: maxRel(got.dw, want.dw),
  };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}
</script>`;

describe.skipIf(!haveChromium)('wasm backend in headless Chromium', () => {
  it('conv2d forward and gradients on wasm match ts inside the browser, with no fallback', async () => {
    const { result: r, errors } = await runPage(PAGE);
    expect(errors).toEqual([]);
    expect(r.error ?? null).toBeNull();
    expect(r.ok).toBe(true);
    // Chromium runs relaxed SIMD, so the page exercises the relaxed build
    expect(['relaxed', 'simd']).toContain(r.variant);
    expect(r.fallbacks).toEqual([]);
    expect(r.n).toBe(2 * 5 * 5 * 7);
    // the fastest CPU backend is the default once ready() has compiled it (webgpu stays opt-in)
    expect(['ts', 'wasm']).toContain(r.defaultBefore);
    expect(r.readyName).toBe('wasm');
    expect(r.defaultAfter).toBe('wasm');
    // conv sums K = 3*3*5 = 45 products; gradients sum over windows and the batch
    expect(r.y as number).toBeLessThan(1e-4);
    expect(r.loss as number).toBeLessThan(1e-4);
    expect(r.dx as number).toBeLessThan(1e-4);
    expect(r.dw as number).toBeLessThan(1e-4);
    console.log(`browser: default before ready() ${r.defaultBefore}, wasm variant ${r.variant}, max rel diff y ${r.y}, dx ${r.dx}, dw ${r.dw}`);
  });

  // Threads: a page served with COOP/COEP is cross-origin isolated, so the backend runs on
  // workers over a shared memory (and the main thread, which may not Atomics.wait, spins);
  // without those headers it runs on one thread and says once why and how to enable threads.
  const THREADS_PAGE = `<!doctype html><meta charset="utf-8"><title>convkit wasm threads</title>
<script type="module">
import * as ck from './esm/index.js';
${rand.toString()}
function run(backend) {
  return ck.withBackend(backend, () => ck.tidy(() => {
    const a = ck.tensor(rand(192 * 256, 1), [192, 256]);
    const b = ck.tensor(rand(256 * 160, 2), [256, 160]);
    const x = ck.tensor(rand(4 * 24 * 24 * 16, 3), [4, 24, 24, 16]);
    const w = ck.tensor(rand(3 * 3 * 16 * 24, 4), [3, 3, 16, 24]);
    const f = (xx, ww) => ck.sum(ck.square(ck.conv2d(xx, ww, { padding: 'same' })));
    const { grads } = ck.valueAndGrad(f)(x, w);
    return { y: Array.from(ck.matmul(a, b).dataSync()), dx: Array.from(grads[0].dataSync()), dw: Array.from(grads[1].dataSync()) };
  }));
}
const maxRel = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);
try {
  await ck.setBackend('wasm', { threads: 2 });
  const info = ck.backendInfo();
  const before = ck.backend().threadedCalls;
  const got = run('wasm');
  const threaded = ck.backend().threadedCalls - before;
  const want = run('ts');
  window.__result = { ok: true, isolated: self.crossOriginIsolated, info, threaded, y: maxRel(got.y, want.y), dx: maxRel(got.dx, want.dx), dw: maxRel(got.dw, want.dw) };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}
</script>`;

  it('threads: a cross-origin isolated page (COOP/COEP) runs on 2 threads, results match ts', async () => {
    const { result: r, errors } = await runPage(THREADS_PAGE, {
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    });
    expect(errors).toEqual([]);
    expect(r.error ?? null).toBeNull();
    expect(r.isolated).toBe(true);
    expect(r.info).toMatchObject({ name: 'wasm', threads: 2 });
    expect(r.threaded as number).toBeGreaterThan(0);
    // y sums K = 256 products, dx 3*3*24 = 216, dw the 4*24*24 = 2304 pixels: 1e-5 * sqrt(K)
    for (const [k, K] of [['y', 256], ['dx', 216], ['dw', 2304]] as const) expect(r[k] as number, k).toBeLessThan(1e-5 * Math.sqrt(K));
  });

  it('threads: a page without COOP/COEP runs on 1 thread and says why, once', async () => {
    const { result: r, errors, console: lines } = await runPage(THREADS_PAGE);
    expect(errors).toEqual([]);
    expect(r.error ?? null).toBeNull();
    expect(r.isolated).toBe(false);
    expect(r.info).toMatchObject({ name: 'wasm', threads: 1, threadsRequested: 2 });
    const notices = lines.filter((l) => l.includes('running on 1 thread'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    // y sums K = 256 products, dx 3*3*24 = 216, dw the 4*24*24 = 2304 pixels: 1e-5 * sqrt(K)
    for (const [k, K] of [['y', 256], ['dx', 216], ['dw', 2304]] as const) expect(r[k] as number, k).toBeLessThan(1e-5 * Math.sqrt(K));
  });
});
