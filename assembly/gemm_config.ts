// Register tile and cache blocks of the packed GEMM (Goto/BLIS loop order).
// MR x NR is the micro-kernel's register tile: 5x8 with plain SIMD (mul + add needs a
// temporary register), 6x8 with relaxed SIMD (fused madd frees it).
// KC: depth of a packed block (a 6x256 A strip + a 256x8 B strip = 14 KB, in L1);
// MC: rows of a packed A block (240 x 256 x 4 = 240 KB, in the 512 KB L2);
// NC: columns of a packed B block (256 x 4096 x 4 = 4 MB, in L3).
// Tried and not kept: packing A pre-broadcast (16 bytes per value, read with v128.load
// instead of load32_splat, whose constant offset V8 did not fold into the address):
// +2% plain, -6% relaxed in an interleaved A/B of the whole GEMM at 512 and 1024. The
// micro-kernels now avoid that cost instead by peeling their first k step (see
// gemm_f32_5x8.ts). Unrolling k by 2 made V8 (or Binaryen's expression merging) hoist
// loads and spill: 25-35% slower. KC = 512 (one k block at 512): +0-3%, within the noise,
// for twice the packed-B workspace; KC 384 and MC 120 with it: no gain.
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 240;
export const NC: i32 = 4096;
/** Bytes of the packed A block (the first part of the workspace). */
export const PACK_A_BYTES: i32 = MC * KC * 4;

/** Bytes of the convolution lookup tables (conv_geometry.ts) at the end of the workspace. */
export const CONV_TABLES_BYTES: i32 = 3 * 4096 * 4 + 5 * 256 * 4;

/** Byte offset of the conv tables inside the workspace. */
export const WS_TABLES: i32 = PACK_A_BYTES + KC * NC * 4;

/**
 * Byte offset of the small per-thread scratch after the conv tables: the GEMM's edge
 * tile (8x8 floats) and the im2col packer's per-strip tap tables (6 x 8 ints). It lives
 * in the workspace, not in static data, because every thread has its own workspace
 * while static data is one copy in the memory all threads share.
 */
export const WS_SCRATCH: i32 = WS_TABLES + CONV_TABLES_BYTES;
/** Bytes of that scratch. */
export const SCRATCH_BYTES: i32 = 8 * 8 * 4 + 6 * 8 * 4;

/** Byte offset of the Winograd blocks (conv_winograd_f32.ts: V and M of a block of tiles), 16-aligned. */
export const WS_WINO: i32 = (WS_SCRATCH + SCRATCH_BYTES + 15) & ~15;
/** Bytes of the Winograd blocks: 1 MB, 128 tiles of 64 channels in and 64 out. */
export const WINO_BYTES: i32 = 1 << 20;

/**
 * Bytes of workspace gemm_f32 and the conv kernels need (packed A + packed B blocks +
 * conv tables + scratch + the Winograd blocks). Each thread running a part of a kernel has its own.
 */
export function gemm_f32_workspace_bytes(): i32 {
  return WS_WINO + WINO_BYTES;
}

/**
 * Rows [begin, end) of part `part` of `parts` over `total` rows, cut at multiples of
 * `align` (so no register tile straddles two parts): the parts differ by at most one
 * `align` block and cover every row once.
 */
export function partBegin(total: i32, align: i32, part: i32, parts: i32): i32 {
  if (part <= 0) return 0;
  if (part >= parts) return total;
  const blocks = (<i64>total + align - 1) / align;
  return <i32>min<i64>(<i64>total, (blocks * part / parts) * align);
}

// The register tile and cache blocks of this build, one export each (tests probe sizes
// around them; the host reports them in WasmBackend.tileSizes()).
/** Rows of the micro-kernel's register tile (5 plain, 6 relaxed). */
export function gemm_f32_mr(): i32 {
  return MR;
}

/** Columns of the micro-kernel's register tile (8: two f32x4 vectors). */
export function gemm_f32_nr(): i32 {
  return NR;
}

/** Depth of a packed block (the K step). */
export function gemm_f32_kc(): i32 {
  return KC;
}

/** Rows of a packed A block. */
export function gemm_f32_mc(): i32 {
  return MC;
}

/** Columns of a packed B block. */
export function gemm_f32_nc(): i32 {
  return NC;
}
