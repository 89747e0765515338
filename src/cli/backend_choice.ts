/**
 * Choosing the compute backend for a CLI command: load the backend's module by name
 * (so builds without it still run), switch to it, and fall back to `ts` with a note
 * when it cannot start.
 */
import '../backends/ts/index.js';
import { getBackend, listBackends, setBackend } from '../registry/engine.js';
import { UsageError } from './args.js';

export const BACKEND_NAMES = ['ts', 'wasm', 'webgpu'] as const;

const MODULES: Record<string, string> = { wasm: '../backends/wasm/index.js', webgpu: '../backends/webgpu/index.js' };

/**
 * Make `name` the current backend. Returns the backend actually in use and, when it
 * differs from the one asked for, the reason (for the caller to print).
 */
export async function chooseBackend(name: string): Promise<{ backend: string; note?: string }> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, received '${name}'`);
  let why: string | undefined;
  if (!listBackends().includes(name) && MODULES[name]) {
    try {
      await import(/* @vite-ignore */ MODULES[name]);
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
  }
  if (listBackends().includes(name)) {
    try {
      await setBackend(name);
      return { backend: getBackend().name };
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
  } else why ??= `backend '${name}' is not registered in this build`;
  await setBackend('ts');
  return { backend: 'ts', note: `backend '${name}' is not available (${why.split('\n')[0]}); using 'ts' (slower)` };
}
