/**
 * The built package for tests that need it (test/package): dist/ is rebuilt when it is
 * missing or older than any source file, with `npm run build`'s TypeScript steps (the
 * WASM modules are committed as generated TypeScript, so `build:wasm` is not needed).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function distIsFresh(): boolean {
  const outs = ['dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json'].map((f) => join(root, f));
  if (!outs.every(existsSync)) return false;
  const built = Math.min(...outs.map((f) => statSync(f).mtimeMs));
  const sources = Math.max(newestMtime(join(root, 'src')), ...['tsconfig.json', 'tsconfig.cjs.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  return built >= sources;
}

export function buildDist(): void {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build step 'node ${args.join(' ')}' failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  };
  run([tsc, '-p', 'tsconfig.json']);
  run([tsc, '-p', 'tsconfig.cjs.json']);
  run(['scripts/fix-cjs.mjs']);
}

/** Build dist/ unless it is up to date. */
export function ensureDist(): void {
  if (!distIsFresh()) buildDist();
}
