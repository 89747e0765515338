/**
 * Worker threads for the wasm backend: N - 1 workers instantiate the same compiled
 * module on the same shared WebAssembly.Memory, and the calling thread is the N-th.
 *
 * A kernel that runs threaded is an export taking `(..., part, parts)` as its last two
 * arguments: it computes part `part` of `parts` disjoint sets of output elements (see
 * assembly/conv_f32.ts for how each kernel splits). `run` publishes the call in a small
 * shared control block, wakes the workers, and every thread (the caller included)
 * claims parts with an atomic counter until none are left; the caller then blocks until
 * every part is done, so the backend API stays synchronous: when `run` returns, no
 * thread touches the memory any more (disposing tensors after an op is always safe, and
 * nothing is ever queued).
 *
 * Waiting: workers sleep in Atomics.wait between jobs. The caller blocks with
 * Atomics.wait where it may (Node's main thread, any worker); a browser's main thread
 * may not, so there it spins on Atomics.load, as emscripten's pthreads do (the parts are
 * big enough to be worth it: see MIN_PARALLEL_FLOPS in backend.ts, and the caller does a
 * share of the work itself rather than only waiting).
 *
 * Workers start from inline source (Node: `new Worker(code, { eval: true })`, loaded
 * lazily so browsers never see `worker_threads`; browsers: a Blob URL) and receive the
 * compiled WebAssembly.Module and the Memory by postMessage: no file paths, no bundler
 * configuration. A worker that fails to start, or throws, turns the pool off: the
 * backend goes on on one thread with a console message (never a hang).
 *
 * Data segments: instantiating the module on a worker re-writes the module's static
 * data (Math's constant tables) with the same bytes; the workers are started and ready
 * before any threaded call, and no kernel writes static data (per-thread scratch lives
 * in each thread's workspace), so this is harmless.
 */

/** Most threads a backend may use (a bad `threads` option above this is an error). */
export const MAX_THREADS = 256;

// Control block layout (Int32 slots) in its own SharedArrayBuffer.
const GEN = 0; // job generation (workers wait on it)
const NEXT = 1; // (generation & 0x7fff) << 16 | next part to claim
const DONE = 2; // parts finished in the current job
const PARTS = 3;
const FN = 4; // index into the pool's export names
const NARGS = 5;
const READY = 6; // workers that started
const FAILED = 7; // workers that failed to start
const ERROR = 8; // a part threw (job generation + 1)
const QUIT = 9;
const WS_ARG = 10; // argument replaced by each thread's own workspace (-1: none)
const RANGE_ARG = 11; // range mode: the element-count argument (-1: parts mode)
const ALIGN = 12; // range mode: parts start at multiples of this many units of the count argument
const WORKER_PARTS = 13; // parts the workers (not the caller) have run, in all
const SPIN_US = 14; // microseconds a thread spins before it sleeps (ThreadPool.spinMs)
/**
 * Milliseconds a thread spins on the control block before it sleeps in Atomics.wait (a
 * worker between jobs, the caller waiting for the workers' last parts), by default
 * (WasmBackend.spinMs changes it). Waking a thread from Atomics.wait took tens of
 * microseconds on the 2-core VM, and often far longer after the VM had let its vCPU go
 * idle. A forward pass at batch 1 runs small kernels on one thread between threaded
 * ones: with 0.2 ms the workers fell asleep in those gaps, and MobileNetV3-Small at batch
 * 1 ran slower on 2 threads than on 1 (7.6 against 5.6 ms, each timed after a 30 ms pause
 * and one untimed call); with 1 ms, 4.2 ms. 1 and 3 ms timed the same. After its last
 * job a thread thus keeps a core busy for 1 ms (onnxruntime-web's workers spin 15-20 ms).
 */
export const DEFAULT_SPIN_MS = 1;
/** Range mode over elements: parts start at multiples of this many elements (so the only SIMD tail is the last part's, as on one thread). */
export const RANGE_ALIGN = 16;
const ARGS_BYTE_OFFSET = 64;
const MAX_ARGS = 24;
// range mode: bytes each argument advances per unit of the count argument (0: not a pointer)
const STRIDES_BYTE_OFFSET = ARGS_BYTE_OFFSET + MAX_ARGS * 8;
const CTRL_BYTES = STRIDES_BYTE_OFFSET + MAX_ARGS * 8;
const CLOSED = 0xffff;

