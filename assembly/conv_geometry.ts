// Convolution geometry shared by the im2col packers, the col2im scatter and the
// depthwise kernels. The host writes CONV_GEOMETRY_LENGTH i32 into memory, in the order
// of CONV_GEOMETRY in src/kernels/wasm_abi.ts (the CONV_GEOMETRY_* slot indices of
// abi.ts), and conv_geometry_load copies them into the globals below (gN = batch, gD =
// inD, ..., gF = outC, gKD = kD, gSD = strideD, gDD = dilationD, gPD = padFront, ...).
// 2-D convolutions are 3-D ones with D = OD = KD = 1.
import {
  CONV_GEOMETRY_BATCH, CONV_GEOMETRY_IN_D, CONV_GEOMETRY_IN_H, CONV_GEOMETRY_IN_W, CONV_GEOMETRY_IN_C,
  CONV_GEOMETRY_OUT_D, CONV_GEOMETRY_OUT_H, CONV_GEOMETRY_OUT_W, CONV_GEOMETRY_OUT_C,
  CONV_GEOMETRY_K_D, CONV_GEOMETRY_K_H, CONV_GEOMETRY_K_W,
  CONV_GEOMETRY_STRIDE_D, CONV_GEOMETRY_STRIDE_H, CONV_GEOMETRY_STRIDE_W,
  CONV_GEOMETRY_DILATION_D, CONV_GEOMETRY_DILATION_H, CONV_GEOMETRY_DILATION_W,
  CONV_GEOMETRY_PAD_FRONT, CONV_GEOMETRY_PAD_TOP, CONV_GEOMETRY_PAD_LEFT, CONV_GEOMETRY_GROUPS,
} from './abi';
import { CONV_TABLES_BYTES } from './gemm_config';

export let gN: i32 = 0, gD: i32 = 0, gH: i32 = 0, gW: i32 = 0, gC: i32 = 0;
export let gOD: i32 = 0, gOH: i32 = 0, gOW: i32 = 0, gF: i32 = 0;
export let gKD: i32 = 0, gKH: i32 = 0, gKW: i32 = 0;
export let gSD: i32 = 0, gSH: i32 = 0, gSW: i32 = 0;
export let gDD: i32 = 0, gDH: i32 = 0, gDW: i32 = 0;
export let gPD: i32 = 0, gPH: i32 = 0, gPW: i32 = 0;
export let gGroups: i32 = 1;
/**
 * Floats from one output pixel to the next in y (forward passes): gF, unless the host gives
 * a larger one (conv_forward_fused_f32's `ys`: the convolution writes its channels into a
 * slice of a wider tensor, a concatenation of several convolutions' outputs).
 */
export let gYS: i32 = 0;
/** Derived: channels and filters per group, reduction length per group, output pixels. */
export let gCg: i32 = 0, gFg: i32 = 0, gKg: i32 = 0, gOutPix: i32 = 0, gInPix: i32 = 0;

/**
 * Byte offset of each spatial tap (kd, kh, kw), in row-major tap order, from the first
 * channel of its window's origin pixel; filled by conv_geometry_load when the kernel
 * has at most TAPS_MAX taps (gTapsFit), which is every practical kernel.
 */
export const TAPS_MAX: i32 = 4096;
export let gTapsFit: bool = false;

// Lookup tables live at the end of the GEMM workspace (gemm_f32_workspace_bytes counts
// them), not in static data: static tables would ship as zeros inside the module.
/** Rows of one packed block the im2col row tables hold (>= MC). */
export const ROWS_MAX: i32 = 256;
export let tapOff: usize = 0;
export let rowImg: usize = 0, rowD: usize = 0, rowH: usize = 0, rowW: usize = 0, rowIn: usize = 0;
export let dwTapIn: usize = 0, dwTapFilt: usize = 0;
// The im2col packer's per-strip tables (8 ints each), in the workspace's per-thread
// scratch after the GEMM's edge tile (gemm_config.ts WS_SCRATCH).
export let tapD: usize = 0, tapH: usize = 0, tapW: usize = 0, tapC: usize = 0, tapO: usize = 0, colO: usize = 0;

/** Point the tables at `t` (CONV_TABLES_BYTES of scratch). */
export function conv_tables_at(t: usize): void {
  tapOff = t;
  rowImg = tapOff + (<usize>TAPS_MAX << 2);
  rowD = rowImg + (<usize>ROWS_MAX << 2);
  rowH = rowD + (<usize>ROWS_MAX << 2);
  rowW = rowH + (<usize>ROWS_MAX << 2);
  rowIn = rowW + (<usize>ROWS_MAX << 2);
  dwTapIn = rowIn + (<usize>ROWS_MAX << 2);
  dwTapFilt = dwTapIn + (<usize>TAPS_MAX << 2);
  tapD = t + <usize>CONV_TABLES_BYTES + 8 * 8 * 4;
  tapH = tapD + 32;
  tapW = tapH + 32;
  tapC = tapW + 32;
  tapO = tapC + 32;
  colO = tapO + 32;
}

