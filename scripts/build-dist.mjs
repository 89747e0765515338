// Build the published package into dist/esm: one ES module build that `import` and `require`
// both load (Node >= 20.19 and 22.12 load ES modules with require()), so the package carries
// one copy of the code and of the inlined WASM modules, not two.
//   1. dist/ is emptied first: stale files of removed sources must not ship.
//   2. JavaScript without comments (the doc comments live in the .d.ts, where editors show
//      them, and in src/ in the repository); code stays unminified and readable.
//   3. Declarations with their doc comments, then only those a user can reach: the files
//      that dist/esm/index.d.ts imports, directly or through other declarations (the package
//      exports nothing else, so the declarations of internal modules were dead weight).
//   4. The CLI entry is made executable.
// Usage: node scripts/build-dist.mjs [--js-only]   (after gen-version and, when assembly/ changed,
// build:wasm; --js-only skips step 3, for `npm start`, which only runs the CLI)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const ts = require('typescript');
const run = (args) => {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
rmSync('dist', { recursive: true, force: true });
run(['--removeComments', '--declaration', 'false']);
if (!process.argv.includes('--js-only')) {
  run(['--emitDeclarationOnly']);
  pruneDeclarations('dist/esm', 'index.d.ts');
}
if (existsSync('dist/esm/cli/main.js')) chmodSync('dist/esm/cli/main.js', 0o755);

/**
 * Delete every .d.ts under `dir` that the TypeScript program rooted at `entry` does not
 * load (its imports, re-exports, import types and references, resolved by TypeScript
 * itself, so examples in doc comments do not count).
 */
function pruneDeclarations(dir, entry) {
  const root = resolve(dir);
  const program = ts.createProgram([join(root, entry)], { noEmit: true, types: [], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 });
  const seen = new Set(program.getSourceFiles().map((sf) => resolve(sf.fileName)).filter((f) => f.startsWith(root + sep)));
  let removed = 0;
  for (const f of readdirSync(root, { recursive: true })) {
    if (f.endsWith('.d.ts') && !seen.has(join(root, f))) {
      rmSync(join(root, f));
      removed++;
    }
  }
  console.log(`build-dist: ${seen.size} declaration files reachable from ${entry}; ${removed} internal ones removed`);
}
