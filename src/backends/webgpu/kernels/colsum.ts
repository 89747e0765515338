/**
 * Column sums of a matrix viewed as [M, C] (C contiguous): the per-channel reductions
 * of an NHWC training step (bias gradients, batch-norm statistics and gradients), where
 * M = N*H*W is large and C is small.
 *
 * One workgroup per (block of 64 channels, chunk of rows): its 256 threads are 64
 * channel lanes x 4 row lanes, so each read of 64 neighbouring channels is coalesced;
 * every thread adds its rows of the chunk, the 4 row lanes are combined in workgroup
 * memory and the chunk's partial sums are written to a [chunks, C] scratch buffer. A
 * second program adds the chunks per channel. Chunks are sized so that a large GPU gets
 * several hundred workgroups (a workgroup per channel would give ResNet's first layers
 * only 64).
 *
 * The summed term is a small WGSL expression of the row's element index `i` and its
 * channel `c` (the plain value, a squared deviation from a per-channel mean, or the two
 * batch-norm gradient sums at once).
 */
import type { GpuData, WebGPUBackend } from '../backend.js';
import { MAIN_1D, grid1d, type BufferDecl, type ProgramDef } from '../program.js';

export interface ColumnTerm {
  key: string;
  /** Inputs the term reads (besides nothing else). */
  inputs: BufferDecl[];
  /** One WGSL f32 expression per sum produced, in `i` (flat index) and `c` (channel). */
  terms: string[];
  /** WGSL statements run once per thread before its loop (per-channel constants). */
  setup?: string;
  /** Extra f32 uniforms the term reads. */
  params?: string[];
}

const LANES = 64;
const ROWS = 4;

function partialProgram(t: ColumnTerm): ProgramDef {
  const outs: BufferDecl[] = t.terms.map((_, j) => ({ name: `P${j}`, type: 'f32', access: 'read_write' }));
  const shared = t.terms.map((_, j) => `var<workgroup> part${j}: array<f32, ${LANES * ROWS}>;`).join('\n');
  const accs = t.terms.map((_, j) => `var acc${j} = 0.0;`).join(' ');
  const adds = t.terms.map((e, j) => `acc${j} += ${e};`).join(' ');
  const stores = t.terms.map((_, j) => `part${j}[lid] = acc${j};`).join(' ');
  const combine = t.terms
    .map((_, j) => `P${j}[wg.y * u.C + c] = part${j}[lx] + part${j}[lx + ${LANES}u] + part${j}[lx + ${2 * LANES}u] + part${j}[lx + ${3 * LANES}u];`)
    .join('\n    ');
  return {
    key: `colsum:${t.key}`,
    buffers: [...t.inputs, ...outs],
    params: [{ name: 'M', type: 'u32' }, { name: 'C', type: 'u32' }, { name: 'rowsPerChunk', type: 'u32' }, ...(t.params ?? []).map((name) => ({ name, type: 'f32' as const }))],
    body: `${shared}
@compute @workgroup_size(${LANES}, ${ROWS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lx = l.x;
  let c = wg.x * ${LANES}u + lx;
  let ok = c < u.C;
  let r0 = wg.y * u.rowsPerChunk;
  let r1 = min(u.M, r0 + u.rowsPerChunk);
  ${accs}
  if (ok) {
    ${t.setup ?? ''}
    for (var r = r0 + l.y; r < r1; r += ${ROWS}u) {
      let i = r * u.C + c;
      ${adds}
    }
  }
  ${stores}
  workgroupBarrier();
  if (l.y == 0u && ok) {
    ${combine}
  }
}`,
  };
}

const SUM_CHUNKS: ProgramDef = {
  key: 'colsum:chunks',
  buffers: [
    { name: 'P', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
  ],
  params: [{ name: 'C', type: 'u32' }, { name: 'chunks', type: 'u32' }, { name: 'scale', type: 'f32' }],
  body: `${MAIN_1D}
  if (i >= u.C) { return; }
  var acc = 0.0;
  for (var k = 0u; k < u.chunks; k++) { acc += P[k * u.C + i]; }
  Y[i] = acc * u.scale;
}`,
};

const programs = new Map<string, ProgramDef>();

/**
 * Record out[j][c] = scale * sum over rows m < M of term_j(m*C + c), for each term j.
 * `outs` are storages of C elements.
 */
export function columnSums(be: WebGPUBackend, term: ColumnTerm, inputs: GpuData[], outs: GpuData[], M: number, C: number, params: Record<string, number> = {}, scale = 1): void {
  if (C === 0) return;
  let prog = programs.get(term.key);
  if (!prog) {
    prog = partialProgram(term);
    programs.set(term.key, prog);
  }
  const blocks = Math.ceil(C / LANES);
  // Enough chunks for ~512 workgroups in all, none shorter than 64 rows.
  const chunks = Math.max(1, Math.min(Math.ceil(M / 64), Math.ceil(512 / blocks), 65535));
  const rowsPerChunk = Math.max(1, Math.ceil(M / chunks));
  const parts = term.terms.map(() => be.alloc(chunks * C, 'float32'));
  be.run(prog, [...inputs, ...parts], { M, C, rowsPerChunk, ...params }, [blocks, chunks, 1]);
  parts.forEach((p, j) => {
    be.run(SUM_CHUNKS, [p, outs[j]], { C, chunks, scale }, grid1d(C));
    be.disposeData(p);
  });
}

export const PLAIN_SUM: ColumnTerm = {
  key: 'x',
  inputs: [{ name: 'X', type: 'f32', access: 'read' }],
  terms: ['X[i]'],
};