/** Load the geometry at `p`; `tables` is the conv table area of the workspace. */
export function conv_geometry_load(p: usize, tables: usize): void {
  conv_tables_at(tables);
  gN = load<i32>(p, CONV_GEOMETRY_BATCH << 2);
  gD = load<i32>(p, CONV_GEOMETRY_IN_D << 2);
  gH = load<i32>(p, CONV_GEOMETRY_IN_H << 2);
  gW = load<i32>(p, CONV_GEOMETRY_IN_W << 2);
  gC = load<i32>(p, CONV_GEOMETRY_IN_C << 2);
  gOD = load<i32>(p, CONV_GEOMETRY_OUT_D << 2);
  gOH = load<i32>(p, CONV_GEOMETRY_OUT_H << 2);
  gOW = load<i32>(p, CONV_GEOMETRY_OUT_W << 2);
  gF = load<i32>(p, CONV_GEOMETRY_OUT_C << 2);
  gKD = load<i32>(p, CONV_GEOMETRY_K_D << 2);
  gKH = load<i32>(p, CONV_GEOMETRY_K_H << 2);
  gKW = load<i32>(p, CONV_GEOMETRY_K_W << 2);
  gSD = load<i32>(p, CONV_GEOMETRY_STRIDE_D << 2);
  gSH = load<i32>(p, CONV_GEOMETRY_STRIDE_H << 2);
  gSW = load<i32>(p, CONV_GEOMETRY_STRIDE_W << 2);
  gDD = load<i32>(p, CONV_GEOMETRY_DILATION_D << 2);
  gDH = load<i32>(p, CONV_GEOMETRY_DILATION_H << 2);
  gDW = load<i32>(p, CONV_GEOMETRY_DILATION_W << 2);
  gPD = load<i32>(p, CONV_GEOMETRY_PAD_FRONT << 2);
  gPH = load<i32>(p, CONV_GEOMETRY_PAD_TOP << 2);
  gPW = load<i32>(p, CONV_GEOMETRY_PAD_LEFT << 2);
  gGroups = load<i32>(p, CONV_GEOMETRY_GROUPS << 2);
  gYS = gF;
  fillTapOffsets();
}

function fillTapOffsets(): void {
  gOutPix = gN * gOD * gOH * gOW;
  gInPix = gN * gD * gH * gW;
  gCg = gC / gGroups;
  gFg = gF / gGroups;
  gKg = gKD * gKH * gKW * gCg;
  const taps = gKD * gKH * gKW;
  gTapsFit = taps <= TAPS_MAX;
  if (gTapsFit) {
    let t = 0;
    for (let kd = 0; kd < gKD; kd++) for (let kh = 0; kh < gKH; kh++) for (let kw = 0; kw < gKW; kw++) {
      store<i32>(tapOff + (<usize>t << 2), (((kd * gDD) * gH + kh * gDH) * gW + kw * gDW) * gC << 2);
      t++;
    }
  }
}

/**
 * Turn the loaded geometry (x -> y) into that of the unit-stride convolution whose
 * forward pass is the input gradient: dy -> dx with the kernel flipped in space and
 * its channel axes swapped, padded by dilation*(k-1) - pad before (which may be
 * negative: taps outside the padded range simply read zero).
 */
export function conv_geometry_to_input_grad(): void {
  let t = gD; gD = gOD; gOD = t;
  t = gH; gH = gOH; gOH = t;
  t = gW; gW = gOW; gOW = t;
  t = gC; gC = gF; gF = t;
  gYS = gF;
  gPD = gDD * (gKD - 1) - gPD;
  gPH = gDH * (gKH - 1) - gPH;
  gPW = gDW * (gKW - 1) - gPW;
  fillTapOffsets();
}

/** 1x1x1 kernel, unit strides, no padding: x is already the im2col matrix. */
export function conv_is_pointwise(): bool {
  return gKD == 1 && gKH == 1 && gKW == 1 && gSD == 1 && gSH == 1 && gSW == 1 && gPD == 0 && gPH == 0 && gPW == 0
    && gOD == gD && gOH == gH && gOW == gW;
}

/** One input channel per group (depthwise, with any channel multiplier). */
export function conv_is_depthwise(): bool {
  return gGroups > 1 && gCg == 1;
}

/** An out-of-range coordinate for rows past the edge of a block (every tap misses). */
export const OFF_GRID: i32 = -(1 << 28);