/**
 * The worker's source. Plain JavaScript that runs in a Node worker (eval) and in a
 * browser worker (Blob URL); constants are spliced in below.
 */
const WORKER_SOURCE = `
'use strict';
const C = { GEN: ${GEN}, NEXT: ${NEXT}, DONE: ${DONE}, PARTS: ${PARTS}, FN: ${FN}, NARGS: ${NARGS}, READY: ${READY}, FAILED: ${FAILED}, ERROR: ${ERROR}, QUIT: ${QUIT}, WS_ARG: ${WS_ARG}, RANGE_ARG: ${RANGE_ARG}, ALIGN: ${ALIGN}, WORKER_PARTS: ${WORKER_PARTS}, SPIN_US: ${SPIN_US} };
function partBegin(total, part, parts, align) {
  if (part <= 0) return 0;
  if (part >= parts) return total;
  const blocks = Math.ceil(total / align);
  return Math.min(total, Math.floor(blocks * part / parts) * align);
}
function start(msg, post) {
  const c = new Int32Array(msg.ctrl);
  const a = new Float64Array(msg.ctrl, ${ARGS_BYTE_OFFSET}, ${MAX_ARGS});
  const s = new Float64Array(msg.ctrl, ${STRIDES_BYTE_OFFSET}, ${MAX_ARGS});
  let fns;
  try {
    if (msg.fail) throw new Error(msg.fail);
    const inst = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory, abort(_m, _f, line, col) { throw new Error('convkit wasm: abort at line ' + line + ':' + col); } } });
    fns = msg.names.map((n) => inst.exports[n]);
  } catch (e) {
    post({ error: String(e && e.message || e) });
    Atomics.add(c, C.FAILED, 1);
    Atomics.notify(c, C.FAILED);
    return;
  }
  Atomics.add(c, C.READY, 1);
  Atomics.notify(c, C.READY);
  let gen = 0;
  const args = [];
  for (;;) {
    // spin a little before sleeping: a training step sends a job every few tens of
    // microseconds, and waking from Atomics.wait costs about as much
    const t0 = performance.now(), spin = Atomics.load(c, C.SPIN_US) / 1000;
    for (let k = 1; Atomics.load(c, C.GEN) === gen; k++) {
      if ((k & 255) === 0 && performance.now() - t0 > spin) {
        Atomics.wait(c, C.GEN, gen);
        break;
      }
    }
    gen = Atomics.load(c, C.GEN);
    if (Atomics.load(c, C.QUIT)) return;
    const f = fns[c[C.FN]], n = c[C.NARGS], parts = c[C.PARTS], wsArg = c[C.WS_ARG], rangeArg = c[C.RANGE_ARG], align = c[C.ALIGN];
    args.length = rangeArg >= 0 ? n : n + 2;
    for (let i = 0; i < n; i++) args[i] = a[i];
    if (wsArg >= 0) args[wsArg] = msg.ws;
    if (rangeArg < 0) args[n + 1] = parts;
    const total = rangeArg >= 0 ? a[rangeArg] : 0;
    const tag = gen & 0x7fff;
    for (;;) {
      const v = Atomics.load(c, C.NEXT);
      const p = v & 0xffff;
      if ((v >>> 16) !== tag || p >= parts) break;
      if (Atomics.compareExchange(c, C.NEXT, v, v + 1) !== v) continue;
      try {
        if (rangeArg < 0) {
          args[n] = p;
          f(...args);
        } else {
          const i0 = partBegin(total, p, parts, align), i1 = partBegin(total, p + 1, parts, align);
          if (i0 < i1) {
            for (let i = 0; i < n; i++) if (s[i] !== 0) args[i] = a[i] + i0 * s[i];
            args[rangeArg] = i1 - i0;
            f(...args);
          }
        }
      } catch (e) {
        Atomics.store(c, C.ERROR, gen + 1);
        post({ error: String(e && e.message || e) });
      }
      Atomics.add(c, C.WORKER_PARTS, 1);
      if (Atomics.add(c, C.DONE, 1) + 1 === parts) Atomics.notify(c, C.DONE);
    }
  }
}
if (typeof self === 'object' && typeof self.postMessage === 'function' && typeof require === 'undefined') {
  self.onmessage = (e) => { self.onmessage = null; start(e.data, (m) => self.postMessage(m)); };
} else {
  const { parentPort } = require('worker_threads');
  parentPort.once('message', (m) => start(m, (x) => parentPort.postMessage(x)));
}
`;

