/**
 * What a bundler keeps of the built package (vite, a devDependency, as an app would bundle
 * `convkit` from node_modules): an app that only uses tensor ops does not carry the layers,
 * the models, ONNX or TF.js Layers (issue: `import { add } from 'convkit'` gave 558 kB); an app
 * that only loads and runs a saved model still gets every layer class and the ONNX graph
 * interpreter it needs, though it names none of them (nothing registers itself on import:
 * layers/builtin.ts, models/onnx/import.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import * as ck from '../../src/index.js';
const { encodeOnnx } = ck;
import { ensureDist, root } from '../util/dist.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-treeshake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await ensureDist();
  // the app resolves `convkit` from its node_modules, as an installed package (package.json's sideEffects applies)
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'convkit'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true }));
}, 300_000);

/** Bundle `entry` (minified ES module for Node); returns the code and the convkit modules in it. */
async function bundle(name: string, code: string): Promise<{ file: string; size: number; modules: string[]; mainSize: number; mainModules: string[] }> {
  const entry = join(dir, `${name}.mjs`);
  writeFileSync(entry, code);
  const out = (await build({
    logLevel: 'silent', configFile: false, root: dir,
    build: {
      write: true, outDir: join(dir, `out-${name}`), emptyOutDir: true, minify: true, target: 'node20',
      lib: { entry, formats: ['es'], fileName: name },
      rollupOptions: { external: [/^node:/, 'webgpu'] },
    },
  })) as { output: { type: string; fileName: string; code?: string; modules?: Record<string, unknown> }[] }[] | { output: { type: string; fileName: string; code?: string; modules?: Record<string, unknown> }[] };
  const outputs = (Array.isArray(out) ? out[0] : out).output.filter((o) => o.type === 'chunk');
  const modules = outputs.flatMap((o) => Object.keys(o.modules ?? {})).map((m) => m.replace(/^.*\/dist\/esm\//, ''));
  const main = outputs.find((o) => o.fileName.startsWith(name))!;
  const local = (o: { modules?: Record<string, unknown> }) => Object.keys(o.modules ?? {}).map((m) => m.replace(/^.*\/dist\/esm\//, ''));
  return { file: join(dir, `out-${name}`, main.fileName), size: outputs.reduce((a, o) => a + (o.code?.length ?? 0), 0), modules, mainSize: main.code?.length ?? 0, mainModules: local(main) };
}

const run = (file: string, ...args: string[]) => spawnSync(process.execPath, [file, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });

describe('bundling the package', () => {
  it("import { add, tensor } keeps the backends and ops, not the layers, models, ONNX or TF.js Layers", async () => {
    const b = await bundle('ops', "import { add, tensor } from 'convkit';\nconsole.log(JSON.stringify(Array.from(add(tensor([1, 2]), tensor([3, 4])).dataSync())));\n");
    console.log(`import { add, tensor }: ${b.mainSize} bytes minified (${b.size} with the chunk that starts webgpu), ${b.modules.length} modules`);
    expect(b.modules.filter((m) => /^(layers|models|data|plot|vision|train)\//.test(m))).toEqual([]);
    expect(b.modules.some((m) => m.startsWith('backends/wasm/'))).toBe(true);
    expect(b.size).toBeLessThan(300_000); // 548 kB when layers and models registered themselves on import
    // the WGSL kernels load only when setBackend('webgpu') runs: a chunk of their own, not the app's
    expect(b.mainModules.filter((m) => m.startsWith('backends/webgpu/kernels/'))).toEqual([]);
    expect(b.modules.some((m) => m.startsWith('backends/webgpu/kernels/'))).toBe(true);
    expect(b.mainSize).toBeLessThan(150_000); // 120 kB; 241 kB when the WGSL kernels registered on import
    const r = run(b.file);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual([4, 6]);
  }, 120_000);

  it('an app that only loads and runs saved models still gets every layer class and the ONNX graph interpreter', async () => {
    // a model whose layers the app never names, saved in convkit's format, and an ONNX file that runs on the graph interpreter
    const model = ck.sequential([
      ck.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
      ck.layers.batchNormalization({}),
      ck.layers.relu({}),
      ck.layers.maxPooling2d({ poolSize: 2 }),
      ck.layers.permute({ dims: [2, 1, 3] }),
      ck.layers.flatten({}),
      ck.layers.dense({ units: 3 }),
    ], { inputShape: [6, 6, 2], seed: 5 });
    await model.save(join(dir, 'saved'));
    const x = ck.randomUniform([2, 6, 6, 2], { seed: 9 });
    const want = Array.from(model.predict(x).dataSync());
    writeFileSync(join(dir, 'x.json'), JSON.stringify(Array.from(x.dataSync())));
    const onnx = ck.loadOnnx(encodeOnnx(model), { mode: 'graph' });
    expect(onnx.constructor.name).toBe('OnnxGraphModel');
    writeFileSync(join(dir, 'model.onnx'), encodeOnnx(model));
    const b = await bundle('load', [
      "import { loadOnnx, loadModel, tensor } from 'convkit';",
      "import { readFileSync } from 'node:fs';",
      "const x = tensor(JSON.parse(readFileSync('x.json', 'utf8')), [2, 6, 6, 2]);",
      "const m = await loadModel('saved');",
      "const g = loadOnnx(new Uint8Array(readFileSync('model.onnx')), { mode: 'graph' });",
      // mode 'graph' runs the interpreter (OnnxGraphModel) or throws: the app does not name it
      'console.log(JSON.stringify({ saved: Array.from(m.predict(x).dataSync()), graph: Array.from(g.predict(x).dataSync()) }));',
    ].join('\n'));
    const r = run(b.file);
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout.trim());
    // the app runs on the default backend (wasm), this test on its own: equal to float32 rounding
    expect(got.saved.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      expect(got.saved[i]).toBeCloseTo(want[i], 5);
      expect(got.graph[i]).toBeCloseTo(want[i], 5);
    }
  }, 120_000);
});
