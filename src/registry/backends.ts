/**
 * Backend selection: which backends exist, which one runs ops now, and the default
 * (TF.js's setBackend / getBackend / backend / ready).
 */
import type { Backend, BackendOptions } from '../tensor/backend.js';


/**
 * Makes a backend. `options` is what setBackend was given (`{}` when nothing): the
 * factory may then return a promise that settles once the backend is fully up (wasm's
 * worker threads). Without options (the default backend, started synchronously on first
 * use) it should return the backend itself where it can.
 */
export type BackendFactory = (options?: BackendOptions) => Backend | Promise<Backend>;

interface BackendEntry {
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
}
const backends = new Map<string, BackendEntry>();
let current: Backend | null = null;
/** True once the user chose a backend (setBackend): the default then no longer applies. */
let chosen = false;

/**
 * Register a backend under `name`. The factory runs on first use. When no backend was
 * chosen explicitly, the highest-priority one that starts is the default: `wasm` (2)
 * where its SIMD build validates, else `ts` (1); `webgpu` (0) is opt-in.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  backends.set(name, { factory, priority });
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

/** The backends that have started (an instance exists). */
export function backendsStarted(): Backend[] {
  const out: Backend[] = [];
  for (const e of backends.values()) if (e.instance) out.push(e.instance);
  return out;
}

/** The backend instance named `name`, initialising it synchronously if needed. */
export function findBackend(name: string): Backend {
  const entry = backends.get(name);
  if (!entry) throw new Error(`Backend '${name}' is not registered (registered: ${listBackends().join(', ') || 'none'})`);
  if (!entry.instance) {
    const b = entry.factory();
    if (b instanceof Promise) {
      b.catch(() => {}); // not awaited here: the caller is told to await setBackend or ready
      throw new Error(`Backend '${name}' initialises asynchronously: call 'await setBackend("${name}")' (or 'await ready()') first`);
    }
    entry.instance = b;
  }
  return entry.instance;
}

/**
 * Make `name` the backend that runs ops from now on. Returns a promise because some
 * backends (webgpu) initialise asynchronously; for `ts` the switch is already done when
 * this returns. A backend that fails to initialise leaves the current backend unchanged
 * and rejects with the reason.
 *
 * `options` configure the backend, also one that has started already: for `wasm`,
 * `{ threads }` (the threads kernels run on, the calling thread included; default the
 * available cores, at most 16): `await setBackend('wasm', { threads: 4 })` resolves once
 * its workers run (see backendInfo()).
 */
export function setBackend(name: string, options?: BackendOptions): Promise<void> {
  const entry = backends.get(name);
  if (!entry) return Promise.reject(new Error(`Backend '${name}' is not registered (registered: ${listBackends().join(', ') || 'none'})`));
  if (entry.instance) {
    const inst = entry.instance;
    if (options && Object.keys(options).length) {
      if (!inst.configure) return Promise.reject(new Error(`Backend '${name}' takes no options (received ${Object.keys(options).join(', ')})`));
      let configured: Promise<void>;
      try {
        configured = inst.configure(options);
      } catch (e) {
        return Promise.reject(e);
      }
      return configured.then(() => {
        current = inst;
        chosen = true;
      });
    }
    current = inst;
    chosen = true;
    return Promise.resolve();
  }
  let made: Backend | Promise<Backend>;
  try {
    made = entry.factory(options ?? {});
  } catch (e) {
    return Promise.reject(e);
  }
  if (made instanceof Promise) {
    return made.then((b) => {
      entry.instance = b;
      current = b;
      chosen = true;
    });
  }
  entry.instance = made;
  current = made;
  chosen = true;
  return Promise.resolve();
}

/** Synchronous switch, for backends that are already initialised or initialise synchronously. */
export function setBackendSync(name: string): void {
  current = findBackend(name);
  chosen = true;
}

function byPriority(): [string, BackendEntry][] {
  return [...backends.entries()].sort((a, b) => b[1].priority - a[1].priority);
}

/**
 * The current backend object (TF.js's `tf.backend()`): the one chosen with setBackend,
 * else the default, the highest-priority registered backend that starts synchronously
 * (`wasm` in Node; in a browser main thread, which compiles large modules only
 * asynchronously, `ts` until `await ready()`).
 */
export function backend(): Backend {
  if (current) return current;
  for (const [name] of byPriority()) {
    try {
      current = findBackend(name);
      return current;
    } catch {
      /* async or failing backends are never chosen implicitly */
    }
  }
  throw new Error('No backend is registered: import convkit (which registers `ts`)');
}

/**
 * What the current backend is: its name and what it reports of itself (wasm: `variant`,
 * the build, 'simd' or 'relaxed'; `threads`, the threads its kernels run on now).
 */
export function backendInfo(): { name: string } & Readonly<Record<string, unknown>> {
  const b = backend();
  return { ...(b.info?.() ?? {}), name: b.name };
}

/** The name of the current backend (TF.js's `tf.getBackend()`); `backend()` returns the object. */
export function getBackend(): string {
  return backend().name;
}

/**
 * Wait until the default backend is ready (TF.js's `tf.ready()`). Where the best backend
 * can only start asynchronously (wasm on a browser's main thread), this starts it and
 * makes it current, unless a backend was chosen with setBackend. Resolves to its name.
 */
export async function ready(): Promise<string> {
  if (chosen && current) return current.name;
  for (const [name, entry] of byPriority()) {
    if (entry.priority < 1 && name !== 'ts') continue; // opt-in backends (webgpu) and variants
    try {
      const b = entry.instance ?? (await entry.factory());
      entry.instance ??= b;
      if (!chosen) current = entry.instance;
      return current!.name;
    } catch {
      /* try the next one */
    }
  }
  return backend().name;
}

/** Run `fn` with `name` as the current backend, restoring the previous one after. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = current;
  current = findBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
  }
}

