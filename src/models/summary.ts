/**
 * Model summaries (Keras' model.summary() with a MAC column), computed from shapes alone.
 *
 * Parameter counts: `totalParams` counts every weight, batch norm's running mean and
 * variance included (Keras' convention); `trainableParams` counts the trainable ones
 * (equal to PyTorch's sum(p.numel() for p in model.parameters()) for an unfrozen model);
 * `nonTrainableParams` is the difference (running statistics and frozen layers).
 *
 * MACs (multiply-accumulates per example): convolution OH*OW*F*KH*KW*C/groups (bias not
 * counted), transposed convolution H*W*C*KH*KW*F/groups, dense nIn*nOut; pooling,
 * normalisation, activations and merges count 0. One MAC is two FLOPs.
 */
import { Container } from '../layers/container.js';
import type { Layer } from '../layers/layer.js';
import type { Graph } from '../layers/graph.js';

export interface SummaryLayer {
  /** Layer name; nested layers (with `expand`) are written 'block/child'. */
  name: string;
  /** Layer class, e.g. 'Conv2D'. */
  type: string;
  /** Output shape of one example (no batch axis). */
  outputShape: number[];
  /** Every weight scalar of the layer (running statistics included). */
  params: number;
  trainableParams: number;
  /** Multiply-accumulates per example (summed over every use of a shared layer). */
  macs: number;
  /** Names of the layers (or inputs) feeding it, for graphs that are not a plain stack. */
  inputs?: string[];
  /** 0 for the model's own layers, 1 for layers inside a block, ... (with `expand`). */
  depth: number;
}

export interface ModelSummary {
  model: string;
  /** Input shape of one example (no batch axis); an array of shapes for several inputs. */
  input: number[] | number[][];
  output: number[] | number[][];
  layers: SummaryLayer[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Multiply-accumulates per example. */
  macs: number;
}

export interface SummaryOptions {
  /** Also list the layers inside blocks and nested models. */
  expand?: boolean;
}

interface ModelLike {
  name: string;
  layers: Layer[];
  inputShapes: number[][];
  outputShapes: number[][];
  countParams(which?: 'all' | 'trainable' | 'nonTrainable'): number;
}

function graphOf(c: Container): Graph {
  return (c as unknown as { requireGraph(): Graph }).requireGraph();
}

function rows(c: Container, inputShapes: number[][], prefix: string, depth: number, expand: boolean, showInputs: boolean): { rows: SummaryLayer[]; macs: number } {
  const g = graphOf(c);
  const a = g.analyse(inputShapes);
  const byLayer = new Map<Layer, SummaryLayer>();
  const out: SummaryLayer[] = [];
  g.nodes.forEach(({ node }, i) => {
    const existing = byLayer.get(node.layer);
    if (existing) {
      existing.macs += a.nodeMacs[i];
      return;
    }
    const row: SummaryLayer = {
      name: prefix + node.layer.name,
      type: node.layer.className,
      outputShape: a.nodeShapes[i],
      params: node.layer.countParams('all'),
      trainableParams: node.layer.countParams('trainable'),
      macs: a.nodeMacs[i],
      depth,
    };
    if (showInputs) row.inputs = node.inputs.map((t) => (t.node ? prefix + t.node.layer.name : t.name));
    byLayer.set(node.layer, row);
    out.push(row);
    if (expand && node.layer instanceof Container) {
      const ins = a.nodeInputShapes[i];
      const list = Array.isArray(ins[0]) ? (ins as number[][]) : [ins as number[]];
      out.push(...rows(node.layer, list, `${prefix}${node.layer.name}/`, depth + 1, expand, true).rows);
    }
  });
  return { rows: out, macs: a.macs };
}

/** A plain chain: every node has one input, the previous node's output. */
function isChain(g: Graph): boolean {
  let prev = g.inputs[0];
  if (g.inputs.length !== 1) return false;
  for (const { node, output } of g.nodes) {
    if (node.inputs.length !== 1 || node.inputs[0] !== prev) return false;
    prev = output;
  }
  return true;
}

export function summarize(model: ModelLike & Container, opts: SummaryOptions = {}): ModelSummary {
  const g = graphOf(model);
  const { rows: layers, macs } = rows(model, model.inputShapes, '', 0, !!opts.expand, !isChain(g));
  const total = model.countParams('all');
  const trainable = model.countParams('trainable');
  const single = (s: number[][]) => (s.length === 1 ? s[0] : s);
  return {
    model: model.name,
    input: single(model.inputShapes),
    output: single(model.outputShapes),
    layers,
    totalParams: total,
    trainableParams: trainable,
    nonTrainableParams: total - trainable,
    macs,
  };
}

/** 1234567 -> '1,234,567'. */
export function fmtInt(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 1.8e9 -> '1.80 G', 500 -> '500 ' (followed by a unit). */
export function fmtSI(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return `${n} `;
}

const shapeStr = (s: number[]) => `[${s.join(', ')}]`;

function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(2)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(2)} KiB`;
  return `${b} B`;
}

export function formatSummary(s: ModelSummary): string {
  const showInputs = s.layers.some((l) => l.inputs);
  const head = ['Layer (type)', 'Output shape', 'Params', 'MACs', ...(showInputs ? ['Connected to'] : [])];
  const body = s.layers.map((l) => [
    `${'  '.repeat(l.depth)}${l.name} (${l.type})`,
    shapeStr(l.outputShape),
    fmtInt(l.params),
    fmtInt(l.macs),
    ...(showInputs ? [(l.inputs ?? []).join(', ')] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const right = [false, false, true, true, false];
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('   ').trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
  const multi = Array.isArray(s.input[0]);
  const inStr = multi ? (s.input as number[][]).map(shapeStr).join(', ') : shapeStr(s.input as number[]);
  const out: string[] = [
    `Model: "${s.model}"   input ${inStr}`,
    '_'.repeat(width),
    line(head),
    '='.repeat(width),
    ...body.map(line),
    '='.repeat(width),
    `Total params: ${fmtInt(s.totalParams)} (${fmtBytes(s.totalParams * 4)} as float32)`,
    `Trainable params: ${fmtInt(s.trainableParams)}`,
    `Non-trainable params: ${fmtInt(s.nonTrainableParams)}`,
    `MACs per example: ${fmtInt(s.macs)} (${fmtSI(s.macs)}MACs)`,
    '_'.repeat(width),
  ];
  return out.join('\n');
}
