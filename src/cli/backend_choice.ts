/**
 * Choosing the compute backend for a CLI command. The optional backends (wasm, webgpu)
 * register themselves when their modules load; they are loaded by name at run time so
 * that builds without them still run, and all of them are loaded before a name is
 * checked, so an error lists every backend there is (not just the ones already loaded).
 * A backend that cannot start falls back to the best CPU backend (wasm where it starts,
 * else ts) with a note.
 */
import '../backends/ts/index.js';
import { backendInfo, getBackend, listBackends, setBackend } from '../registry/backends.js';
import { UsageError, flagString, type ParsedArgs } from './args.js';

/** The most threads --threads takes (the wasm backend's limit). */
const MAX_THREADS = 256;

/** `--threads N`: a whole number from 1 to 256 (the wasm backend's threads, the calling thread included), or undefined. */
export function threadsFlag(args: ParsedArgs): number | undefined {
  const v = flagString(args, 'threads');
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new UsageError(`--threads must be a whole number from 1 to ${MAX_THREADS}, received '${v}'`);
  return n;
}

/** The --threads line of each command's help. */
export const THREADS_HELP = `  --threads N           threads the wasm backend runs kernels on (default: the available cores, at most 16)`;

export const BACKEND_NAMES = ['ts', 'wasm', 'webgpu'] as const;

/** The CPU backends a failed choice falls back to, best first. */
const CPU_FALLBACKS = ['wasm', 'ts'] as const;

const MODULES: Record<string, string> = { wasm: '../backends/wasm/index.js', webgpu: '../backends/webgpu/index.js' };
const loadErrors: Record<string, string> = {};

/**
 * Load every optional backend module not loaded yet (each registers its backend).
 * Returns, per backend whose module could not be loaded, the reason.
 */
export async function loadOptionalBackends(): Promise<Record<string, string>> {
  for (const [name, spec] of Object.entries(MODULES)) {
    if (listBackends().includes(name) || name in loadErrors) continue;
    try {
      await import(/* @vite-ignore */ spec);
    } catch (e) {
      loadErrors[name] = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  return { ...loadErrors };
}

/**
 * Let the wasm backend run its relaxed-SIMD build (fused multiply-add; ~1.2x on the conv
 * and GEMM kernels) wherever the engine can: Node >= 22 and Chromium validate it as they
 * are; Node 20 has it behind --experimental-wasm-relaxed-simd, which V8 reads when it
 * validates or compiles a module, so setting it before the first wasm backend starts is
 * enough (no re-exec). Nothing changes where the flag does not help (the plain build runs)
 * or where CONVKIT_WASM forces a build.
 */
async function enableRelaxedSimd(): Promise<void> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return;
  let supported: ((v: 'relaxed') => boolean) | undefined;
  try {
    ({ wasmVariantSupported: supported } = await import(/* @vite-ignore */ MODULES.wasm));
  } catch {
    return; // no wasm backend in this build: loadOptionalBackends says why
  }
  if (!supported || supported('relaxed')) return;
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/**
 * What runs, in words, for the CLI's log lines: 'wasm (relaxed SIMD build, 2 threads)',
 * 'wasm (plain SIMD build: ...)', or the backend's name.
 */
export function describeBackend(): string {
  const info = backendInfo() as { name: string; variant?: string; threads?: number };
  const threads = info.threads === undefined ? '' : `, ${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  if (info.variant === 'relaxed') return `${info.name} (relaxed SIMD build${threads})`;
  if (info.variant === 'simd') {
    const forced = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CONVKIT_WASM === 'simd';
    return `${info.name} (plain SIMD build${forced ? ', forced by CONVKIT_WASM=simd' : ': this engine cannot run relaxed SIMD'}${threads})`;
  }
  return info.name;
}

/** 'webgpu: no GPU adapter ...' -> 'no GPU adapter ...' (the note names the backend already). */
function reasonOf(name: string, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return msg.startsWith(`${name}: `) ? msg.slice(name.length + 2) : msg;
}

/**
 * Make `name` the current backend. Returns the backend actually in use (its name, and a
 * label saying which build runs, for log lines) and, when it
 * differs from the one asked for, a note saying which one runs instead and why (for
 * the caller to print).
 */
export async function chooseBackend(name: string, threads?: number): Promise<{ backend: string; label: string; note?: string }> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, received '${name}'`);
  if (threads !== undefined && name !== 'wasm') throw new UsageError(`--threads applies to the wasm backend only, and the backend is '${name}'`);
  await enableRelaxedSimd();
  const loadFailures = await loadOptionalBackends();
  let why: string;
  if (listBackends().includes(name)) {
    try {
      await setBackend(name, threads === undefined ? undefined : { threads });
      return { backend: getBackend(), label: describeBackend() };
    } catch (e) {
      why = reasonOf(name, e);
    }
  } else {
    why = loadFailures[name] ? `its module did not load: ${loadFailures[name]}` : 'it is not part of this build';
  }
  for (const fallback of CPU_FALLBACKS) {
    if (fallback === name || !listBackends().includes(fallback)) continue;
    try {
      await setBackend(fallback, fallback === 'wasm' && threads !== undefined ? { threads } : undefined);
    } catch {
      continue; // e.g. wasm where WebAssembly SIMD does not validate
    }
    return { backend: fallback, label: describeBackend(), note: `backend '${name}' is not available, so '${fallback}' runs instead: ${why}` };
  }
  throw new Error(`backend '${name}' is not available (${why}), and neither is any CPU backend (${CPU_FALLBACKS.join(', ')})`);
}