/** What a started worker is, to the pool (Node's Worker or a browser's). */
interface WorkerHandle {
  post(msg: unknown): void;
  onMessage(f: (msg: { error?: string }) => void): void;
  onFailure(f: (why: string) => void): void;
  terminate(): void;
}

export type WorkerStarter = () => Promise<WorkerHandle>;

const isNode = (): boolean => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

async function startNodeWorker(): Promise<WorkerHandle> {
  const spec = 'node:worker_threads'; // a variable: bundlers for the browser must not follow it
  const { Worker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as typeof import('node:worker_threads');
  const w = new Worker(WORKER_SOURCE, { eval: true });
  // Idle workers must never keep the process alive. A 'message' listener refs the worker's
  // port again (Node refs a MessagePort when one is added), so unref after each listener too:
  // without that a script that used the wasm backend never exits.
  w.unref();
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => {
      w.on('message', f);
      w.unref();
    },
    onFailure: (f) => {
      w.on('error', (e) => f(e instanceof Error ? e.message : String(e)));
      w.on('exit', (code) => f(`exited with code ${code}`));
      w.unref();
    },
    terminate: () => void w.terminate(),
  };
}

async function startBrowserWorker(): Promise<WorkerHandle> {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener('message', (e) => f(e.data)),
    onFailure: (f) => w.addEventListener('error', (e) => f(e.message || 'worker error')),
    terminate: () => w.terminate(),
  };
}

let starterOverride: WorkerStarter | null = null;
/** Tests: replace how workers are started (e.g. one that fails), or restore the default with null. */
export function setWorkerStarterForTests(f: WorkerStarter | null): void {
  starterOverride = f;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(ctrl: Int32Array): boolean {
  try {
    Atomics.wait(ctrl, QUIT, 1, 0); // QUIT is 0: returns 'not-equal' at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

/** Whether threads can work here: shared memory exists, and a browser page is cross-origin isolated. */
export function threadsAvailable(): { ok: true } | { ok: false; why: string } {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
    const coi = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    return {
      ok: false,
      why: coi === false
        ? 'this page is not cross-origin isolated, so SharedArrayBuffer is unavailable; serve it with the headers ' +
          "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' to enable threads"
        : 'SharedArrayBuffer is unavailable in this engine',
    };
  }
  if (!isNode() && typeof Worker === 'undefined') return { ok: false, why: 'this engine has no Worker' };
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return {
      ok: false,
      why: 'this page is not cross-origin isolated, so its memory cannot be shared with workers; serve it with the headers ' +
        "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' to enable threads",
    };
  }
  return { ok: true };
}

/** The default thread count: the cores this process may use, capped at 16 (beyond that the kernels' parts get too small to pay). */
export function defaultThreads(): number {
  let n = 1;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (isNode()) {
    const os = (globalThis as { process?: { getBuiltinModule?: (m: string) => { availableParallelism?: () => number; cpus?: () => unknown[] } } }).process;
    const osm = os?.getBuiltinModule?.('node:os');
    n = osm?.availableParallelism?.() ?? nodeCores ?? nav?.hardwareConcurrency ?? 1;
  } else n = nav?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(16, Math.floor(n)));
}

/** Node's core count, read once at load where `process.getBuiltinModule` is missing (Node 20). */
let nodeCores: number | undefined;
if (isNode()) {
  const spec = 'node:os';
  import(/* @vite-ignore */ /* webpackIgnore: true */ spec)
    .then((os: typeof import('node:os')) => {
      nodeCores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    })
    .catch(() => {});
}

