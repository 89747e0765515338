/**
 * The committed WASM builds as .wasm files in a temporary folder, for the checks that run in
 * a child `node --experimental-wasm-relaxed-simd` (test/wasm/*-check.mjs): they read
 * `$CONVKIT_WASM_DIR/<variant>.wasm`, the exact bytes the loader instantiates (the relaxed
 * build is rebuilt from its patch by the loader, as in the package).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wasmBytes } from '../../src/backends/wasm/loader.js';

let dir: string | undefined;

/** Environment for the child process: `{ ...process.env, CONVKIT_WASM_DIR }`. */
export function wasmFilesEnv(): NodeJS.ProcessEnv {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'convkit-wasm-'));
    for (const v of ['simd', 'relaxed'] as const) writeFileSync(join(dir, `${v}.wasm`), wasmBytes(v));
  }
  return { ...process.env, CONVKIT_WASM_DIR: dir };
}
