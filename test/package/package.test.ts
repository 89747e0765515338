/**
 * The published package: `npm run build`'s output (dist/esm, one ES module build), loaded the
 * way users load it, in separate Node processes: `import 'convkit'`, `require('convkit')`
 * (Node >= 20.19 loads ES modules with require, so one build serves both), the `convkit` bin.
 * Also the package.json contract (entry points with type declarations, the bin, no runtime
 * dependencies).
 *
 * dist/ is rebuilt when it is missing or older than any source file (test/util/dist.ts, shared
 * with the examples' test), with `npm run build`'s scripts/build-dist.mjs (the WASM modules
 * are committed as generated TypeScript under src/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist } from '../util/dist.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Run Node in a separate process. */
function node(args: string[], cwd = root, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

// What both entry points must compute: every export's name and kind, a few ops, the wasm backend.
const PROBE = `
  const keys = Object.keys(ck).sort();
  const kinds = Object.fromEntries(keys.map((k) => [k, typeof ck[k]]));
  const defaultBackend = ck.getBackend();
  const y = ck.conv2d(ck.ones([1, 4, 4, 1]), ck.ones([3, 3, 1, 1]), { padding: 'same' });
  const w = ck.tensor([1, 2], [2], 'float64').requireGrad();
  ck.sum(ck.mul(w, w)).backward();
  const backends = ck.listBackends();
  const eagerWebgpu = typeof require === 'function' && Object.keys(require.cache).some((k) => k.includes('node_modules/webgpu/'));
  Promise.resolve(ck.setBackend('wasm')).then(() => {
    const z = ck.matmul(ck.tensor([[1, 2], [3, 4]]), ck.tensor([[5], [6]]));
    const gpu = process.env.PROBE_WEBGPU === '1' ? ck.setBackend('webgpu').then(() => 'ok', (e) => e.message) : Promise.resolve('not tried');
    return gpu.then((webgpu) => {
      console.log(JSON.stringify({ keys, kinds, defaultBackend, yBackend: y.backend.name, conv: Array.from(y.dataSync()), grad: w.grad.toArray(), backends,
        wasm: { backend: z.backend.name, values: Array.from(z.dataSync()) }, eagerWebgpu, webgpu: String(webgpu).slice(0, 300) }));
      process.exit(0);
    });
  }).catch((e) => { console.error(e); process.exit(3); });
`;
const esmProbe = (entry: string) => `import * as ck from ${JSON.stringify(entry)};\n${PROBE}`;
const cjsProbe = (entry: string) => `const ck = require(${JSON.stringify(entry)});\n${PROBE}`;

const dir = mkdtempSync(join(tmpdir(), 'convkit-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => ensureDist(), 400_000);

describe('package.json', () => {
  it('names convkit, has one ES module entry point (import and require) with declarations, a convkit bin, no runtime dependencies (optional peers only)', () => {
    expect(pkg.name).toBe('convkit');
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies === undefined || Object.keys(pkg.dependencies).length === 0).toBe(true);
    expect(pkg.optionalDependencies ?? {}).toEqual({});
    // A peer dependency is allowed only as an optional one (the 'webgpu' package for Node).
    for (const name of Object.keys(pkg.peerDependencies ?? {})) expect(pkg.peerDependenciesMeta?.[name]?.optional, `peer ${name} is optional`).toBe(true);
    const dot = pkg.exports['.'];
    const entries = [pkg.main, pkg.module, pkg.types, dot.default, dot.types, pkg.bin.convkit];
    expect(entries).toEqual(['./dist/esm/index.js', './dist/esm/index.js', './dist/esm/index.d.ts', './dist/esm/index.js', './dist/esm/index.d.ts', './dist/esm/cli/main.js']);
    for (const e of entries) expect(existsSync(join(root, e)), `${e} exists after the build`).toBe(true);
    // require() of an ES module needs Node 20.19 (or 22.12): the engines field says so.
    expect(pkg.engines.node).toBe('>=20.19');
    // datasets/ ships its README only: the digits are embedded in dist (src/data/generated), once.
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'datasets/README.md', 'README.md']));
    expect(pkg.scripts.test).toBe('vitest run');
    expect(pkg.scripts.build).toMatch(/node scripts\/build-dist\.mjs$/);
    expect(existsSync(join(root, 'dist/cjs')), 'no second (CommonJS) copy of the code').toBe(false);
    for (const d of ['src', 'test', 'bench', 'datasets']) expect(statSync(join(root, d)).isDirectory(), `${d}/`).toBe(true);
  });

  it('the benchmark scripts type-check (they are compiled only when run)', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'bench/tsconfig.json', '--noEmit'], { cwd: root, encoding: 'utf8' });
    expect(r.stdout + r.stderr, 'tsc -p bench/tsconfig.json').toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  it('type declarations cover the public API, with their doc comments; the JavaScript carries none', () => {
    const dts = readFileSync(join(root, 'dist/esm/index.d.ts'), 'utf8');
    expect(dts).toMatch(/export \* from '\.\/ops\/index\.js'/);
    const ops = readFileSync(join(root, 'dist/esm/ops/conv.d.ts'), 'utf8');
    expect(ops).toMatch(/export declare function conv2d\(x: Tensor, w: Tensor, opts\?: Conv2DOptions\): Tensor;/);
    expect(ops).toMatch(/\/\*\*[\s\S]*?\*\/\s*export declare function conv2d\(/);
    expect(existsSync(join(root, 'dist/esm/tensor/tensor.d.ts'))).toBe(true);
    expect(existsSync(join(root, 'dist/esm/autograd/reverse_mode.d.ts'))).toBe(true);
    expect(readFileSync(join(root, 'dist/esm/ops/conv.js'), 'utf8')).not.toMatch(/\/\*\*/);
  });
});

