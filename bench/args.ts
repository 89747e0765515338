/** Command-line helpers the benchmark scripts share. */
import { spawnSync } from 'node:child_process';
import { wasmVariantSupported } from '../src/backends/wasm/index.js';

const argv = process.argv.slice(2);
/** Whether `--name` was given. */
export const flag = (f: string): boolean => argv.includes(f);
/** The value after `--name`, or undefined. */
export const opt = (f: string): string | undefined => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * Node 20 runs relaxed SIMD only behind --experimental-wasm-relaxed-simd: re-run this
 * script with the flag (once) so the relaxed-SIMD build can be timed beside the plain one.
 * Returns only in the process that has it (or where the flag does not help).
 */
export function reexecWithRelaxedSimd(): void {
  if (wasmVariantSupported('relaxed') || process.env.CONVKIT_BENCH_CHILD) return;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, CONVKIT_BENCH_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}
