/**
 * A size-class allocator over WASM linear memory, run from the host. Blocks are
 * 64-byte aligned (cache lines, and v128 loads never straddle one). Sizes round up
 * to classes of 4 steps per power of two (at most ~19% slack), each with a free
 * list, so the same shapes recurring in a training loop reuse the same blocks.
 * Fresh blocks come from a bump pointer; freeing the block just below the bump
 * pointer lowers it. Memory grows on demand (at least by half its size, to keep the
 * number of grows small) and never shrinks.
 *
 * Large blocks are staggered ("coloured"): sizes from 8 KiB up are multiples of
 * 1-4 KiB, so without an offset every large tensor would start at the same address
 * modulo 4096, and a kernel that loads x[i] while storing y[i] would stall on 4K
 * aliasing (the CPU takes a load for a read of the pending store with the same low
 * 12 address bits). Fresh large blocks take the 64 cache-line offsets modulo 4096
 * in a scrambled sequence (measured: adding two 1 MB arrays into a third took 0.16 ms
 * with all three at the same offset modulo 4096, 0.05 ms one cache line apart).
 *
 * After a grow, `memory.buffer` is a new ArrayBuffer and old views detach: never
 * keep a typed-array view across an allocation.
 */
const ALIGN = 64;
const PAGE = 65536;
/** Blocks of at least this many bytes get a colour offset (0..63 cache lines). */
const COLOUR_MIN = 8192;

/** The class a request of `bytes` is served from (its block size). */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 1024) return b;
  const e = Math.floor(Math.log2(b));
  const step = 2 ** (e - 2);
  return Math.ceil(b / step) * step;
}

export class Allocator {
  private top: number;
  private readonly free = new Map<number, number[]>();
  /** Bytes handed out and not yet freed (block sizes). */
  inUse = 0;
  /** Live blocks: ptr -> block size (catches double frees and wrong sizes). */
  private readonly live = new Map<number, number>();
  /** Padding before each coloured block (live or on a free list): ptr -> bytes skipped to reach its colour. */
  private readonly colour = new Map<number, number>();
  private colours = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr: number;
    if (list && list.length) ptr = list.pop()!;
    else {
      // the k-th coloured block starts at (37k mod 64) cache lines modulo 4096:
      // consecutive blocks at least 27 cache lines apart there
      const offset = size >= COLOUR_MIN ? (((this.colours++ * 37) % 64) * ALIGN - (this.top % 4096) + 4096) % 4096 : 0;
      ptr = this.top + offset;
      this.ensure(ptr + size);
      this.top = ptr + size;
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
      this.top = ptr - (this.colour.get(ptr) ?? 0);
      this.colour.delete(ptr);
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** Bytes of linear memory in use by the module and the allocator's high-water mark. */
  get highWater(): number {
    return this.top;
  }
  get liveBlocks(): number {
    return this.live.size;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const need = Math.ceil((end - have) / PAGE);
    const half = Math.ceil(have / 2 / PAGE);
    try {
      this.memory.grow(Math.max(need, Math.min(half, 65536 - have / PAGE)));
    } catch {
      try {
        this.memory.grow(need);
      } catch {
        throw new RangeError(`convkit wasm: out of memory (needed ${end} bytes of linear memory, have ${have}); dispose tensors or use tidy()`);
      }
    }
  }
}
