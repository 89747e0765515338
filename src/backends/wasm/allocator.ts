/**
 * A size-class allocator over WASM linear memory, run from the host. Blocks are
 * 64-byte aligned (cache lines, and v128 loads never straddle one). Sizes round up
 * to classes (see sizeClass: 4 steps per power of two, but never coarser than one
 * 64 KiB page, so a 1.92 GB tensor takes 1.92 GB, not a 2 GiB block), each with a
 * free list, so the same shapes recurring in a training loop reuse the same blocks.
 * Fresh blocks come from a bump pointer; freeing the block just below the bump
 * pointer lowers it, and with it every free block that then ends at the bump pointer.
 * Memory grows on demand (at least by half its size, to keep the number of grows
 * small) and never shrinks.
 *
 * Addresses are unsigned: the whole 4 GiB of wasm32 is usable, so a pointer may be
 * >= 2^31 (a JS number here; ToInt32 turns it into the same bits when it is passed to
 * an i32/usize export, and a pointer coming back from an export must be read with
 * `>>> 0`). The last 64 bytes below 4 GiB are never handed out, so the end address of
 * every block (`ptr + bytes`, which kernels compare pointers against) fits a u32.
 *
 * Large blocks are staggered ("coloured"): sizes from 8 KiB up are multiples of
 * 1-4 KiB, so without an offset every large tensor would start at the same address
 * modulo 4096, and a kernel that loads x[i] while storing y[i] would stall on 4K
 * aliasing (the CPU takes a load for a read of the pending store with the same low
 * 12 address bits). Fresh large blocks take the 64 cache-line offsets modulo 4096
 * in a scrambled sequence (measured: adding two 1 MB arrays into a third took 0.16 ms
 * with all three at the same offset modulo 4096, 0.05 ms one cache line apart).
 *
 * A request that cannot fit throws WasmOutOfMemoryError before anything changes (no
 * grow is attempted for a request past the 4 GiB limit, and no block is recorded).
 *
 * After a grow, `memory.buffer` is a new ArrayBuffer and old views detach: never
 * keep a typed-array view across an allocation.
 */
const ALIGN = 64;
const PAGE = 65536;
/** Blocks of at least this many bytes get a colour offset (0..63 cache lines). */
const COLOUR_MIN = 8192;
/** wasm32 addresses: 65536 pages of 64 KiB (asconfig.json maximumMemory). */
export const WASM32_MAX_BYTES = 2 ** 32;
/** Bytes kept unused at the very top of the memory, so that no block ends at 2^32 (which wraps to 0 as a u32). */
const TOP_GUARD = ALIGN;

/** The class a request of `bytes` is served from (its block size). */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 1024) return b;
  const e = Math.floor(Math.log2(b));
  // 4 steps per power of two (at most ~20% slack) up to 256 KiB; from there on the step
  // stays one 64 KiB page: at most 1/16 slack from 1 MiB, 1/32768 at 2 GiB. Recurring
  // shapes still meet the same class (the same bytes give the same class).
  const step = Math.min(2 ** (e - 2), PAGE);
  return Math.ceil(b / step) * step;
}

