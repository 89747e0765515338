// Build the published package into dist/esm: one ES module build that `import` and `require`
// both load (Node >= 20.19 and 22.12 load ES modules with require()), so the package carries
// one copy of the code and of the inlined WASM modules, not two.
//   1. dist/ is emptied first: stale files of removed sources must not ship.
//   2. JavaScript without comments (the doc comments live in the .d.ts, where editors show
//      them, and in src/ in the repository); code stays unminified and readable.
//   3. Declarations with their doc comments.
//   4. The CLI entry is made executable.
// Usage: node scripts/build-dist.mjs [--js-only]   (after gen-version and, when assembly/ changed,
// build:wasm; --js-only skips step 3, for `npm start`, which only runs the CLI)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (args) => {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
rmSync('dist', { recursive: true, force: true });
run(['--removeComments', '--declaration', 'false']);
if (!process.argv.includes('--js-only')) run(['--emitDeclarationOnly']);
if (existsSync('dist/esm/cli/main.js')) chmodSync('dist/esm/cli/main.js', 0o755);