/** The core count in Node, awaited (the synchronous read above may not have landed yet). */
export async function defaultThreadsAsync(): Promise<number> {
  if (isNode() && nodeCores === undefined) {
    try {
      const spec = 'node:os';
      const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as typeof import('node:os');
      nodeCores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    } catch {
      /* keep the fallback */
    }
  }
  return defaultThreads();
}

/** Check a `threads` option: a whole number from 1 to MAX_THREADS. */
export function checkThreads(threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new RangeError(`convkit wasm: threads must be a whole number from 1 to ${MAX_THREADS}, received ${typeof threads === 'number' ? threads : JSON.stringify(threads)}`);
  }
  return threads;
}

/** Range mode: the first unit of part `part` of `parts` over `total` units, parts starting at multiples of `align` (the worker's partBegin). */
export function rangeBegin(total: number, part: number, parts: number, align = RANGE_ALIGN): number {
  if (part <= 0) return 0;
  if (part >= parts) return total;
  return Math.min(total, Math.floor((Math.ceil(total / align) * part) / parts) * align);
}

/**
 * Range mode: the export is called on ranges of `args[nArg]` units instead of with (part,
 * parts); each argument `strides[k][0]` (a pointer) advances `strides[k][1]` bytes per unit
 * (4 for float32 elements; a row's bytes when the units are rows); parts start at
 * multiples of `align` units.
 */
