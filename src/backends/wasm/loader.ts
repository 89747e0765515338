/**
 * Instantiates the convkit WASM module from the base64 strings generated at build
 * time (src/backends/wasm/generated, written by `npm run build:wasm`; the plain build
 * deflated, inflated by inflate.ts). Two builds
 * exist: plain SIMD128 and SIMD128 + relaxed SIMD (shipped as a small patch against the
 * plain one: wasm_patch.ts); `WebAssembly.validate` picks the
 * relaxed one where the engine accepts it (Chromium, Node >= 22 or Node 20 with
 * --experimental-wasm-relaxed-simd). The caller owns the Memory (imported by the
 * module), so the host-side allocator can grow it and read it.
 */
import { MODULE_SIMD_BYTES, MODULE_SIMD_DEFLATE_BASE64 } from './generated/module_simd.js';
import { inflateRaw } from './inflate.js';
import { MODULE_RELAXED_PATCH_BASE64 } from './generated/module_relaxed.js';
import { applyWasmPatch } from './wasm_patch.js';

export type WasmVariant = 'simd' | 'relaxed';

/** Every export is a function of numbers (pointers are byte offsets). */
export type WasmExports = Record<string, (...args: number[]) => number>;

export interface WasmModule {
  variant: WasmVariant;
  memory: WebAssembly.Memory;
  exports: WasmExports;
  /** The compiled module, when the memory is shared (worker threads instantiate it too). */
  module?: WebAssembly.Module;
  /** The memory's maximum in bytes, when below the wasm32 limit. */
  maxBytes?: number;
}

const decoded: Partial<Record<WasmVariant, Uint8Array<ArrayBuffer>>> = {};

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The module bytes of one build. */
export function wasmBytes(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const simd = (decoded.simd ??= inflateRaw(decodeBase64(MODULE_SIMD_DEFLATE_BASE64), MODULE_SIMD_BYTES));
  return variant === 'simd' ? simd : (decoded.relaxed ??= applyWasmPatch(simd, decodeBase64(MODULE_RELAXED_PATCH_BASE64)));
}

/** Whether this engine can run `variant` (SIMD128 is required for both). */
export function wasmVariantSupported(variant: WasmVariant): boolean {
  if (typeof WebAssembly === 'undefined') return false;
  try {
    return WebAssembly.validate(wasmBytes(variant));
  } catch {
    return false;
  }
}

/**
 * The build to use: `CONVKIT_WASM=simd|relaxed` in the environment forces one (for
 * tests and benchmarks); otherwise relaxed where supported, else plain SIMD.
 */
export function pickVariant(requested?: WasmVariant | 'auto'): WasmVariant {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CONVKIT_WASM;
  const want = requested && requested !== 'auto' ? requested : env === 'simd' || env === 'relaxed' ? env : 'auto';
  if (want !== 'auto') {
    if (!wasmVariantSupported(want)) {
      throw new Error(
        `convkit wasm: this engine cannot run the '${want}' build` +
          (want === 'relaxed' ? ' (relaxed SIMD: Node 20 needs --experimental-wasm-relaxed-simd)' : ' (WebAssembly SIMD128 is required)'),
      );
    }
    return want;
  }
  if (wasmVariantSupported('relaxed')) return 'relaxed';
  if (wasmVariantSupported('simd')) return 'simd';
  throw new Error('convkit wasm: this engine lacks WebAssembly SIMD128, which the wasm backend requires');
}

const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit (asconfig.json maximumMemory)

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`convkit wasm: abort at line ${line}:${col}`);
      },
    },
  };
}

function newMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES });
}

/**
 * The module bytes of one build, its memory import marked shared. The builds import a
 * memory with a maximum (asconfig.json); the threaded backend needs a shared one, which
 * the import must then declare. Rather than ship two more builds, flip the flag of the
 * import's limits (0x01 "has maximum" -> 0x03 "has maximum, shared"): same length, same
 * code. The kernels use no atomics (threads coordinate from JavaScript), so nothing else
 * changes.
 */
const sharedBytes: Partial<Record<WasmVariant, Uint8Array<ArrayBuffer>>> = {};
export function wasmBytesShared(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  const cached = sharedBytes[variant];
  if (cached) return cached;
  const b = wasmBytes(variant).slice();
  let i = 8; // magic + version
  const leb = (): number => {
    let v = 0, shift = 0, byte: number;
    do {
      byte = b[i++];
      v += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return v;
  };
  while (i < b.length) {
    const id = b[i++];
    const size = leb();
    const end = i + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        for (let name = 0; name < 2; name++) {
          const len = leb(); // module name, then field name
          i += len;
        }
        const kind = b[i++];
        if (kind === 2) {
          if (b[i] !== 0x01) throw new Error(`convkit wasm: unexpected memory import limits 0x${b[i].toString(16)}`);
          b[i] = 0x03;
          return (sharedBytes[variant] = b);
        }
        if (kind === 0) leb();
        else if (kind === 1) {
          i++;
          const flags = b[i++];
          leb();
          if (flags & 1) leb();
        } else if (kind === 3) i += 2;
        else throw new Error(`convkit wasm: unexpected import kind ${kind}`);
      }
    }
    i = end;
  }
  throw new Error('convkit wasm: the module imports no memory');
}

/** A shared memory: the whole 4 GiB where the engine reserves it, else 1 GiB. */
function newSharedMemory(): { memory: WebAssembly.Memory; maxBytes: number } {
  try {
    return { memory: new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true }), maxBytes: MAX_PAGES * 65536 };
  } catch {
    return { memory: new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES / 4, shared: true }), maxBytes: (MAX_PAGES / 4) * 65536 };
  }
}

/** Synchronous instantiation on a shared memory (for worker threads); the module is kept to hand to the workers. */
export function instantiateSharedSync(requested?: WasmVariant | 'auto'): WasmModule {
  const variant = pickVariant(requested);
  const { memory, maxBytes } = newSharedMemory();
  const module = new WebAssembly.Module(wasmBytesShared(variant));
  const inst = new WebAssembly.Instance(module, imports(memory));
  return { variant, memory, exports: inst.exports as unknown as WasmExports, module, maxBytes };
}

export async function instantiateSharedAsync(requested?: WasmVariant | 'auto'): Promise<WasmModule> {
  const variant = pickVariant(requested);
  const { memory, maxBytes } = newSharedMemory();
  const module = await WebAssembly.compile(wasmBytesShared(variant));
  const instance = await WebAssembly.instantiate(module, imports(memory));
  return { variant, memory, exports: instance.exports as unknown as WasmExports, module, maxBytes };
}

/**
 * Synchronous instantiation (Node, workers). Browsers refuse synchronous compilation
 * of modules over 4 KB on the main thread: there this throws and `instantiateAsync`
 * is the way (the backend factory falls back to it automatically).
 */
export function instantiateSync(requested?: WasmVariant | 'auto'): WasmModule {
  const variant = pickVariant(requested);
  const memory = newMemory();
  const mod = new WebAssembly.Module(wasmBytes(variant));
  const inst = new WebAssembly.Instance(mod, imports(memory));
  return { variant, memory, exports: inst.exports as unknown as WasmExports };
}

export async function instantiateAsync(requested?: WasmVariant | 'auto'): Promise<WasmModule> {
  const variant = pickVariant(requested);
  const memory = newMemory();
  const { instance } = await WebAssembly.instantiate(wasmBytes(variant), imports(memory));
  return { variant, memory, exports: instance.exports as unknown as WasmExports };
}