const GiB = 2 ** 30;
const human = (n: number): string => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} B`);

/**
 * Linear memory cannot hold a request. `bytes` is what was requested; `describe` and
 * `inKernel` add what the bytes were for, so the message names the tensor and the op.
 */
export class WasmOutOfMemoryError extends RangeError {
  /** What the bytes were for ("a float32 tensor of shape [..]"), when known. */
  what: string | undefined;
  /** The kernel that asked, when known. */
  kernel: string | undefined;

  constructor(
    readonly bytes: number,
    /** Bytes held by live blocks, the bump pointer and the memory size at the time. */
    readonly state: { inUse: number; highWater: number; memoryBytes: number; maxBytes: number; reason: string },
  ) {
    super('');
    this.name = 'WasmOutOfMemoryError';
    this.compose();
  }

  describe(what: string): this {
    this.what ??= what;
    this.compose();
    return this;
  }

  inKernel(kernel: string): this {
    this.kernel ??= kernel;
    this.compose();
    return this;
  }

  private compose(): void {
    const s = this.state;
    this.message =
      `convkit wasm: out of memory${this.kernel ? ` in kernel '${this.kernel}'` : ''}: ` +
      `${this.bytes} bytes (${human(this.bytes)}) requested${this.what ? ` for ${this.what}` : ''}, ` +
      `but ${s.reason} (WebAssembly linear memory is limited to ${s.maxBytes} bytes = ${human(s.maxBytes)}; ` +
      `${s.inUse} bytes are held by live blocks, the heap reaches ${s.highWater}, the memory is ${s.memoryBytes} bytes). ` +
      `Dispose tensors or use tidy(), or use a smaller batch.`;
  }
}

export class Allocator {
  private top: number;
  /** Free blocks by size class. */
  private readonly free = new Map<number, number[]>();
  /** Free blocks by the end of their region (ptr + size) -> ptr, to lower the bump pointer past them. */
  private readonly freeEnd = new Map<number, number>();
  /** Bytes handed out and not yet freed (block sizes). */
  inUse = 0;
  /** Live blocks: ptr -> block size (catches double frees and wrong sizes). */
  private readonly live = new Map<number, number>();
  /** Padding before each coloured block (live or on a free list): ptr -> bytes skipped to reach its colour. */
  private readonly colour = new Map<number, number>();
  private colours = 0;
  /** The memory's maximum size in bytes. */
  private readonly maxBytes: number;
  /** No block ends above this address. */
  private readonly limit: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    /** The memory's maximum in bytes (its `maximum` pages * 64 KiB). */
    maxBytes = WASM32_MAX_BYTES,
  ) {
    this.top = Math.ceil((base >>> 0) / ALIGN) * ALIGN;
    this.maxBytes = Math.min(maxBytes, WASM32_MAX_BYTES);
    this.limit = this.maxBytes - TOP_GUARD;
  }

  alloc(bytes: number): number {
    if (!(bytes >= 0 && bytes <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`convkit wasm allocator: invalid request of ${bytes} bytes`);
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr: number;
    if (list && list.length) {
      ptr = list.pop()!;
      this.freeEnd.delete(ptr + size);
    } else {
      // the k-th coloured block starts at (37k mod 64) cache lines modulo 4096:
      // consecutive blocks at least 27 cache lines apart there
      let offset = size >= COLOUR_MIN ? (((this.colours * 37) % 64) * ALIGN - (this.top % 4096) + 4096) % 4096 : 0;
      // at the very top of memory, fit without the colour rather than fail
      if (this.top + offset + size > this.limit) offset = 0;
      const start = this.top + offset;
      if (start + size > this.limit) {
        // the bump region cannot hold it: a larger free block can (its class is kept, so it returns to its own list)
        const spare = this.takeLargerFree(size);
        if (spare === undefined) throw this.outOfMemory(bytes, `only ${Math.max(0, this.limit - this.top)} bytes are left above the heap top and no free block is that large`);
        ptr = spare.ptr;
        this.live.set(ptr, spare.size);
        this.inUse += spare.size;
        return ptr;
      }
      this.ensure(start + size, bytes);
      if (size >= COLOUR_MIN) this.colours++;
      ptr = start;
      this.top = start + size;
      if (offset) this.colour.set(ptr, offset);
    }
    this.live.set(ptr, size);
    this.inUse += size;
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`convkit wasm allocator: free of unknown block ${ptr}`);
    this.live.delete(ptr);
    this.inUse -= size;
    if (ptr + size === this.top) {
      this.lowerTop(ptr);
      // free blocks that now end at the top go back to the bump region too
      for (let below = this.freeEnd.get(this.top); below !== undefined; below = this.freeEnd.get(this.top)) {
        const s = this.top - below;
        const list = this.free.get(s)!;
        list.splice(list.lastIndexOf(below), 1);
        this.freeEnd.delete(this.top);
        this.lowerTop(below);
      }
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
    this.freeEnd.set(ptr + size, ptr);
  }

  /** Whether `ptr` is a live block. */
  isLive(ptr: number): boolean {
    return this.live.has(ptr);
  }

  /** Bytes of linear memory in use by the module and the allocator's high-water mark. */
  get highWater(): number {
    return this.top;
  }
  get liveBlocks(): number {
    return this.live.size;
  }

  private lowerTop(ptr: number): void {
    this.top = ptr - (this.colour.get(ptr) ?? 0);
    this.colour.delete(ptr);
  }

  /** The smallest free block of a class above `size`, taken off its list. */
  private takeLargerFree(size: number): { ptr: number; size: number } | undefined {
    let best: number | undefined;
    for (const [s, list] of this.free) if (s > size && list.length && (best === undefined || s < best)) best = s;
    if (best === undefined) return undefined;
    const ptr = this.free.get(best)!.pop()!;
    this.freeEnd.delete(ptr + best);
    return { ptr, size: best };
  }

  private outOfMemory(bytes: number, reason: string): WasmOutOfMemoryError {
    return new WasmOutOfMemoryError(bytes, {
      inUse: this.inUse,
      highWater: this.top,
      memoryBytes: this.memory.buffer.byteLength,
      maxBytes: this.maxBytes,
      reason,
    });
  }

  /** Grow the memory to hold `end` bytes; all or nothing (a failed grow changes nothing). */
  private ensure(end: number, bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const need = Math.ceil((end - have) / PAGE);
    const half = Math.ceil(have / 2 / PAGE);
    const room = Math.floor((this.maxBytes - have) / PAGE);
    try {
      this.memory.grow(Math.max(need, Math.min(half, room)));
    } catch {
      try {
        this.memory.grow(need);
      } catch {
        throw this.outOfMemory(bytes, `the engine refused to grow the memory from ${have} to ${have + need * PAGE} bytes`);
      }
    }
  }
}