export interface RangeSplit {
  nArg: number;
  strides: readonly (readonly [arg: number, bytesPerUnit: number])[];
  align: number;
}

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly strides: Float64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly fnIndex = new Map<string, number>();
  private readonly block: boolean;
  private gen = 0;
  private state: 'starting' | 'ready' | 'failed' | 'closed' = 'starting';
  /** Why the pool failed (a worker did not start, or died), once it has. */
  failure: string | undefined;
  /** Resolves once every worker started (true), or one failed or the pool was closed first (false). */
  readonly ready: Promise<boolean>;
  private settleReady: (ok: boolean) => void = () => {};

  constructor(
    /** Threads in all, the caller included (workers: threads - 1). */
    readonly threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: readonly string[],
    /** One workspace per worker (pointers into the memory). */
    workspaces: readonly number[],
    private readonly onFailure: (why: string) => void,
  ) {
    const sab = new SharedArrayBuffer(CTRL_BYTES);
    this.ctrl = new Int32Array(sab);
    this.args = new Float64Array(sab, ARGS_BYTE_OFFSET, MAX_ARGS);
    this.strides = new Float64Array(sab, STRIDES_BYTE_OFFSET, MAX_ARGS);
    this.block = canBlock(this.ctrl);
    this.spinMs = DEFAULT_SPIN_MS;
    names.forEach((n, i) => this.fnIndex.set(n, i));
    const starter = starterOverride ?? (isNode() ? startNodeWorker : startBrowserWorker);
    const n = threads - 1;
    this.ready = new Promise<boolean>((resolve) => {
      let settled = false;
      this.settleReady = (ok) => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      };
      const fail = (why: string) => {
        this.fail(why);
        if (!settled) {
          settled = true;
          resolve(false);
        }
      };
      const check = () => {
        if (settled) return;
        if (Atomics.load(this.ctrl, READY) === n && this.state === 'starting') {
          this.state = 'ready';
          settled = true;
          resolve(true);
        }
      };
      for (let i = 0; i < n; i++) {
        starter().then(
          (w) => {
            if (this.state === 'closed' || this.state === 'failed') {
              w.terminate();
              return;
            }
            this.workers.push(w);
            w.onMessage((m) => {
              if (m && typeof m.error === 'string') fail(`a worker thread failed: ${m.error}`);
            });
            w.onFailure((why) => fail(`a worker thread stopped: ${why}`));
            w.post({ module, memory, ctrl: sab, names, ws: workspaces[i] });
            // readiness is counted in shared memory: poll it (a worker posts nothing when it starts)
            const poll = () => {
              check();
              if (!settled && Atomics.load(this.ctrl, READY) + Atomics.load(this.ctrl, FAILED) < n) setTimeout(poll, 2);
            };
            poll();
          },
          (e) => fail(`a worker thread could not start: ${e instanceof Error ? e.message : String(e)}`),
        );
      }
    });
  }

  /**
   * Milliseconds each thread spins after a job before it sleeps (a worker waiting for the
   * next job, the caller for the workers' last parts): longer keeps the workers awake
   * across the small kernels between two threaded ones, at the price of a busy core for
   * that long after the last job.
   */
  get spinMs(): number {
    return Atomics.load(this.ctrl, SPIN_US) / 1000;
  }
  set spinMs(ms: number) {
    Atomics.store(this.ctrl, SPIN_US, Math.round(ms * 1000));
  }

  /** Parts the workers (not the calling thread) have run so far: tests check that the work really was shared. */
  get workerParts(): number {
    return Atomics.load(this.ctrl, WORKER_PARTS);
  }

  /** Whether threaded calls run now (every worker started, none failed). */
  get active(): boolean {
    if (this.state === 'starting' && Atomics.load(this.ctrl, READY) === this.threads - 1) this.state = 'ready';
    return this.state === 'ready';
  }

  private fail(why: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.failure = why;
    this.close();
    this.state = 'failed';
    this.onFailure(why);
  }

  /**
   * Run export `name` as `parts` parts over all threads: every thread calls it with
   * `args` (the thread's own workspace in place of args[wsArg] on workers), then part and
   * parts. Returns when all parts are done. Throws if a part threw on a worker.
   */
  run(
    exports: Record<string, (...a: number[]) => number>, name: string, args: readonly number[], wsArg: number, parts: number,
    /** Range mode (see RangeSplit) instead of passing part and parts. */
    range?: RangeSplit,
  ): void {
    const fn = this.fnIndex.get(name);
    if (fn === undefined) throw new Error(`convkit wasm threads: '${name}' is not a threaded export`);
    if (args.length > MAX_ARGS - 2) throw new Error(`convkit wasm threads: too many arguments for '${name}'`);
    if (parts > CLOSED - 1) parts = CLOSED - 1;
    const c = this.ctrl;
    const gen = (this.gen = (this.gen + 1) | 0);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    c[FN] = fn;
    c[NARGS] = args.length;
    c[PARTS] = parts;
    c[WS_ARG] = wsArg;
    c[RANGE_ARG] = range ? range.nArg : -1;
    c[ALIGN] = range ? range.align : 1;
    this.strides.fill(0);
    if (range) for (const [i, bytes] of range.strides) this.strides[i] = bytes;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, NEXT, ((gen & 0x7fff) << 16) | 0);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    // the caller claims parts too
    const f = exports[name];
    const mine = args.slice();
    const tag = gen & 0x7fff;
    let failed: unknown;
    for (;;) {
      const v = Atomics.load(c, NEXT);
      const p = v & 0xffff;
      if (v >>> 16 !== tag || p >= parts) break;
      if (Atomics.compareExchange(c, NEXT, v, v + 1) !== v) continue;
      try {
        if (!range) f(...mine, p, parts);
        else {
          const total = args[range.nArg];
          const i0 = rangeBegin(total, p, parts, range.align), i1 = rangeBegin(total, p + 1, parts, range.align);
          if (i0 < i1) {
            for (const [i, bytes] of range.strides) mine[i] = args[i] + i0 * bytes;
            mine[range.nArg] = i1 - i0;
            f(...mine);
          }
        }
      } catch (e) {
        failed ??= e;
      }
      Atomics.add(c, DONE, 1);
    }
    // wait for the workers' parts: spin first (spinMs), then sleep where this thread may
    const t0 = performance.now(), spin = this.spinMs;
    for (let d = Atomics.load(c, DONE), k = 1; d < parts; d = Atomics.load(c, DONE), k++) {
      if (this.block && (k & 255) === 0 && performance.now() - t0 > spin) Atomics.wait(c, DONE, d, 1000);
    }
    // close the job: a worker that woke late and read this job's arguments finds nothing to claim
    Atomics.store(c, NEXT, ((gen & 0x7fff) << 16) | CLOSED);
    if (failed !== undefined) throw failed;
    if (Atomics.load(c, ERROR) === gen + 1) {
      const why = `a worker thread failed in '${name}'`;
      this.fail(why);
      throw new Error(`convkit wasm: ${why}`);
    }
  }

  /** Stop the workers. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.settleReady(false);
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
