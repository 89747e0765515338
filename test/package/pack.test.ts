/**
 * What `npm pack` publishes (after the build, test/util/dist.ts): its size, no source maps
 * (they pointed at src/, which is not shipped), the digits data once, wasm modules whose
 * declarations do not repeat the base64, a sideEffects list that covers every module that
 * registers something on import, and public declarations that a strict Node project
 * (lib es2022 without DOM, @types/node, skipLibCheck false) compiles against, from ESM and
 * CommonJS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, root } from '../util/dist.js';

/**
 * Packed (gzip) size limit. Measured 2026-12-06: 1,271 kB before this test; 844 kB with no maps,
 * typed base64 constants and the digits once; 520 kB with one ES module build (require() loads it
 * on Node >= 20.19) and JavaScript without comments (scripts/build-dist.mjs). Of those 520 kB:
 * code 255 kB, the two inlined WASM builds 78 kB, the embedded digits 46 kB, declarations with
 * their doc comments 122 kB. 560 kB after the applications and worker threads landed; 523 kB with
 * the relaxed-SIMD build shipped as a 2 kB patch against the plain one (src/backends/wasm/wasm_patch.ts);
 * 555 kB with the ONNX graph interpreter (src/models/onnx/graph_*.ts, 32 kB); 541 kB once the build
 * drops the declarations index.d.ts does not reach (the CLI's, the inlined wasm modules', internal helpers').
 * 553 kB after inference fusion, the depthwise row kernels and the other kernels of 2026-12-07; 542 kB
 * with the plain WASM module shipped deflated (src/backends/wasm/inflate.ts decodes it: 14 kB less).
 * 547 kB with the Winograd convolutions (assembly/conv_winograd_f32.ts) of 2026-12-07. 484 kB with the
 * JavaScript minified (names kept, one statement per line, scripts/build-dist.mjs: 45 kB less) and the declarations without the
 * doc comments no editor shows (file headers, private members, unexported declarations: 14 kB less).
 * 485 kB once nothing but the backends, autograd, storage and model.ts registers on import (layers/builtin.ts).
 * 469 kB with the digits as an arithmetic code (src/data/digits_codec.ts: 10.6 kB less) and no doc comments
 * on exported declarations the package's entry does not export (internal constants, helpers: 6 kB less).
 * 458 kB without the side-effect imports in the declarations (`import './backends/wasm/index.js'` made a
 * compiler load every backend's internal declarations, which then shipped: 70 files, 10 kB).
 * The 400 kB is out of reach without dropping what users need: with every doc comment gone from
 * the declarations the package measured 418 kB (2026-12-07); the comments stay, as what editors show.
 * 465 kB (2026-12-07, session 17) with the concatenation kernel (FusedConv2DConcat, conv2dConcat),
 * swish in the convolution epilogue, the Erf kernel and the ONNX importer's SiLU / GELU fusion:
 * 3 kB more, most of it WASM code (the module grew from 123 to 126 kB).
 * 468.5 kB (session 18) with ONNX opsets 18 to 28 (Resize antialias / axes / aspect policy, Pad axes /
 * wrap, Split num_outputs, Scatter reductions) and the newer operators (GroupNormalization,
 * RMSNormalization, Gelu, Mish, Swish, LpPool, LpNormalization, MeanVarianceNormalization,
 * ReduceProd, Quantize/DequantizeLinear): 3.3 kB more, all JavaScript. 480 kB with the rest of
 * session 18's ONNX operators (vision: GridSample, AffineGrid, NonMaxSuppression, RoiAlign, DeformConv,
 * Col2Im, CenterCropPad, MaxUnpool; QLinearConv/MatMul and the Integer ops; sequences; Einsum; bit,
 * CumProd, Det, Unique, ReverseSequence, windows): 11.5 kB of JavaScript. The importer is what grows
 * the package, and it is one dynamic import (models/io.ts) that a bundled app without ONNX drops.
 * 484.1 kB with Attention, RotaryEmbedding and RNN/GRU/LSTM (session 18's end).
 */
const MAX_PACKED = 488_000;

interface PackFile {
  path: string;
  size: number;
}
let pack: { size: number; unpackedSize: number; files: PackFile[] };
const dir = mkdtempSync(join(tmpdir(), 'convkit-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await ensureDist();
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  pack = JSON.parse(r.stdout)[0];
}, 300_000);

