// Packed, register-blocked f32 GEMM in the Goto/BLIS style:
//
//   for jc in N by NC:              B block (KC x NC) packed once, lives in L3
//     for pc in K by KC:
//       pack B[pc.., jc..] into 8-column strips
//       for ic in M by MC:          A block (MC x KC) packed, lives in L2
//         pack A[ic.., pc..] into MR-row strips
//         for jr in NC by 8:        one B strip stays in L1
//           for ir in MC by MR:     micro-kernel: MR x 8 tile of C in registers
//
// Transposes cost nothing extra: they only change how the packing reads A and B.
// The same driver serves convolution: A can come from an im2col view of an image
// (packed straight from it) and C can be scattered back with col2im, so conv forward
// and both conv gradients run on this GEMM without materialising patch matrices.
import { madd_v } from './math_f32x4';
import { MR, NR, KC, MC, NC, PACK_A_BYTES, WS_SCRATCH, partBegin } from './gemm_config';
import { gemm_f32_5x8 } from './gemm_f32_5x8';
import { gemm_f32_6x8_relaxed } from './gemm_f32_6x8_relaxed';
import { pack_a_im2col, pack_a_im2col_t, im2col_rows, col2im_add_tile, packRowsStrided } from './im2col_f32';
import { epiOn, epilogue_tile } from './epilogue_f32';

/** A comes from a row-major matrix (ptr, lda, transposed or not). */
export const A_MATRIX: i32 = 0;
/** A is the im2col matrix of the image at A (rows: output pixels, columns: taps). */
export const A_IM2COL: i32 = 1;
/** A is the transposed im2col matrix (rows: taps, columns: output pixels). */
export const A_IM2COL_T: i32 = 2;
/** C is a row-major matrix (ptr, ldc). */
export const C_MATRIX: i32 = 0;
/** C is the im2col matrix of the image gradient at C: tiles are added back with col2im. */
export const C_COL2IM: i32 = 1;

// @ts-ignore: decorator
@inline function ukernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  if (ASC_FEATURE_RELAXED_SIMD) gemm_f32_6x8_relaxed(kc, pa, pb, c, ldc, accumulate);
  else gemm_f32_5x8(kc, pa, pb, c, ldc, accumulate);
}

/** Store the transpose of the 4x4 block (rows a, b, c, d) as 4 vectors `stride` bytes apart. */
// @ts-ignore: decorator
@inline function transpose4(a: v128, b: v128, c: v128, d: v128, out: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(out + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(out + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(out + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** Pack rows k0.. (kc of them) and columns j0.. (nc) of op(B) into 8-column strips: dst[strip][k][8]. */
function pack_b(B: usize, ldb: i32, transB: bool, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let js = 0; js < nc; js += NR) {
    const nr = min(NR, nc - js);
    let out = dst + <usize>js * <usize>kc * 4;
    if (!transB) {
      let src = B + ((<usize>k0 * ldb + j0 + js) << 2);
      const ld = <usize>ldb << 2;
      if (nr == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(out, v128.load(src));
          v128.store(out, v128.load(src, 16), 16);
          out += 32;
          src += ld;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let j = 0; j < NR; j++) store<f32>(out + (<usize>j << 2), j < nr ? load<f32>(src + (<usize>j << 2)) : 0);
          out += 32;
          src += ld;
        }
      }
    } else if (nr == NR) {
      // op(B)[k, j] = B[j*ldb + k]: 8 rows of B, transposed 4x4 at a time
      const ld = <usize>ldb << 2;
      const src = B + ((<usize>(j0 + js) * ldb + k0) << 2);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const s = src + (<usize>k << 2);
        const o = out + (<usize>k << 5);
        transpose4(v128.load(s), v128.load(s + ld), v128.load(s + 2 * ld), v128.load(s + 3 * ld), o, 32);
        transpose4(v128.load(s + 4 * ld), v128.load(s + 5 * ld), v128.load(s + 6 * ld), v128.load(s + 7 * ld), o + 16, 32);
      }
      for (; k < kc; k++) {
        const s = src + (<usize>k << 2);
        const o = out + (<usize>k << 5);
        for (let j = 0; j < NR; j++) store<f32>(o + (<usize>j << 2), load<f32>(s + <usize>j * ld));
      }
    } else {
      // op(B)[k, j] = B[j*ldb + k]: column j of the strip is a contiguous row of B
      for (let j = 0; j < NR; j++) {
        let o = out + (<usize>j << 2);
        if (j < nr) {
          let src = B + ((<usize>(j0 + js + j) * ldb + k0) << 2);
          for (let k = 0; k < kc; k++) {
            store<f32>(o, load<f32>(src));
            o += 32;
            src += 4;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(o, 0);
            o += 32;
          }
        }
      }
    }
  }
}

