/**
 * A compute program: one WGSL entry point plus the declarations every kernel needs
 * (storage bindings, a uniform block of parameters, index helpers). Kernels describe a
 * program with `ProgramDef`; the backend compiles each distinct `key` once and caches
 * the pipeline, so shapes and scalars travel as uniforms, never as new shader text.
 */

export type ScalarType = 'f32' | 'i32' | 'u32';

/** A storage buffer binding, in binding order. */
export interface BufferDecl {
  name: string;
  type: ScalarType | 'vec4<f32>';
  access: 'read' | 'read_write';
}

/**
 * A uniform parameter: a scalar, or (with `len`) an array of up to `len` u32/i32 values
 * stored as vec4s and read with the generated accessor `<name>_at(i)`.
 */
export interface ParamDecl {
  name: string;
  type: ScalarType;
  len?: number;
}

export interface ProgramDef {
  /** Unique per distinct WGSL text: the kernel name plus its specialisation. */
  key: string;
  buffers: BufferDecl[];
  params: ParamDecl[];
  /** WGSL after the generated declarations; must define `main`. */
  body: string;
}

export type ParamValues = Record<string, number | readonly number[]>;

/** Threads per workgroup of the one-dimensional (elementwise-style) programs. */
export const WG = 256;

/**
 * Flat thread index for 1-D programs dispatched by `grid1d`: workgroups are laid out
 * on x (at most 65535) then y, since one dimension cannot count every element of a
 * large activation tensor.
 */
export const MAIN_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${WG}u + lid;`;

/**
 * WGSL helpers shared by all programs. NaN is tested on the bits because WGSL lets
 * compilers assume that floating-point values are never NaN; NaN and infinity are
 * made from private variables because a constant expression may not hold them.
 */
const PRELUDE = `
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nan_f32() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_f32() -> f32 { return bitcast<f32>(INF_BITS); }
`;

interface Layout {
  /** Byte offset of each parameter in the uniform block. */
  offsets: Map<string, number>;
  bytes: number;
  wgsl: string;
}

const layouts = new Map<string, Layout>();

function layoutOf(def: ProgramDef): Layout {
  const cached = layouts.get(def.key);
  if (cached) return cached;
  // Arrays (16-byte aligned vec4 elements) first, then 4-byte scalars.
  const arrays = def.params.filter((p) => p.len !== undefined);
  const scalars = def.params.filter((p) => p.len === undefined);
  const offsets = new Map<string, number>();
  const fields: string[] = [];
  const helpers: string[] = [];
  let off = 0;
  for (const p of arrays) {
    const vecs = Math.max(1, Math.ceil(p.len! / 4));
    offsets.set(p.name, off);
    off += 16 * vecs;
    fields.push(`  ${p.name}: array<vec4<${p.type}>, ${vecs}>,`);
    helpers.push(`fn ${p.name}_at(i: u32) -> ${p.type} { return u.${p.name}[i / 4u][i % 4u]; }`);
  }
  for (const p of scalars) {
    offsets.set(p.name, off);
    off += 4;
    fields.push(`  ${p.name}: ${p.type},`);
  }
  if (!fields.length) {
    fields.push('  unused: u32,');
    off = 4;
  }
  const bytes = Math.ceil(off / 16) * 16;
  const decls = def.buffers.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`);
  decls.push(`struct Params {\n${fields.join('\n')}\n}`);
  decls.push(`@group(0) @binding(${def.buffers.length}) var<uniform> u: Params;`);
  const wgsl = `${decls.join('\n')}\n${helpers.join('\n')}\n${PRELUDE}\n${def.body}\n`;
  const layout = { offsets, bytes, wgsl };
  layouts.set(def.key, layout);
  return layout;
}

/** The full WGSL source of a program. */
export function programSource(def: ProgramDef): string {
  return layoutOf(def).wgsl;
}

/** Pack parameter values into the bytes of the uniform block. */
export function packParams(def: ProgramDef, values: ParamValues): ArrayBuffer {
  const layout = layoutOf(def);
  const buf = new ArrayBuffer(layout.bytes);
  const view = new DataView(buf);
  for (const p of def.params) {
    const v = values[p.name];
    if (v === undefined) throw new Error(`webgpu program ${def.key}: parameter '${p.name}' is missing`);
    const off = layout.offsets.get(p.name)!;
    const list = typeof v === 'number' ? [v] : v;
    if (p.len !== undefined && list.length > p.len) {
      throw new RangeError(`webgpu program ${def.key}: parameter '${p.name}' holds at most ${p.len} values, received ${list.length}`);
    }
    list.forEach((x, i) => {
      const o = off + 4 * i;
      if (p.type === 'f32') view.setFloat32(o, x, true);
      else if (p.type === 'i32') view.setInt32(o, x, true);
      else view.setUint32(o, x, true);
    });
  }
  return buf;
}

/** Workgroup counts for `n` threads of a 1-D program (see MAIN_1D). */
export function grid1d(n: number, wg = WG): [number, number, number] {
  const groups = Math.ceil(n / wg);
  if (groups === 0) return [0, 0, 0];
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** WGSL element type of a tensor dtype on this backend. */
export function wgslType(dtype: string): 'f32' | 'i32' {
  if (dtype === 'float32') return 'f32';
  if (dtype === 'int32') return 'i32';
  throw new TypeError(`webgpu: dtype ${dtype} is not stored on the GPU (float32 and int32 only)`);
}
