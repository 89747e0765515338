/**
 * convkit's webgpu backend in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core, WebGPU enabled by --enable-unsafe-webgpu). The page is served from
 * 127.0.0.1, a secure context; the library's TypeScript sources are transpiled one
 * module at a time as the browser imports them (native ES modules, no bundle), so the
 * test exercises the same import graph a bundler would. In the page: setBackend('webgpu')
 * finds navigator.gpu (the Node-only `webgpu` package is never requested), then a
 * batched matmul and a conv2d with its gradients run on the GPU; Node checks the numbers
 * against the ts oracle.
 *
 * Without a Chromium binary the test is skipped with the reason, unless
 * CONVKIT_REQUIRE_WEBGPU=1 or CONVKIT_REQUIRE_CHROMIUM=1 (CI), where that fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { mismatch, tolForK } from '../util/close.js';
import { rand } from '../util/rand.mjs';

const CHROMIUM = process.env.CONVKIT_CHROMIUM ?? '/usr/bin/chromium';
const required = process.env.CONVKIT_REQUIRE_WEBGPU === '1' || process.env.CONVKIT_REQUIRE_CHROMIUM === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !required) console.warn(`webgpu Chromium test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CONVKIT_CHROMIUM)`);

const ROOT = normalize(fileURLToPath(new URL('../..', import.meta.url)));
const requested = new Set<string>();

/** Serve the page, and src/**.ts as JavaScript modules under /src/**.js. */
function serve(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requested.add(url.pathname);
    if (url.pathname === '/') {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><meta charset="utf-8"><title>convkit webgpu</title><p>convkit webgpu test</p>');
      return;
    }
    const path = normalize(join(ROOT, url.pathname.replace(/\.js$/, '.ts')));
    if (!path.startsWith(join(ROOT, 'src')) || !existsSync(path)) {
      res.statusCode = 404;
      res.end(`not found: ${url.pathname}`);
      return;
    }
    const out = ts.transpileModule(readFileSync(path, 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
      fileName: path,
    });
    res.setHeader('content-type', 'text/javascript');
    res.end(out.outputText);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const A = { shape: [2, 33, 20], values: Array.from(rand(2 * 33 * 20, 1)) };
const B = { shape: [20, 17], values: Array.from(rand(20 * 17, 2)) };
const X = { shape: [2, 9, 9, 3], values: Array.from(rand(2 * 9 * 9 * 3, 3)) };
const W = { shape: [3, 3, 3, 5], values: Array.from(rand(3 * 3 * 3 * 5, 4)) };

/** What the page computes (also run in Node on ts for the expected numbers). */
type Lib = typeof ck;
function compute(lib: Lib) {
  const a = lib.tensor(A.values, A.shape), b = lib.tensor(B.values, B.shape);
  const x = lib.tensor(X.values, X.shape), w = lib.tensor(W.values, W.shape);
  const mm = lib.matmul(a, b);
  const f = (xx: ck.Tensor, ww: ck.Tensor) => lib.sum(lib.square(lib.conv2d(xx, ww, { strides: 2, padding: 'same' })));
  const { value, grads } = lib.valueAndGrad(f)(x, w);
  return [mm, value, grads[0], grads[1]];
}

let server: http.Server | null = null;
let tmpProfile = '';

describe.skipIf(!haveChromium && !required)('webgpu in headless Chromium', () => {
  beforeAll(async () => {
    server = await serve();
    tmpProfile = mkdtempSync(join(tmpdir(), 'convkit-chromium-'));
  });
  afterAll(() => {
    server?.close();
    if (tmpProfile) rmSync(tmpProfile, { recursive: true, force: true });
  });

  it('runs matmul and conv2d (forward and gradients) on navigator.gpu and matches the ts oracle', async () => {
    expect(haveChromium, `no Chromium at ${CHROMIUM}`).toBe(true);
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(tmpProfile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const port = (server!.address() as AddressInfo).port;
      await page.goto(`http://127.0.0.1:${port}/`);
      // A string, not a function: vitest rewrites import() inside functions for Node.
      const script = `(async () => {
        const lib = await import('/src/index.js');
        await lib.setBackend('webgpu');
        const inputs = ${JSON.stringify({ A, B, X, W })};
        const compute = new Function('lib', 'inputs', 'const { A, B, X, W } = inputs; return (' + ${JSON.stringify(compute.toString())} + ')(lib);');
        const outs = compute(lib, inputs);
        const values = await Promise.all(outs.map(async (t) => ({ shape: t.shape, on: t.backend.name, values: Array.from(await t.data()) })));
        let syncError = '';
        try { outs[0].dataSync(); } catch (e) { syncError = e.message; }
        return { backend: lib.getBackend(), values, syncError, secure: window.isSecureContext };
      })()`;
      const result = (await page.evaluate(script)) as {
        backend: string;
        values: { shape: number[]; on: string; values: number[] }[];
        syncError: string;
        secure: boolean;
      };
      expect(errors).toEqual([]);
      expect(result.secure).toBe(true);
      expect(result.backend).toBe('webgpu');
      expect(result.syncError).toMatch(/await tensor.data\(\)/);
      const expected = ck.withBackend('ts', () => compute(ck));
      const tols = [tolForK(20), { atol: 1e-3, rtol: 1e-4 }, tolForK(2 * 5 * 27), tolForK(2 * 5 * 5 * 5)];
      result.values.forEach((r, i) => {
        expect(r.on).toBe('webgpu');
        expect(r.shape).toEqual(expected[i].shape);
        const m = mismatch(r.values, expected[i].dataSync(), tols[i]);
        expect(m, `output ${i}`).toBeNull();
      });
      // The browser found navigator.gpu: the Node package was never requested.
      expect([...requested].some((p) => p.includes('webgpu/index.js'))).toBe(true);
      expect([...requested].some((p) => p.includes('node_modules'))).toBe(false);
    } finally {
      await context.close();
    }
  });
});