/** Pack rows i0.. (mc) and columns k0.. (kc) of op(A) into MR-row strips: dst[strip][k][MR]. */
function pack_a_matrix(A: usize, lda: i32, transA: bool, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const step = <usize>MR << 2;
  for (let is = 0; is < mc; is += MR) {
    const mr = min(MR, mc - is);
    const strip = dst + <usize>is * <usize>kc * 4;
    if (!transA && mr == MR) {
      packRowsStrided(A + ((<usize>(i0 + is) * lda + k0) << 2), <usize>lda << 2, kc, strip);
    } else if (!transA) {
      for (let r = 0; r < MR; r++) {
        let o = strip + (<usize>r << 2);
        if (r < mr) {
          let src = A + ((<usize>(i0 + is + r) * lda + k0) << 2);
          for (let k = 0; k < kc; k++) {
            store<f32>(o, load<f32>(src));
            o += step;
            src += 4;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            store<f32>(o, 0);
            o += step;
          }
        }
      }
    } else {
      // op(A)[i, k] = A[k*lda + i]: the MR values of one k are contiguous
      let src = A + ((<usize>k0 * lda + i0 + is) << 2);
      const ld = <usize>lda << 2;
      let o = strip;
      if (mr == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(o, v128.load(src));
          for (let r = 4; r < MR; r++) store<f32>(o + (<usize>r << 2), load<f32>(src + (<usize>r << 2)));
          o += step;
          src += ld;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) store<f32>(o + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
          o += step;
          src += ld;
        }
      }
    }
  }
}

/** C[mr x nr] (+)= tile (8 floats per row). */
function merge_tile(tile: usize, C: usize, ldc: i32, mr: i32, nr: i32, accumulate: bool): void {
  const ld = <usize>ldc << 2;
  let dst = C;
  let src = tile;
  for (let r = 0; r < mr; r++) {
    let j = 0;
    if (accumulate) {
      for (; j + 4 <= nr; j += 4) {
        const o = <usize>j << 2;
        v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
      }
      for (; j < nr; j++) {
        const o = <usize>j << 2;
        store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
      }
    } else {
      for (; j + 4 <= nr; j += 4) {
        const o = <usize>j << 2;
        v128.store(dst + o, v128.load(src + o));
      }
      for (; j < nr; j++) {
        const o = <usize>j << 2;
        store<f32>(dst + o, load<f32>(src + o));
      }
    }
    dst += ld;
    src += 32;
  }
}

/**
 * C[m0..m1, n0..n1] (+)= op(A) op(B) for fewer rows than a register tile holds, without
 * packing: row i of C is the sum over k of A[i,k] times row k of B, 16 columns at a time
 * in registers (a transposed B: dot products along its rows). The micro-kernel path packed
 * all of B (K x N floats) for M x K x N multiply-adds and computed MR rows for each one
 * used: a dense layer or a squeeze-and-excitation 1x1 convolution at batch 1 spent as long
 * packing as multiplying. Each C element sums its K terms in order (with a transposed B and
 * A, in 4 interleaved partial sums, added at the end); the parts of a thread split take
 * bands of columns, so the result does not depend on the thread count.
 */
