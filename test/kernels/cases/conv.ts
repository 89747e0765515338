/**
 * Convolutions, 2-D and 3-D, forward, input gradient and filter gradient. Geometry attrs
 * are built with the ops' own functions (computeConv2DInfo / computeConv3DInfo) from a
 * drawn input shape, filter size, strides, padding ('valid', 'same' or explicit),
 * dilations and groups (depthwise and 1x1 filters come up among the draws); channels per
 * group come from the backend's sizes. Reduction lengths: forward kh*kw*Cg, input
 * gradient about kh*kw*Fg, filter gradient N*outH*outW.
 */
import fc from 'fast-check';
import { computeConv2DInfo, computeConv3DInfo, type Conv2DInfo, type Conv3DInfo, type ConvOpts, type Padding } from '../../../src/kernels/conv_info.js';
import type { CaseTable, KernelCase, SizeContext } from '../harness.js';
import { dim, f32, seed } from './common.js';

type Which = 'forward' | 'input' | 'filter';

const padding = (rank: number): fc.Arbitrary<Padding> =>
  fc.oneof(
    fc.constantFrom<Padding>('valid', 'same'),
    fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: rank, maxLength: rank }).map((p) => p as Padding),
  );

interface Geometry {
  xShape: number[];
  wShape: number[];
  opts: ConvOpts;
  conv: Conv2DInfo | Conv3DInfo;
  s: number;
  Cg: number;
  Fg: number;
}

/** A drawn 2-D (rank 2) or 3-D (rank 3) geometry: x shape, w shape, options. */
function geometry(ctx: SizeContext, rank: 2 | 3): fc.Arbitrary<Geometry> {
  const maxSpatial = rank === 3 ? 4 : ctx.slow ? 6 : 9;
  const maxK = rank === 3 ? 2 : 3;
  const channels: fc.Arbitrary<number> = rank === 3 ? fc.constantFrom(1, 2, 3, 4, 5) : dim(ctx);
  const sp = (max: number) => fc.array(fc.integer({ min: 1, max }), { minLength: rank, maxLength: rank });
  return fc
    .record({
      N: fc.constantFrom(1, 2),
      spatial: sp(maxSpatial),
      k: sp(maxK),
      strides: sp(rank === 3 ? 2 : 3),
      dilations: fc.array(fc.constantFrom(1, 1, 2), { minLength: rank, maxLength: rank }),
      padding: padding(rank),
      groups: fc.constantFrom(1, 1, 2, 3),
      Cg: channels,
      Fg: channels,
      depthwise: fc.boolean(),
      s: seed,
    })
    .map((g): Geometry | null => {
      const Cg = g.depthwise ? 1 : g.Cg;
      const groups = g.depthwise ? Math.min(g.Cg, 8) : g.groups;
      const Fg = g.depthwise ? 1 + (g.s % 2) : g.Fg; // depth multiplier 1 or 2
      const xShape = [g.N, ...g.spatial, Cg * groups];
      const wShape = [...g.k, Cg, Fg * groups];
      const opts: ConvOpts = { strides: g.strides, dilations: g.dilations, padding: g.padding, groups };
      try {
        const conv: Conv2DInfo | Conv3DInfo = rank === 2 ? computeConv2DInfo('conformance', xShape, wShape, opts) : computeConv3DInfo('conformance', xShape, wShape, opts);
        return { xShape, wShape, opts, conv, s: g.s, Cg, Fg };
      } catch {
        return null; // a window larger than the padded input: the ops reject it
      }
    })
    .filter((g): g is Geometry => g !== null);
}

function cases(rank: 2 | 3, which: Which) {
  return (ctx: SizeContext): fc.Arbitrary<KernelCase> =>
    geometry(ctx, rank).map(({ xShape, wShape, opts, conv, s, Cg, Fg }) => {
      const outSpatial = 'outD' in conv ? [conv.outD, conv.outH, conv.outW] : [conv.outH, conv.outW];
      const yShape = [conv.batch, ...outSpatial, conv.outC];
      const taps = wShape.slice(0, rank).reduce((a, b) => a * b, 1);
      const note = `x ${JSON.stringify(xShape)} w ${JSON.stringify(wShape)} ${JSON.stringify(opts)}`;
      if (which === 'forward') return { inputs: [f32(xShape, s), f32(wShape, s + 1)], attrs: { conv }, K: taps * Cg, note };
      if (which === 'input') return { inputs: [f32(yShape, s), f32(wShape, s + 1)], attrs: { conv }, K: taps * Fg, note };
      return { inputs: [f32(xShape, s), f32(yShape, s + 1)], attrs: { conv }, K: conv.batch * outSpatial.reduce((a, b) => a * b, 1), note };
    });
}

