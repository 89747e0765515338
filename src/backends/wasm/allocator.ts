/**
 * A size-class allocator over WASM linear memory, run from the host. Blocks are
 * 64-byte aligned (cache lines, and v128 loads never straddle one). Sizes round up
 * to classes of 4 steps per power of two (at most ~19% slack), each with a free
 * list, so the same shapes recurring in a training loop reuse the same blocks.
 * Fresh blocks come from a bump pointer; freeing the block just below the bump
 * pointer lowers it. Memory grows on demand (at least by half its size, to keep the
 * number of grows small) and never shrinks.
 *
 * After a grow, `memory.buffer` is a new ArrayBuffer and old views detach: never
 * keep a typed-array view across an allocation.
 */
const ALIGN = 64;
const PAGE = 65536;

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
      ptr = this.top;
      this.ensure(ptr + size);
      this.top = ptr + size;
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
      this.top = ptr;
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
