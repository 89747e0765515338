/**
 * The built package (dist/esm: `import` and `require` both load it) that tests run the way users do: package.test.ts
 * loads it in child processes, and the examples import `convkit` by name, which Node resolves
 * to the repository itself (a package may import itself by its own name through its
 * `exports`). `ensureDist()` rebuilds dist/ when it is missing or older than any source file,
 * with `npm run build`'s scripts/build-dist.mjs (not `build:wasm`: the WASM modules are committed
 * as generated TypeScript under src/). Test files run in parallel: a lock directory (outside
 * dist/, which the build empties) keeps two of them from writing dist/ at once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
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
  const outs = ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/esm/cli/main.js'].map((f) => join(root, f));
  if (!outs.every(existsSync)) return false;
  const built = Math.min(...outs.map((f) => statSync(f).mtimeMs));
  const sources = Math.max(newestMtime(join(root, 'src')), ...['tsconfig.json', 'package.json', 'scripts/build-dist.mjs'].map((f) => statSync(join(root, f)).mtimeMs));
  return built >= sources;
}

function build(): void {
  const r = spawnSync(process.execPath, ['scripts/build-dist.mjs'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build step 'node scripts/build-dist.mjs' failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Build dist/ unless it is fresh; waits (up to 5 minutes) while another test file builds it. */
export async function ensureDist(): Promise<void> {
  const lock = join(root, 'node_modules/.cache/convkit-dist-building');
  for (let waited = 0; ; waited += 500) {
    if (distIsFresh()) return;
    mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
    try {
      mkdirSync(lock);
    } catch {
      // another file builds; a lock older than 5 minutes is stale (a killed run)
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (waited > 300_000) throw new Error('ensureDist: dist/ is locked by another build for 5 minutes');
      await sleep(500);
      continue;
    }
    try {
      if (!distIsFresh()) build();
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