function gemv_rows(
  K: i32, A: usize, lda: i32, transA: bool, B: usize, ldb: i32, transB: bool,
  C: usize, ldc: i32, accumulate: bool, group: i32, N: i32, m0: i32, m1: i32, n0: i32, n1: i32,
): void {
  const ldbBytes = <usize>ldb << 2;
  for (let i = m0; i < m1; i++) {
    const crow = C + (<usize>i * <usize>ldc << 2);
    // A[i, k] is at aRow + k * aStep
    const aRow = transA ? A + (<usize>i << 2) : A + (<usize>i * <usize>lda << 2);
    const aStep = transA ? <usize>lda << 2 : 4;
    if (!transB) {
      let n = n0;
      for (; n + 16 <= n1; n += 16) {
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
        let pa = aRow, pb = B + (<usize>n << 2);
        for (let k = 0; k < K; k++) {
          const av = v128.load32_splat(pa);
          c0 = madd_v(av, v128.load(pb), c0);
          c1 = madd_v(av, v128.load(pb, 16), c1);
          c2 = madd_v(av, v128.load(pb, 32), c2);
          c3 = madd_v(av, v128.load(pb, 48), c3);
          pa += aStep;
          pb += ldbBytes;
        }
        const o = crow + (<usize>n << 2);
        if (accumulate) {
          c0 = f32x4.add(v128.load(o), c0);
          c1 = f32x4.add(v128.load(o, 16), c1);
          c2 = f32x4.add(v128.load(o, 32), c2);
          c3 = f32x4.add(v128.load(o, 48), c3);
        }
        v128.store(o, c0);
        v128.store(o, c1, 16);
        v128.store(o, c2, 32);
        v128.store(o, c3, 48);
      }
      for (; n + 4 <= n1; n += 4) {
        let c0 = f32x4.splat(0);
        let pa = aRow, pb = B + (<usize>n << 2);
        for (let k = 0; k < K; k++) {
          c0 = madd_v(v128.load32_splat(pa), v128.load(pb), c0);
          pa += aStep;
          pb += ldbBytes;
        }
        const o = crow + (<usize>n << 2);
        v128.store(o, accumulate ? f32x4.add(v128.load(o), c0) : c0);
      }
      for (; n < n1; n++) {
        let c: f32 = 0;
        let pa = aRow, pb = B + (<usize>n << 2);
        for (let k = 0; k < K; k++) {
          c += load<f32>(pa) * load<f32>(pb);
          pa += aStep;
          pb += ldbBytes;
        }
        const o = crow + (<usize>n << 2);
        store<f32>(o, accumulate ? load<f32>(o) + c : c);
      }
    } else {
      // op(B)[k, n] = B[n*ldb + k]: row n of B is contiguous; A's row too unless transposed
      for (let n = n0; n < n1; n++) {
        const brow = B + <usize>n * ldbBytes;
        let c: f32 = 0;
        let k = 0;
        if (!transA) {
          let acc = f32x4.splat(0);
          for (; k + 4 <= K; k += 4) acc = madd_v(v128.load(aRow + (<usize>k << 2)), v128.load(brow + (<usize>k << 2)), acc);
          c = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
        }
        for (; k < K; k++) c += load<f32>(aRow + <usize>k * aStep) * load<f32>(brow + (<usize>k << 2));
        const o = crow + (<usize>n << 2);
        store<f32>(o, accumulate ? load<f32>(o) + c : c);
      }
    }
    if (epiOn) epilogue_tile(crow + (<usize>n0 << 2), 0, 1, n1 - n0, group * N + n0);
  }
}

/**
 * The general driver. op(A) is M x K (from a matrix, or an im2col view of the image at
 * A for group `group`), op(B) is K x N (a matrix), C is M x N (a matrix, or col2im into
 * the image gradient at C). ws: gemm_f32_workspace_bytes() of scratch.
 * accumulate: C += op(A) op(B); otherwise C = op(A) op(B) (col2im always adds).
 * With the fused epilogue on (epilogue_begin), each finished tile of a C matrix gets it,
 * column j as filter group * N + j.
 *
 * Only rows [m0, m1) and columns [n0, n1) of C are computed (threads each take a part;
 * m0 a multiple of MR, n0 of NR, where they are not 0). Every element of C is the same
 * sum in the same order whatever the part it falls in: the K blocks depend on K alone,
 * and a tile's sum does not depend on which rows or columns share its block. So the
 * result is bitwise the same for any split, and any number of threads.
 */
