/**
 * The wasm backend in a real browser: src is compiled to plain ES modules (TypeScript's
 * transpiler, file by file, into a temporary directory), served from 127.0.0.1, and
 * loaded by headless Debian Chromium through playwright-core. The page switches to
 * `wasm` (asynchronous instantiation of the inlined module, as browsers require), runs
 * a conv2d + bias + relu + maxPool2d forward and the conv gradients on wasm and on ts,
 * and reports the differences, the build variant and the fallbacks.
 *
 * Skipped, with the reason printed, only when /usr/bin/chromium is absent (CI installs
 * Debian's chromium package).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const CHROMIUM = '/usr/bin/chromium';
const SRC = resolve(__dirname, '../../src');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`wasm browser test skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

/** Transpile every .ts under src (cli excepted: it is Node-only) to ES2022 modules under outDir. */
function compileSrc(outDir: string): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? (f === 'cli' ? [] : walk(p)) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
  for (const file of walk(SRC)) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const dest = join(outDir, relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>convkit wasm</title>
<script type="module">
import * as ck from './esm/index.js';
function rand(n, seed, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; a[i] = lo + (s / 4294967296) * (hi - lo); }
  return a;
}
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
  await ck.setBackend('wasm');
  const be = ck.getBackend();
  await ck.setBackend('ts');
  ck.clearFallbacks();
  const got = run('wasm');
  const fallbacks = ck.getFallbacks();
  const want = run('ts');
  window.__result = {
    ok: true, variant: be.variant, fallbacks, n: got.y.length,
    y: maxRel(got.y, want.y), loss: Math.abs(got.loss - want.loss) / Math.max(1, Math.abs(want.loss)),
    dx: maxRel(got.dx, want.dx), dw: maxRel(got.dw, want.dw),
  };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}
</script>`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

describe.skipIf(!haveChromium)('wasm backend in headless Chromium', () => {
  let dir = '';
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convkit-browser-'));
    compileSrc(join(dir, 'esm'));
    writeFileSync(join(dir, 'index.html'), PAGE);
    server = createServer((req, res) => {
      const path = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]));
      const file = path.endsWith('/') ? join(path, 'index.html') : path;
      if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('conv2d forward and gradients on wasm match ts inside the browser, with no fallback', async () => {
    const { chromium } = await import('playwright-core');
    const profile = join(dir, 'profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
      expect(errors).toEqual([]);
      expect(r.error ?? null).toBeNull();
      expect(r.ok).toBe(true);
      // Chromium runs relaxed SIMD, so the page exercises the relaxed build
      expect(['relaxed', 'simd']).toContain(r.variant);
      expect(r.fallbacks).toEqual([]);
      expect(r.n).toBe(2 * 5 * 5 * 7);
      // conv sums K = 3*3*5 = 45 products; gradients sum over windows and the batch
      expect(r.y as number).toBeLessThan(1e-4);
      expect(r.loss as number).toBeLessThan(1e-4);
      expect(r.dx as number).toBeLessThan(1e-4);
      expect(r.dw as number).toBeLessThan(1e-4);
      console.log(`browser: wasm variant ${r.variant}, max rel diff y ${r.y}, dx ${r.dx}, dw ${r.dw}`);
    } finally {
      await context.close();
    }
  });
});
