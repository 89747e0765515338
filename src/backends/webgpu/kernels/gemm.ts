/**
 * The tiled, register-blocked GEMM every matrix-shaped kernel on `webgpu` runs:
 * MatMul (all transposes, batched) and the three convolution kernels (implicit GEMM).
 *
 *   C[b][m][n] = sum_k A(b, m, k) * B(b, k, n),   m < M, n < N, k < K, b < batch
 *
 * Only the operand loaders differ between ops: each op supplies WGSL functions
 * `load_a(b, m, k)` and `load_b(b, k, n)` (which may compute im2col addresses on the
 * fly: the implicit GEMM, no im2col buffer) and the output strides (sb, sm, sn).
 *
 * Tiling (workgroup of 16 x 16 threads):
 * - tile `t64`: a 64 x 64 block of C per workgroup, 4 x 4 outputs per thread, K in
 *   steps of 16; tile `t128`: 128 x 128 per workgroup, 8 x 8 per thread, K steps of 8.
 * - each K step, the 256 threads stage a BM x BK block of A and a BK x BN block of B in
 *   workgroup memory (8 KiB in both variants), consecutive threads walking the operand's
 *   contiguous index so global reads coalesce; then every thread accumulates its
 *   TM x TN outputs from registers: TM + TN shared-memory reads feed TM * TN FMAs.
 * - thread (tx, ty) owns rows ty + 16 i and columns tx + 16 j, so neighbouring threads
 *   store neighbouring columns (coalesced writes) and read distinct shared-memory banks.
 * - split K: when the output has too few tiles to fill a large GPU (the filter gradient
 *   of a convolution: M x N small, K = N*OH*OW large), K is cut into `splits` chunks
 *   whose partial products land in a scratch buffer and a second program adds them.
 * The inner loops are unrolled in the generated WGSL (accumulators are named vec4s), so
 * no driver has to keep an indexed array in registers.
 */
import type { DType } from '../../../tensor/dtype.js';
import type { GpuData, WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, type BufferDecl, type ParamDecl, type ParamValues, type ProgramDef } from '../program.js';

export interface GemmLoaders {
  /** Specialisation key (op and its loader variant). */
  key: string;
  /** Input bindings the loaders read (float32). */
  inputs: BufferDecl[];
  /** Extra uniforms the loaders read. */
  params: ParamDecl[];
  /** `fn load_a(b: u32, m: u32, k: u32) -> f32`, called only with m < M and k < K. */
  loadA: string;
  /** `fn load_b(b: u32, k: u32, n: u32) -> f32`, called only with k < K and n < N. */
  loadB: string;
  /** The index that is contiguous in memory for A (k: row-major [M, K]) and for B. */
  aFast: 'm' | 'k';
  bFast: 'k' | 'n';
}

export interface GemmDims {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Output element (b, m, n) is stored at b*sb + m*sm + n*sn. */
  sb: number;
  sm: number;
  sn: number;
}

type Tile = { name: 't64' | 't128'; tm: number; tn: number; bk: number };
const T64: Tile = { name: 't64', tm: 4, tn: 4, bk: 16 };
const T128: Tile = { name: 't128', tm: 8, tn: 8, bk: 8 };

/**
 * The GEMM's tiles as WebGPUBackend.tileSizes() reports them: outputs per workgroup side
 * (16 threads x TM) and the K step of each tile.
 */
export const GEMM_TILE_SIZES = {
  gemmTile: 16 * T64.tm, gemmKStep: T64.bk,
  gemmLargeTile: 16 * T128.tm, gemmLargeKStep: T128.bk,
} as const;

const GEMM_PARAMS: ParamDecl[] = [
  { name: 'M', type: 'u32' },
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'batch', type: 'u32' },
  { name: 'kchunk', type: 'u32' },
  { name: 'sb', type: 'u32' },
  { name: 'sm', type: 'u32' },
  { name: 'sn', type: 'u32' },
];

function tileLoad(op: 'a' | 'b', fast: string, rows: number, bk: number): string {
  // Stage a (rows x BK) block (A: rows = BM over m; B: rows = BN over n) into shared memory.
  const per = (rows * bk) / 256;
  const idx = op === 'a' ? 'm' : 'n';
  const [fastIdx, slowIdx, fastLen] = fast === 'k' ? ['kk', `${idx}${idx}`, bk] : [`${idx}${idx}`, 'kk', rows];
  const lim = op === 'a' ? 'u.M' : 'u.N';
  const call = op === 'a' ? 'load_a(b, g, gk)' : 'load_b(b, gk, g)';
  const store = op === 'a' ? `As[kk * ${rows}u + mm]` : `Bs[kk * ${rows}u + nn]`;
  return `  for (var r = 0u; r < ${per}u; r++) {
    let e = lid + r * 256u;
    let ${fastIdx} = e % ${fastLen}u;
    let ${slowIdx} = e / ${fastLen}u;
    let g = ${op === 'a' ? 'm0 + mm' : 'n0 + nn'};
    let gk = k0 + kk;
    var v = 0.0;
    if (g < ${lim} && gk < kEnd) { v = ${call}; }
    ${store} = v;
  }`;
}