/** FusedConv2D: a drawn 2-D forward geometry, a bias and each epilogue (relu6's clamp at 6 is reached by the larger sums). */
function fusedCases(ctx: SizeContext): fc.Arbitrary<KernelCase> {
  return fc.tuple(cases(2, 'forward')(ctx), fc.constantFrom('linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'), fc.constantFrom(0, 0.01, 0.3), seed).map(([c, activation, alpha, s]) => {
    const conv = c.attrs!.conv as Conv2DInfo;
    return {
      ...c,
      // biases in [-2, 7): some outputs pass relu6's 6
      inputs: [...c.inputs, f32([conv.outC], s, -2, 7)],
      attrs: { conv, activation, leakyReluAlpha: alpha },
      note: `${c.note} ${activation} alpha ${alpha}`,
    };
  });
}

/**
 * FusedConv2DConcat: 1 to 3 branches on one batch and output size (stride 1 or 2 with 'same'
 * padding), each with its own channels, filters, kernel size (1, 3 or 5), groups (now and
 * then depthwise: the wasm backend's copy fallback), bias and epilogue.
 */
function concatCases(ctx: SizeContext): fc.Arbitrary<KernelCase> {
  const branch = fc.record({ k: fc.constantFrom(1, 3, 5), Cg: dim(ctx), Fg: dim(ctx), groups: fc.constantFrom(1, 1, 1, 2, 0), activation: fc.constantFrom('linear', 'relu', 'relu6', 'leakyRelu', 'hardSigmoid', 'hardSwish', 'swish'), s: seed });
  return fc
    .record({ N: fc.constantFrom(1, 2), H: fc.integer({ min: 1, max: ctx.slow ? 6 : 9 }), W: fc.integer({ min: 1, max: ctx.slow ? 6 : 9 }), stride: fc.constantFrom(1, 1, 2), branches: fc.array(branch, { minLength: 1, maxLength: 3 }) })
    .map(({ N, H, W, stride, branches }) => {
      const inputs: KernelCase['inputs'] = [];
      const attrs = branches.map((b) => {
        // groups 0: depthwise (one input channel per group, multiplier 1 or 2)
        const depthwise = b.groups === 0;
        const groups = depthwise ? Math.min(b.Cg, 8) : b.groups;
        const Cg = depthwise ? 1 : b.Cg, Fg = depthwise ? 1 + (b.s % 2) : b.Fg;
        const xShape = [N, H, W, Cg * groups], wShape = [b.k, b.k, Cg, Fg * groups];
        const conv = computeConv2DInfo('conformance', xShape, wShape, { strides: stride, padding: 'same', groups });
        inputs.push(f32(xShape, b.s), f32(wShape, b.s + 1), f32([conv.outC], b.s + 2, -2, 7));
        return { conv, activation: b.activation, leakyReluAlpha: 0.01 + (b.s % 3) * 0.1 };
      });
      const K = Math.max(...attrs.map((a) => a.conv.kH * a.conv.kW * (a.conv.inC / a.conv.groups)));
      return { inputs, attrs: { branches: attrs }, K, note: attrs.map((a) => `[x ${a.conv.inC} ch, ${a.conv.kH}x${a.conv.kW}, ${a.conv.outC} filters, groups ${a.conv.groups}, ${a.activation}]`).join(' ') + ` on ${N}x${H}x${W} stride ${stride}` };
    });
}

const TOL = 1e-6; // long partial sums: see harness.ts

export const convCases: CaseTable = {
  Conv2D: { cases: cases(2, 'forward'), tol: TOL },
  Conv2DBackpropInput: { cases: cases(2, 'input'), tol: TOL },
  Conv2DBackpropFilter: { cases: cases(2, 'filter'), tol: TOL },
  FusedConv2D: { cases: fusedCases, tol: TOL },
  FusedConv2DConcat: { cases: concatCases, tol: TOL },
  Conv3D: { cases: cases(3, 'forward'), tol: TOL },
  Conv3DBackpropInput: { cases: cases(3, 'input'), tol: TOL },
  Conv3DBackpropFilter: { cases: cases(3, 'filter'), tol: TOL },
};