export function gemm_f32_driver(
  M: i32, N: i32, K: i32,
  aMode: i32, A: usize, lda: i32, transA: bool,
  B: usize, ldb: i32, transB: bool,
  cMode: i32, C: usize, ldc: i32, accumulate: bool,
  ws: usize, group: i32,
  m0: i32 = 0, m1: i32 = i32.MAX_VALUE, n0: i32 = 0, n1: i32 = i32.MAX_VALUE,
): void {
  m1 = min(m1, M);
  n1 = min(n1, N);
  if (m0 >= m1 || n0 >= n1) return;
  if (K <= 0) {
    if (!accumulate && cMode == C_MATRIX) {
      for (let i = m0; i < m1; i++) memory.fill(C + ((<usize>i * ldc + n0) << 2), 0, <usize>(n1 - n0) << 2);
    }
    if (epiOn && cMode == C_MATRIX) epilogue_tile(C + ((<usize>m0 * ldc + n0) << 2), <usize>ldc << 2, m1 - m0, n1 - n0, group * N + n0);
    return;
  }
  if (M < MR && aMode == A_MATRIX && cMode == C_MATRIX) {
    gemv_rows(K, A, lda, transA, B, ldb, transB, C, ldc, accumulate, group, N, m0, m1, n0, n1);
    return;
  }
  const packA = ws;
  const packB = ws + <usize>PACK_A_BYTES;
  const tile = ws + <usize>WS_SCRATCH;
  // split K into equal blocks of at most KC (no short last block)
  const kBlocks = (K + KC - 1) / KC;
  const kcMax = (K + kBlocks - 1) / kBlocks;
  // and M into equal blocks of at most MC rows, rounded up to whole MR strips
  const mBlocks = (M + MC - 1) / MC;
  const mcMax = min(MC, ((M + mBlocks - 1) / mBlocks + MR - 1) / MR * MR);
  const ldcBytes = <usize>ldc << 2;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = min(kcMax, K - pc);
      pack_b(B, ldb, transB, pc, kc, jc, nc, packB);
      const acc = accumulate || pc > 0;
      // the fused epilogue (epilogue_f32.ts) runs on each tile of C after its last K block
      const epilogue = epiOn && cMode == C_MATRIX && pc + kc >= K;
      for (let ic = m0; ic < m1; ic += mcMax) {
        const mc = min(mcMax, m1 - ic);
        if (aMode == A_IM2COL) pack_a_im2col(A, group, ic, mc, pc, kc, packA);
        else if (aMode == A_IM2COL_T) pack_a_im2col_t(A, group, ic, mc, pc, kc, packA);
        else pack_a_matrix(A, lda, transA, ic, mc, pc, kc, packA);
        if (cMode == C_COL2IM) im2col_rows(ic, mc, mc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = packB + <usize>jr * <usize>kc * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const pa = packA + <usize>ir * <usize>kc * 4;
            if (cMode == C_MATRIX) {
              const c = C + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
              if (mr == MR && nr == NR) ukernel(kc, pa, pb, c, ldcBytes, acc);
              else {
                ukernel(kc, pa, pb, tile, 32, false);
                merge_tile(tile, c, ldc, mr, nr, acc);
              }
            } else {
              ukernel(kc, pa, pb, tile, 32, false);
              col2im_add_tile(tile, ir, mr, jc + jr, nr, C, group);
            }
          }
          // the epilogue on the mc x nr panel just stored (at most 240 x 8 floats, still in L1 or
          // L2): one call per panel, not per register tile, whose call and setup cost as much
          // as the tile's work where K is small (MobileNet's 1x1 layers of 16-32 channels).
          // Inside the micro-kernels it made V8 allocate their loop's registers worse (every
          // GEMM ran 2x slower).
          if (epilogue) epilogue_tile(C + ((<usize>ic * ldc + jc + jr) << 2), ldcBytes, mc, nr, group * N + jc + jr);
        }
      }
    }
  }
}

/**
 * Whether `parts` parts of a GEMM with an M x N output take bands of columns (else of
 * rows). Each part packs all of the operand it does not split, so the split goes across
 * the longer side (rows: every part packs all of B; columns: all of A), where both give
 * every part whole register tiles. (A 64 x 400 x 120 dense-layer GEMM split by rows had
 * both threads pack the whole 400 x 120 B, and ResNet-18's 7x7x512 convolutions at batch
 * 1 every part the whole 9 MB filter: 2 threads were no faster than one.)
 */
export function splitByColumns(M: i32, N: i32, parts: i32): bool {
  const byRows = M >= parts * MR * 2, byCols = N >= parts * NR * 2;
  return byCols && (!byRows || N > M);
}

/**
 * C[M,N] (+)= op(A)[M,K] op(B)[K,N], row-major, pointers in bytes, leading dimensions
 * in elements. op(A)[i,k] = transA ? A[k*lda+i] : A[i*lda+k]; op(B) likewise.
 */
export function gemm_f32(
  M: i32, N: i32, K: i32,
  A: usize, lda: i32, transA: bool,
  B: usize, ldb: i32, transB: bool,
  C: usize, ldc: i32, accumulate: bool,
  ws: usize, part: i32, parts: i32,
): void {
  // Part `part` of `parts`: a band of rows or of columns (bitwise the same result either way).
  if (!splitByColumns(M, N, parts)) {
    gemm_f32_driver(M, N, K, A_MATRIX, A, lda, transA, B, ldb, transB, C_MATRIX, C, ldc, accumulate, ws, 0,
      partBegin(M, MR, part, parts), partBegin(M, MR, part + 1, parts), 0, N);
  } else {
    gemm_f32_driver(M, N, K, A_MATRIX, A, lda, transA, B, ldb, transB, C_MATRIX, C, ldc, accumulate, ws, 0,
      0, M, partBegin(N, NR, part, parts), partBegin(N, NR, part + 1, parts));
  }
}