describe('loading the built package', () => {
  it('import (ESM) and require (CommonJS) expose the same API and compute the same values', () => {
    const esmFile = join(dir, 'probe.mjs'), cjsFile = join(dir, 'probe.cjs');
    writeFileSync(esmFile, esmProbe(join(root, 'dist/esm/index.js')));
    writeFileSync(cjsFile, cjsProbe(join(root, 'dist/esm/index.js')));
    const e = node([esmFile]), c = node([cjsFile]);
    expect(e.status, e.stderr).toBe(0);
    expect(c.status, c.stderr).toBe(0);
    const esm = lastJson(e.stdout), cjs = lastJson(c.stdout);
    expect(cjs.keys).toEqual(esm.keys);
    expect(cjs.kinds).toEqual(esm.kinds);
    for (const name of ['tensor', 'conv2d', 'conv2dTranspose', 'maxPool2d', 'softmaxCrossEntropy', 'setBackend', 'getBackend', 'valueAndGrad', 'noGrad', 'tidy', 'SGD', 'Adam', 'verifyVectors', 'filters', 'Tensor']) {
      expect(esm.kinds[name], name).toMatch(/^(function|object)$/);
    }
    for (const r of [esm, cjs]) {
      expect(r.conv).toEqual([4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4]);
      // Without setBackend, ops run on the fastest CPU backend: wasm (its SIMD build validates in Node).
      expect(r.defaultBackend).toBe('wasm');
      expect(r.yBackend).toBe('wasm');
      expect(r.grad).toEqual([2, 4]);
      expect(r.backends).toEqual(expect.arrayContaining(['ts', 'wasm']));
      // The WASM module is inlined: the wasm backend runs from either build, with no file paths.
      expect(r.wasm).toEqual({ backend: 'wasm', values: [17, 39] });
    }
    // The optional 'webgpu' package is only loaded by setBackend('webgpu'), never at import.
    expect(cjs.eagerWebgpu).toBe(false);
  });

  it('a script that ran kernels on wasm worker threads exits by itself (idle workers keep nothing alive)', () => {
    const f = join(dir, 'threads-exit.mjs');
    writeFileSync(f, `import * as ck from ${JSON.stringify(join(root, 'dist/esm/index.js'))};
await ck.setBackend('wasm', { threads: 2 });
const y = ck.conv2d(ck.ones([4, 32, 32, 16]), ck.ones([3, 3, 16, 32]), { padding: 'same' });
console.log(JSON.stringify({ threads: ck.backendInfo().threads, v: y.dataSync()[0] }));
`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [f], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal, 'killed by the timeout: the process did not exit').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toEqual({ threads: 2, v: 16 * 4 });
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('without the optional webgpu package both builds still load, and setBackend("webgpu") rejects with the reason', () => {
    // A copy of dist outside the repository: no node_modules up the tree, so 'webgpu' cannot resolve.
    const copy = join(dir, 'pkg');
    cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ name: 'convkit', type: 'module' }));
    const esmFile = join(copy, 'probe.mjs'), cjsFile = join(copy, 'probe.cjs');
    writeFileSync(esmFile, esmProbe('./dist/esm/index.js'));
    writeFileSync(cjsFile, cjsProbe('./dist/esm/index.js'));
    for (const f of [esmFile, cjsFile]) {
      const r = node([f], copy, { PROBE_WEBGPU: '1' });
      expect(r.status, r.stderr).toBe(0);
      const out = lastJson(r.stdout);
      expect(out.wasm.values).toEqual([17, 39]);
      // (Only where the webgpu backend is part of the build.)
      if (out.backends.includes('webgpu')) expect(out.webgpu).toMatch(/^webgpu: no navigator\.gpu and the package 'webgpu' could not be loaded/);
    }
  });

  it('the convkit bin: --help, and verify on the example vectors (exit 0, closing line)', () => {
    const bin = join(root, pkg.bin.convkit);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const help = node([bin, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: convkit <command>/);
    expect(help.stdout).toMatch(/\n {2}verify /);
    const ok = node([bin, 'verify', 'test/vectors/example.json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n').pop()).toBe('2 passed, 0 failed');
    // The shipped JavaScript is minified: every reference vector, on the wasm kernels, from the built bin.
    const all = node([bin, 'verify', 'test/vectors/torch.json', '--backend', 'wasm', '--dtype', 'float32']);
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n').pop()).toMatch(/^(\d+) passed, 0 failed$/);
    expect(Number(/^(\d+) passed/.exec(all.stdout.trim().split('\n').pop()!)![1])).toBeGreaterThan(100);
    const js = node([bin, 'verify', 'test/vectors/example.json', '--json', '--dtype', 'float32']);
    expect(JSON.parse(js.stdout)).toMatchObject({ backend: 'ts', dtype: 'float32', passed: 2, failed: 0 });
    // Executable directly too (the shebang), as npm links it.
    expect(execFileSync(bin, ['--help'], { cwd: root, encoding: 'utf8' })).toMatch(/^usage: convkit/);
  });
});