const globToRegex = (g: string) => new RegExp('^' + g.replace(/^\.\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*') + '$');

describe('npm pack', () => {
  it(`is at most ${MAX_PACKED / 1000} kB packed`, () => {
    console.log(`npm pack: ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${pack.files.length} files`);
    expect(pack.size).toBeLessThanOrEqual(MAX_PACKED);
  });

  it('ships no source maps and no sourceMappingURL comments (src/ is not in the package)', () => {
    expect(pack.files.filter((f) => f.path.endsWith('.map'))).toEqual([]);
    const withUrl = pack.files.filter((f) => f.path.endsWith('.js') && readFileSync(join(root, f.path), 'utf8').includes('sourceMappingURL'));
    expect(withUrl.map((f) => f.path)).toEqual([]);
  });

  it('ships the digits once (embedded in the code, not also as datasets/digits.csv.gz)', () => {
    expect(pack.files.map((f) => f.path).filter((p) => p.startsWith('datasets/'))).toEqual(['datasets/README.md']);
  });

  it('ships declarations only for what index.d.ts reaches: none for the CLI or the inlined wasm modules', () => {
    const dts = pack.files.map((f) => f.path).filter((p) => p.endsWith('.d.ts'));
    expect(dts).toContain('dist/esm/index.d.ts');
    expect(dts.filter((p) => p.includes('/cli/') || p.includes('/generated/'))).toEqual([]);
    // and every shipped declaration is small: none repeats a base64 literal as its type
    for (const f of pack.files.filter((f) => f.path.endsWith('.d.ts'))) expect(f.size, f.path).toBeLessThan(60_000);
  });

  it('carries one WASM module, deflated: the relaxed build is a patch of a few kB', () => {
    const js = (name: string) => pack.files.find((f) => f.path === `dist/esm/backends/wasm/generated/module_${name}.js`)!;
    // the plain module (about 106 kB) deflated to about 29 kB, base64 about 39 kB
    expect(js('simd').size).toBeGreaterThan(30_000);
    expect(js('simd').size).toBeLessThan(60_000);
    expect(js('relaxed').size).toBeLessThan(8_000);
  });

  it('sideEffects names every built module that registers kernels, backends or prototype methods on import', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(Array.isArray(pkg.sideEffects)).toBe(true);
    const globs = (pkg.sideEffects as string[]).map(globToRegex);
    // The shipped JavaScript is minified (one line per file), so the registering statements are found
    // in the sources, at the start of a line outside any function, and each names its built module.
    const registering: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) {
          const text = readFileSync(p, 'utf8');
          if (/^(\w*Kernel|registerBackend|register|registerFloat|registerLayerClass|registerGraphModel|setStorageOwner)\(|^\w+\.prototype\.\w+ = |^\w+\.\w+\.prototype\.\w+ = /m.test(text)) {
            registering.push(relative(root, p).replace(/^src\//, 'dist/esm/').replace(/\.ts$/, '.js'));
          }
        }
      }
    };
    walk(join(root, 'src'));
    for (const f of registering) expect(existsSync(join(root, f)), `${f} is built`).toBe(true);
    expect(registering.length).toBeGreaterThan(10);
    expect(registering.filter((f) => !globs.some((g) => g.test(f)))).toEqual([]);
  });
});

describe('the public declarations without the DOM lib', () => {
  it('a strict Node project (lib es2022, @types/node, skipLibCheck false) typechecks against the built package, ESM and CommonJS', () => {
    const proj = join(dir, 'app');
    mkdirSync(join(proj, 'node_modules'), { recursive: true });
    symlinkSync(root, join(proj, 'node_modules', 'convkit'), 'dir');
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['es2022'], types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
        strict: true, skipLibCheck: false, noEmit: true,
      },
      files: ['main.ts', 'legacy.cts'],
    }));
    writeFileSync(join(proj, 'main.ts'), [
      "import * as ck from 'convkit';",
      'const t: ck.Tensor = ck.add(ck.ones([2]), ck.ones([2]));',
      'const img = ck.fromPixels({ width: 1, height: 1, data: new Uint8ClampedArray(4) });',
      "const svg: string = ck.plot.lineChart([1, 2, 3], { title: 'x' }).svg();",
      'const ds = ck.Dataset.generator(function* () { yield { x: [1, 2], y: 0 }; }).batch(2);',
      'console.log(t.shape, img.shape, svg.length, ds.batched);',
    ].join('\n'));
    writeFileSync(join(proj, 'legacy.cts'), "import ck = require('convkit');\nexport const n: number = ck.sizeOf([2, 3]);\n");
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', proj], { cwd: proj, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