function gemmProgram(l: GemmLoaders, tile: Tile, split: boolean): ProgramDef {
  const { tm, tn, bk } = tile;
  const BM = 16 * tm, BN = 16 * tn;
  const nv = tn / 4; // vec4 accumulators per row
  const lines: string[] = [];
  const decl: string[] = [];
  for (let i = 0; i < tm; i++) for (let v = 0; v < nv; v++) decl.push(`  var acc${i}_${v} = vec4<f32>(0.0);`);
  lines.push(`    for (var kk = 0u; kk < ${bk}u; kk++) {`);
  lines.push(`      let ar = kk * ${BM}u + ty;`);
  lines.push(`      let br = kk * ${BN}u + tx;`);
  for (let i = 0; i < tm; i++) lines.push(`      let a${i} = vec4<f32>(As[ar + ${16 * i}u]);`);
  for (let v = 0; v < nv; v++) {
    const e = [0, 1, 2, 3].map((c) => `Bs[br + ${16 * (4 * v + c)}u]`).join(', ');
    lines.push(`      let b${v} = vec4<f32>(${e});`);
  }
  for (let i = 0; i < tm; i++) for (let v = 0; v < nv; v++) lines.push(`      acc${i}_${v} = fma(a${i}, b${v}, acc${i}_${v});`);
  lines.push('    }');
  const stores: string[] = [];
  for (let i = 0; i < tm; i++) {
    stores.push(`  { let m = m0 + ty + ${16 * i}u;`);
    stores.push('    if (m < u.M) {');
    for (let v = 0; v < nv; v++) {
      for (let c = 0; c < 4; c++) {
        const j = 4 * v + c;
        const comp = 'xyzw'[c];
        const dst = split ? `(zb * u.M + m) * u.N + n` : `b * u.sb + m * u.sm + n * u.sn`;
        stores.push(`      { let n = n0 + tx + ${16 * j}u; if (n < u.N) { Y[${dst}] = acc${i}_${v}.${comp}; } }`);
      }
    }
    stores.push('    }\n  }');
  }
  const body = `${l.loadA}
${l.loadB}
var<workgroup> As: array<f32, ${BM * bk}>;
var<workgroup> Bs: array<f32, ${BN * bk}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid3.x;
  let ty = lid3.y;
  let zb = wg.z;
  let b = zb % u.batch;
  let s = zb / u.batch;
  let m0 = wg.y * ${BM}u;
  let n0 = wg.x * ${BN}u;
  let kBegin = s * u.kchunk;
  let kEnd = min(u.K, kBegin + u.kchunk);
${decl.join('\n')}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${bk}u) {
${tileLoad('a', l.aFast, BM, bk)}
${tileLoad('b', l.bFast, BN, bk)}
    workgroupBarrier();
${lines.join('\n')}
    workgroupBarrier();
  }
${stores.join('\n')}
}`;
  return {
    key: `gemm:${l.key}:${tile.name}:${split ? 'split' : 'direct'}`,
    buffers: [...l.inputs, { name: 'Y', type: 'f32', access: 'read_write' }],
    params: [...GEMM_PARAMS, ...l.params],
    body,
  };
}

const SPLIT_SUM: ProgramDef = {
  key: 'gemm:split-sum',
  buffers: [
    { name: 'part', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [...GEMM_PARAMS, { name: 'splits', type: 'u32' }],
  body: `${MAIN_1D}
  let total = u.batch * u.M * u.N;
  if (i >= total) { return; }
  let n = i % u.N;
  let m = (i / u.N) % u.M;
  let b = i / (u.N * u.M);
  var acc = 0.0;
  for (var s = 0u; s < u.splits; s++) { acc += part[s * total + i]; }
  Y[b * u.sb + m * u.sm + n * u.sn] = acc;
}`,
};

const programs = new Map<string, ProgramDef>();

/** Keys of the GEMM variants built so far (loaders:tile:split), for tests and benchmarks. */
export function gemmVariants(): string[] {
  return [...programs.keys()];
}

/** Workgroups a GPU needs to be busy: enough for ~2 per SM of a large part (132 SMs on an H100). */
const BUSY_WORKGROUPS = 256;

/**
 * Record C = A B with the given loaders into `out` (which the caller allocated with
 * room for every (b, m, n) at b*sb + m*sm + n*sn). Elements of `out` outside that
 * pattern are left untouched.
 */
export function gemm(be: WebGPUBackend, loaders: GemmLoaders, inputs: GpuData[], out: GpuData, d: GemmDims, extra: ParamValues, dtype: DType = 'float32'): void {
  const { batch, M, N, K } = d;
  if (batch === 0 || M === 0 || N === 0) return;
  const tile = M >= 512 && N >= 512 && Math.ceil(M / 128) * Math.ceil(N / 128) * batch >= BUSY_WORKGROUPS / 2 ? T128 : T64;
  const BM = 16 * tile.tm, BN = 16 * tile.tn;
  const tiles = Math.ceil(M / BM) * Math.ceil(N / BN) * batch;
  // Split K only when the tiles alone leave most of the GPU idle and each chunk still has real work.
  let splits = 1;
  if (tiles < BUSY_WORKGROUPS / 2 && K >= 2048) splits = Math.min(Math.ceil(BUSY_WORKGROUPS / tiles), Math.floor(K / 1024), 64);
  const kchunk = splits > 1 ? Math.ceil(K / splits / tile.bk) * tile.bk : Math.max(K, 1);
  splits = Math.max(1, Math.ceil(K / kchunk));
  const split = splits > 1;
  const key = `${loaders.key}:${tile.name}:${split}`;
  let prog = programs.get(key);
  if (!prog) {
    prog = gemmProgram(loaders, tile, split);
    programs.set(key, prog);
  }
  const params: ParamValues = { M, N, K, batch, kchunk, sb: d.sb, sm: d.sm, sn: d.sn, ...extra };
  const gx = Math.ceil(N / BN), gy = Math.ceil(M / BM), gz = batch * splits;
  if (!split) {
    be.run(prog, [...inputs, out], params, [gx, gy, gz]);
    return;
  }
  const part = be.alloc(splits * batch * M * N, dtype);
  be.run(prog, [...inputs, part], params, [gx, gy, gz]);
  be.run(SPLIT_SUM, [part, out], { ...params, splits }, grid1d(batch * M * N));
  be.disposeData(part);
}
