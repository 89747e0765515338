/**
 * The charts: line charts (training curves), bar charts, a confusion matrix as a heat map
 * and a grid of images, each returned as a `Plot` (`.svg()`, `.png()`, `.rgba()`), plus
 * `historyChart` for fit's History and `liveHistory`, a fit callback that re-renders a
 * chart after every epoch.
 */
import type { Tensor } from '../tensor/tensor.js';
import { fmtShape } from '../tensor/shape.js';
import { BaseCallback, type Callback, type Logs } from '../train/callbacks.js';
import { PALETTE, parseColor, Plot, textWidth, type Rgb, type Shape } from './scene.js';

/** Options every chart takes. */
export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Size in pixels; default 640 x 400. */
  width?: number;
  height?: number;
  /** Series (or bar) colours in order: '#rrggbb', '#rgb', 'rgb(r, g, b)' or a basic name; default matplotlib's tab10. */
  colors?: readonly string[];
  /** Show the legend (default: when there are two or more series). */
  legend?: boolean;
}

/** One line of a line chart. */
export interface LineSeries {
  name?: string;
  values: readonly number[];
  /** x of each value; default 0, 1, 2, ... (historyChart: epochs 1, 2, ...). */
  x?: readonly number[];
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions extends ChartOptions {
  /** Fix the y range (default: the data's, padded). */
  yMin?: number;
  yMax?: number;
}

const BLACK: Rgb = [0, 0, 0], GRID: Rgb = [225, 225, 225], AXIS: Rgb = [60, 60, 60], TEXT: Rgb = [30, 30, 30];

function checkSize(op: string, v: number | undefined, dflt: number, what: string): number {
  const s = v ?? dflt;
  if (!Number.isInteger(s) || s < 64 || s > 8192) throw new RangeError(`${op}: ${what} must be an integer in [64, 8192] pixels, received ${v}`);
  return s;
}

function checkFinite(op: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}: ${name} has ${v} at index ${i} (values must be finite numbers)`);
  }
}

/** Tick positions in [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const fmtTick = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
};

/** Frame: title, axis labels, plot area; returns the plot area and the shapes so far. */
function frame(op: string, opts: ChartOptions, yTickLabels: string[]) {
  const width = checkSize(op, opts.width, 640, 'width'), height = checkSize(op, opts.height, 400, 'height');
  const shapes: Shape[] = [];
  const tickW = Math.max(0, ...yTickLabels.map((t) => textWidth(t, 11)));
  const left = 14 + (opts.yLabel ? 18 : 0) + tickW, right = 16, top = opts.title ? 36 : 14, bottom = 34 + (opts.xLabel ? 18 : 0);
  if (opts.title) shapes.push({ kind: 'text', x: width / 2, y: 24, text: opts.title, size: 15, color: TEXT, anchor: 'middle', bold: true });
  if (opts.xLabel) shapes.push({ kind: 'text', x: left + (width - left - right) / 2, y: height - 10, text: opts.xLabel, size: 12, color: TEXT, anchor: 'middle' });
  if (opts.yLabel) shapes.push({ kind: 'text', x: 16, y: top + (height - top - bottom) / 2, text: opts.yLabel, size: 12, color: TEXT, anchor: 'middle', vertical: true });
  return { width, height, shapes, area: { x: left, y: top, w: width - left - right, h: height - top - bottom } };
}

function legend(shapes: Shape[], area: { x: number; y: number; w: number }, items: { name: string; color: Rgb; dashed?: boolean; box?: boolean }[]): void {
  const w = Math.max(...items.map((i) => textWidth(i.name, 11))) + 40, h = items.length * 16 + 8;
  const x = area.x + area.w - w - 8, y = area.y + 8;
  shapes.push({ kind: 'rect', x, y, w, h, fill: [255, 255, 255], stroke: [200, 200, 200] });
  items.forEach((it, i) => {
    const cy = y + 12 + i * 16;
    if (it.box) shapes.push({ kind: 'rect', x: x + 8, y: cy - 5, w: 18, h: 10, fill: it.color });
    else shapes.push({ kind: 'line', points: [[x + 8, cy], [x + 26, cy]], stroke: it.color, width: 2, dash: it.dashed });
    shapes.push({ kind: 'text', x: x + 32, y: cy + 4, text: it.name, size: 11, color: TEXT, anchor: 'start' });
  });
}

function colorsOf(op: string, opts: ChartOptions, n: number, own: (string | undefined)[] = []): Rgb[] {
  return Array.from({ length: n }, (_, i) => parseColor(own[i] ?? opts.colors?.[i] ?? PALETTE[i % PALETTE.length], op));
}

function yAxis(shapes: Shape[], area: { x: number; y: number; w: number; h: number }, ticks: number[], toY: (v: number) => number): void {
  for (const t of ticks) {
    const y = toY(t);
    shapes.push({ kind: 'line', points: [[area.x, y], [area.x + area.w, y]], stroke: GRID, width: 1 });
    shapes.push({ kind: 'text', x: area.x - 6, y: y + 4, text: fmtTick(t), size: 11, color: TEXT, anchor: 'end' });
  }
}

function axes(shapes: Shape[], area: { x: number; y: number; w: number; h: number }): void {
  shapes.push({ kind: 'line', points: [[area.x, area.y], [area.x, area.y + area.h], [area.x + area.w, area.y + area.h]], stroke: AXIS, width: 1 });
}

/** Normalise what lineChart accepts into named series. */
function toSeries(op: string, input: Record<string, readonly number[]> | readonly LineSeries[] | readonly number[]): LineSeries[] {
  let list: LineSeries[];
  if (Array.isArray(input) && (input.length === 0 || typeof input[0] === 'number')) list = [{ values: input as readonly number[] }];
  else if (Array.isArray(input)) list = [...(input as readonly LineSeries[])];
  else if (input && typeof input === 'object') list = Object.entries(input as Record<string, readonly number[]>).map(([name, values]) => ({ name, values }));
  else throw new TypeError(`${op}: pass an array of numbers, an array of series { name, values }, or an object { name: values }`);
  if (list.length === 0) throw new RangeError(`${op}: no series to plot`);
  list.forEach((s, i) => {
    const name = s.name !== undefined ? `series '${s.name}'` : `series ${i}`;
    if (!s || !s.values || typeof s.values.length !== 'number') throw new TypeError(`${op}: ${name} has no values array`);
    if (s.values.length === 0) throw new RangeError(`${op}: ${name} is empty`);
    checkFinite(op, name, s.values);
    if (s.x) {
      if (s.x.length !== s.values.length) throw new RangeError(`${op}: ${name} has ${s.values.length} values but ${s.x.length} x positions`);
      checkFinite(op, `${name} x`, s.x);
    }
  });
  return list;
}

/**
 * A line chart of one or more series:
 * `lineChart({ loss: [0.9, 0.5, 0.3], val_loss: [1.0, 0.7, 0.6] }, { title: 'Loss', xLabel: 'epoch' })`.
 */
export function lineChart(series: Record<string, readonly number[]> | readonly LineSeries[] | readonly number[], opts: LineChartOptions = {}): Plot {
  const op = 'lineChart';
  const list = toSeries(op, series);
  const xs = list.map((s) => s.x ?? s.values.map((_, i) => i));
  let lo = opts.yMin ?? Math.min(...list.map((s) => Math.min(...s.values)));
  let hi = opts.yMax ?? Math.max(...list.map((s) => Math.max(...s.values)));
  if (opts.yMin !== undefined || opts.yMax !== undefined) checkFinite(op, 'yMin/yMax', [lo, hi]);
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  } else if (opts.yMin === undefined && opts.yMax === undefined) {
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const yt = niceTicks(lo, hi);
  const { width, height, shapes, area } = frame(op, opts, yt.map(fmtTick));
  let xlo = Math.min(...xs.map((x) => Math.min(...x))), xhi = Math.max(...xs.map((x) => Math.max(...x)));
  if (!(xhi > xlo)) {
    xlo -= 1;
    xhi += 1;
  }
  const toX = (v: number) => area.x + ((v - xlo) / (xhi - xlo)) * area.w;
  const toY = (v: number) => area.y + area.h - ((v - lo) / (hi - lo)) * area.h;
  yAxis(shapes, area, yt, toY);
  const xt = niceTicks(xlo, xhi, Math.max(2, Math.min(8, Math.floor(area.w / 70))));
  const allInts = xs.every((x) => x.every(Number.isInteger));
  for (const t of xt) {
    if (allInts && !Number.isInteger(t)) continue;
    shapes.push({ kind: 'line', points: [[toX(t), area.y + area.h], [toX(t), area.y + area.h + 4]], stroke: AXIS, width: 1 });
    shapes.push({ kind: 'text', x: toX(t), y: area.y + area.h + 18, text: fmtTick(t), size: 11, color: TEXT, anchor: 'middle' });
  }
  axes(shapes, area);
  const colors = colorsOf(op, opts, list.length, list.map((s) => s.color));
  list.forEach((s, i) => {
    const pts = s.values.map((v, k) => [toX(xs[i][k]), toY(Math.min(hi, Math.max(lo, v)))] as const);
    shapes.push({ kind: 'line', points: pts, stroke: colors[i], width: 2, dash: s.dashed });
  });
  if (opts.legend ?? list.length > 1) legend(shapes, area, list.map((s, i) => ({ name: s.name ?? `series ${i}`, color: colors[i], dashed: s.dashed })));
  return new Plot(width, height, shapes);
}

export interface BarChartOptions extends ChartOptions {
  /** Category names under the bars (default 0, 1, 2, ... or the object's keys). */
  labels?: readonly string[];
}

/**
 * A bar chart: `barChart([3, 5, 2], { labels: ['cat', 'dog', 'bird'] })`, `barChart({ cat: 3, dog: 5 })`,
 * or grouped bars, one colour a series: `barChart({ train: [0.9, 0.8], test: [0.85, 0.7] }, { labels: ['a', 'b'] })`.
 */
export function barChart(data: readonly number[] | Record<string, number> | Record<string, readonly number[]>, opts: BarChartOptions = {}): Plot {
  const op = 'barChart';
  let labels: string[], series: { name: string; values: readonly number[] }[];
  if (Array.isArray(data)) {
    series = [{ name: 'values', values: data as readonly number[] }];
    labels = opts.labels ? [...opts.labels] : data.map((_, i) => String(i));
  } else if (data && typeof data === 'object') {
    const entries = Object.entries(data);
    if (entries.length > 0 && entries.every(([, v]) => typeof v === 'number')) {
      series = [{ name: 'values', values: entries.map(([, v]) => v as number) }];
      labels = opts.labels ? [...opts.labels] : entries.map(([k]) => k);
    } else {
      series = entries.map(([name, values]) => ({ name, values: values as readonly number[] }));
      for (const s of series) if (!Array.isArray(s.values)) throw new TypeError(`${op}: series '${s.name}' is not an array of numbers`);
      const n = series[0]?.values.length ?? 0;
      for (const s of series) if (s.values.length !== n) throw new RangeError(`${op}: series '${s.name}' has ${s.values.length} values, '${series[0].name}' has ${n} (grouped series need the same length)`);
      labels = opts.labels ? [...opts.labels] : Array.from({ length: n }, (_, i) => String(i));
    }
  } else throw new TypeError(`${op}: pass an array of numbers, an object { label: value }, or an object { series: values[] }`);
  if (series.length === 0 || series[0].values.length === 0) throw new RangeError(`${op}: no bars to draw (empty data)`);
  for (const s of series) checkFinite(op, series.length > 1 ? `series '${s.name}'` : 'values', s.values);
  const n = series[0].values.length;
  if (labels.length !== n) throw new RangeError(`${op}: ${labels.length} labels for ${n} bars`);
  const all = series.flatMap((s) => [...s.values]);
  let lo = Math.min(0, ...all), hi = Math.max(0, ...all);
  if (!(hi > lo)) hi = 1;
  else if (hi > 0) hi += (hi - lo) * 0.05;
  const yt = niceTicks(lo, hi);
  lo = Math.min(lo, yt[0]);
  const { width, height, shapes, area } = frame(op, opts, yt.map(fmtTick));
  const toY = (v: number) => area.y + area.h - ((v - lo) / (hi - lo)) * area.h;
  yAxis(shapes, area, yt, toY);
  const grouped = series.length > 1;
  const colors = colorsOf(op, opts, grouped ? series.length : n);
  const slot = area.w / n, barW = (slot * 0.8) / series.length;
  const every = Math.max(1, Math.ceil(Math.max(...labels.map((l) => textWidth(l, 11))) / (slot - 4)));
  for (let i = 0; i < n; i++) {
    series.forEach((s, j) => {
      const v = s.values[i], y0 = toY(0), y1 = toY(v);
      shapes.push({ kind: 'rect', x: area.x + i * slot + slot * 0.1 + j * barW, y: Math.min(y0, y1), w: Math.max(1, barW - (grouped ? 1 : 0)), h: Math.max(1, Math.abs(y1 - y0)), fill: colors[grouped ? j : i] });
    });
    if (i % every === 0) shapes.push({ kind: 'text', x: area.x + (i + 0.5) * slot, y: area.y + area.h + 18, text: labels[i], size: 11, color: TEXT, anchor: 'middle' });
  }
  axes(shapes, area);
  if (grouped && (opts.legend ?? true)) legend(shapes, area, series.map((s, j) => ({ name: s.name, color: colors[j], box: true })));
  return new Plot(width, height, shapes);
}

export interface ConfusionMatrixImageOptions {
  title?: string;
  /** Class names along both axes (default: the matrix's own, else 0, 1, ...). */
  classNames?: readonly string[];
  /** Colour each cell by its share of the true class's row instead of by its count (default false). */
  normalize?: boolean;
  /** Cell size in pixels (default: fits about 480 px, at least 16). */
  cellSize?: number;
  /** Colours of an empty cell and of the largest one (default white and '#1f4e9c'). */
  colors?: readonly [string, string];
  /** Write the count in each cell (default: with 20 classes or fewer). */
  annotate?: boolean;
}

/**
 * A confusion matrix as a heat map: rows are true classes, columns predictions; cell
 * colour grows with the count (or the row share, `normalize`). Takes `ck.confusionMatrix(...)`'s
 * result or a square array of counts.
 */
export function confusionMatrixImage(matrix: { counts: readonly (readonly number[])[]; classNames?: readonly string[] } | readonly (readonly number[])[], opts: ConfusionMatrixImageOptions = {}): Plot {
  const op = 'confusionMatrixImage';
  const counts = Array.isArray(matrix) ? (matrix as readonly (readonly number[])[]) : (matrix as { counts: readonly (readonly number[])[] }).counts;
  if (!Array.isArray(counts) || counts.length === 0) throw new RangeError(`${op}: the matrix is empty`);
  const k = counts.length;
  counts.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== k) throw new RangeError(`${op}: the matrix must be square: row ${i} has ${Array.isArray(row) ? row.length : 'no'} cells for ${k} rows`);
    checkFinite(op, `row ${i}`, row);
    row.forEach((v, j) => {
      if (v < 0) throw new RangeError(`${op}: cell [${i}][${j}] is ${v}, counts must be >= 0`);
    });
  });
  const names = opts.classNames ?? (!Array.isArray(matrix) ? (matrix as { classNames?: readonly string[] }).classNames : undefined) ?? counts.map((_, i) => String(i));
  if (names.length !== k) throw new RangeError(`${op}: ${names.length} class names for ${k} classes`);
  const value = (i: number, j: number) => {
    if (!opts.normalize) return counts[i][j];
    const s = counts[i].reduce((a: number, b: number) => a + b, 0);
    return s > 0 ? counts[i][j] / s : 0;
  };
  let max = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) max = Math.max(max, value(i, j));
  const [c0, c1] = (opts.colors ?? ['#ffffff', '#1f4e9c']).map((c) => parseColor(c, op));
  const cell = opts.cellSize ?? Math.max(16, Math.min(64, Math.floor(480 / k)));
  if (!Number.isInteger(cell) || cell < 4 || cell > 512) throw new RangeError(`${op}: cellSize must be an integer in [4, 512], received ${opts.cellSize}`);
  const labelW = Math.max(...names.map((s) => textWidth(s, 11)));
  const left = 40 + labelW, top = opts.title ? 40 : 14;
  const width = Math.max(160, left + k * cell + 16);
  const shapes: Shape[] = [];
  if (opts.title) shapes.push({ kind: 'text', x: width / 2, y: 24, text: opts.title, size: 15, color: TEXT, anchor: 'middle', bold: true });
  const annotate = opts.annotate ?? k <= 20;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const t = max > 0 ? value(i, j) / max : 0;
      const fill: Rgb = [0, 1, 2].map((c) => Math.round(c0[c] + (c1[c] - c0[c]) * t)) as unknown as Rgb;
      shapes.push({ kind: 'rect', x: left + j * cell, y: top + i * cell, w: cell, h: cell, fill });
      if (annotate && cell >= 14) {
        const text = opts.normalize ? value(i, j).toFixed(2) : String(counts[i][j]);
        shapes.push({ kind: 'text', x: left + (j + 0.5) * cell, y: top + (i + 0.5) * cell + 4, text, size: Math.min(12, Math.floor(cell / Math.max(2, text.length * 0.7))), color: t > 0.5 ? [255, 255, 255] : BLACK, anchor: 'middle' });
      }
    }
    shapes.push({ kind: 'text', x: left - 6, y: top + (i + 0.5) * cell + 4, text: names[i], size: 11, color: TEXT, anchor: 'end' });
  }
  shapes.push({ kind: 'rect', x: left, y: top, w: k * cell, h: 1, fill: AXIS }, { kind: 'rect', x: left, y: top, w: 1, h: k * cell, fill: AXIS });
  const vertical = Math.max(...names.map((s) => textWidth(s, 11))) > cell - 4;
  names.forEach((s, j) => {
    const x = left + (j + 0.5) * cell;
    if (vertical) shapes.push({ kind: 'text', x: x + 4, y: top + k * cell + 6 + textWidth(s, 11), text: s, size: 11, color: TEXT, anchor: 'start', vertical: true });
    else shapes.push({ kind: 'text', x, y: top + k * cell + 16, text: s, size: 11, color: TEXT, anchor: 'middle' });
  });
  const bottomY = top + k * cell + (vertical ? labelW + 24 : 34);
  shapes.push({ kind: 'text', x: left + (k * cell) / 2, y: bottomY, text: 'predicted', size: 12, color: TEXT, anchor: 'middle' });
  shapes.push({ kind: 'text', x: 16, y: top + (k * cell) / 2, text: 'true', size: 12, color: TEXT, anchor: 'middle', vertical: true });
  return new Plot(width, bottomY + 8, shapes);
}

/** An image for imageGrid: a tensor [H, W], [H, W, C] (C 1, 3 or 4), or decoded pixels (`readImage`'s result). */
export type GridImage = Tensor | { width: number; height: number; channels: number; data: ArrayLike<number> };

export interface ImageGridOptions {
  title?: string;
  /** A caption under each image (e.g. 'pred 3 / true 5'). */
  labels?: readonly string[];
  /** Columns (default: about square). */
  cols?: number;
  /** Size of each tile's longer side in pixels (default: the image's, at least 48, scaled up by whole factors). */
  tileSize?: number;
  /** Pixels between tiles (default 4). */
  pad?: number;
  /**
   * How tensor values map to 0..255: 'auto' (the default, like tf.browser.toPixels: float
   * tensors in [0, 1], int32 in [0, 255]) or 'minmax' (each image scaled by its own range).
   */
  scale?: 'auto' | 'minmax';
}

interface Rgba {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

function toRgba(op: string, img: GridImage, i: number, scale: 'auto' | 'minmax'): Rgba {
  let h: number, w: number, c: number, vals: ArrayLike<number>, isInt: boolean;
  if (typeof (img as Tensor).dataSync === 'function' && Array.isArray((img as Tensor).shape)) {
    const t = img as Tensor;
    const s = t.shape;
    if (s.length === 2) [h, w, c] = [s[0], s[1], 1];
    else if (s.length === 3) [h, w, c] = [s[0], s[1], s[2]];
    else throw new RangeError(`${op}: image ${i} has shape ${fmtShape(s)}, expected [H, W] or [H, W, C]`);
    vals = t.dataSync();
    isInt = t.dtype === 'int32';
  } else {
    const d = img as { width: number; height: number; channels: number; data: ArrayLike<number> };
    if (!d || !Number.isInteger(d.width) || !Number.isInteger(d.height) || !d.data) throw new TypeError(`${op}: image ${i} is neither a tensor nor { width, height, channels, data }`);
    [h, w, c, vals, isInt] = [d.height, d.width, d.channels, d.data, true];
    if (vals.length !== h * w * c) throw new RangeError(`${op}: image ${i} has ${vals.length} values for ${w}x${h}x${c}`);
  }
  if (![1, 3, 4].includes(c)) throw new RangeError(`${op}: image ${i} has ${c} channels, expected 1, 3 or 4`);
  if (h < 1 || w < 1) throw new RangeError(`${op}: image ${i} is empty (${w}x${h})`);
  let lo = 0, hi = isInt ? 255 : 1;
  if (scale === 'minmax') {
    lo = Infinity;
    hi = -Infinity;
    for (let k = 0; k < vals.length; k++) if (Number.isFinite(vals[k])) [lo, hi] = [Math.min(lo, vals[k]), Math.max(hi, vals[k])];
    if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  } else {
    for (let k = 0; k < vals.length; k++) {
      if (Number.isNaN(vals[k])) throw new RangeError(`${op}: image ${i} has NaN at index ${k}`);
    }
  }
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < 3; ch++) rgba[p * 4 + ch] = Math.round(((vals[p * c + (c === 1 ? 0 : ch)] - lo) / (hi - lo)) * 255);
    rgba[p * 4 + 3] = c === 4 ? Math.round(((vals[p * c + 3] - lo) / (hi - lo)) * 255) : 255;
  }
  return { width: w, height: h, rgba };
}

/**
 * A grid of images with optional captions: a batch tensor [N, H, W, C], or a list of
 * tensors [H, W, C] / [H, W] or decoded images.
 */
export function imageGrid(images: Tensor | readonly GridImage[], opts: ImageGridOptions = {}): Plot {
  const op = 'imageGrid';
  const scale = opts.scale ?? 'auto';
  if (scale !== 'auto' && scale !== 'minmax') throw new RangeError(`${op}: scale must be 'auto' or 'minmax', received '${scale}'`);
  let tiles: Rgba[];
  if (!Array.isArray(images)) {
    const t = images as Tensor;
    if (typeof t?.dataSync !== 'function') throw new TypeError(`${op}: pass a tensor [N, H, W, C] or a list of images`);
    if (t.rank !== 4) throw new RangeError(`${op}: a batch tensor must have shape [N, H, W, C], received ${fmtShape(t.shape)}`);
    const [n, h, w, c] = t.shape;
    const all = t.dataSync(), per = h * w * c;
    const one = (i: number) => all.subarray(i * per, (i + 1) * per);
    // Decoded-image form for int32 (0..255) and minmax; float tensors map [0, 1] to 0..255.
    tiles = Array.from({ length: n }, (_, i) => (scale === 'auto' && t.dtype !== 'int32' ? floatTile(one(i), h, w, c, i) : toRgba(op, { width: w, height: h, channels: c, data: one(i) }, i, scale)));
  } else tiles = (images as readonly GridImage[]).map((im, i) => toRgba(op, im, i, scale));
  if (tiles.length === 0) throw new RangeError(`${op}: no images`);
  if (opts.labels && opts.labels.length !== tiles.length) throw new RangeError(`${op}: ${opts.labels.length} labels for ${tiles.length} images`);
  const cols = opts.cols ?? Math.ceil(Math.sqrt(tiles.length));
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`${op}: cols must be a positive integer, received ${opts.cols}`);
  const pad = opts.pad ?? 4;
  const maxSide = Math.max(...tiles.map((t) => Math.max(t.width, t.height)));
  const tile = opts.tileSize ?? Math.max(maxSide, Math.ceil(48 / maxSide) * maxSide);
  if (!Number.isInteger(tile) || tile < 1 || tile > 4096) throw new RangeError(`${op}: tileSize must be an integer in [1, 4096], received ${opts.tileSize}`);
  const caption = opts.labels ? 16 : 0, top = opts.title ? 34 : 0;
  const rows = Math.ceil(tiles.length / cols);
  const cellW = Math.max(tile, opts.labels ? Math.max(...opts.labels.map((l) => textWidth(l, 11))) + 4 : 0);
  const width = cols * cellW + (cols + 1) * pad, height = top + rows * (tile + caption) + (rows + 1) * pad;
  const shapes: Shape[] = [];
  if (opts.title) shapes.push({ kind: 'text', x: width / 2, y: 22, text: opts.title, size: 15, color: TEXT, anchor: 'middle', bold: true });
  tiles.forEach((t, i) => {
    const r = Math.floor(i / cols), c = i % cols;
    const f = tile / Math.max(t.width, t.height);
    const w = Math.round(t.width * f), h = Math.round(t.height * f);
    const x = pad + c * (cellW + pad) + (cellW - w) / 2, y = top + pad + r * (tile + caption + pad);
    shapes.push({ kind: 'image', x: Math.round(x), y, w, h, width: t.width, height: t.height, rgba: t.rgba });
    if (opts.labels) shapes.push({ kind: 'text', x: pad + c * (cellW + pad) + cellW / 2, y: y + tile + 13, text: opts.labels[i], size: 11, color: TEXT, anchor: 'middle' });
  });
  return new Plot(width, height, shapes);
}

function floatTile(vals: ArrayLike<number>, h: number, w: number, c: number, i: number): Rgba {
  if (![1, 3, 4].includes(c)) throw new RangeError(`imageGrid: image ${i} has ${c} channels, expected 1, 3 or 4`);
  const rgba = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let ch = 0; ch < 4; ch++) {
      const v = ch === 3 && c !== 4 ? 1 : vals[p * c + (c === 1 ? 0 : ch)];
      if (Number.isNaN(v)) throw new RangeError(`imageGrid: image ${i} has NaN at index ${p * c + (c === 1 ? 0 : ch)}`);
      rgba[p * 4 + ch] = Math.round(v * 255);
    }
  }
  return { width: w, height: h, rgba };
}

/** What historyChart reads: fit's History, its `history` record, or `{ key: values }`. */
export type HistoryLike = { history: Record<string, readonly number[]>; epoch?: readonly number[] } | Record<string, readonly number[]>;

export interface HistoryChartOptions extends LineChartOptions {
  /** The metric to draw with its validation twin `val_<metric>` when logged (default 'loss'). */
  metric?: string;
}

/**
 * The training curve of one metric and its validation value, per epoch:
 * `historyChart(await model.fit(...), { metric: 'accuracy' })`.
 */
export function historyChart(history: HistoryLike, opts: HistoryChartOptions = {}): Plot {
  const op = 'historyChart';
  const rec = (history && typeof history === 'object' && 'history' in history && typeof history.history === 'object' ? history.history : history) as Record<string, readonly number[]>;
  if (!rec || typeof rec !== 'object') throw new TypeError(`${op}: pass fit's History or an object { metric: values }`);
  const metric = opts.metric ?? 'loss';
  const keys = [metric, `val_${metric}`].filter((k) => rec[k] !== undefined);
  if (keys.length === 0) throw new RangeError(`${op}: no '${metric}' in the history (it has ${Object.keys(rec).join(', ') || 'nothing'})`);
  const epochs = 'epoch' in history && Array.isArray(history.epoch) ? (history.epoch as number[]) : null;
  const series: LineSeries[] = keys.map((k) => ({
    name: k, values: rec[k], dashed: k.startsWith('val_'),
    x: rec[k].map((_, i) => (epochs && epochs.length === rec[k].length ? epochs[i] + 1 : i + 1)),
  }));
  return lineChart(series, { title: metric, xLabel: 'epoch', yLabel: metric, legend: true, ...opts });
}

export interface LiveHistoryOptions extends HistoryChartOptions {
  /** Also redraw after every `batches` batches with the running values of the current epoch (default: epoch ends only). */
  batches?: number;
}

/** The fit callback `liveHistory` returns: it keeps the epoch logs it has seen. */
export interface LiveHistoryCallback extends Callback {
  readonly history: Record<string, number[]>;
}

/**
 * A fit callback that keeps the logs and hands a fresh chart to `onUpdate` after every
 * epoch (and, with `batches`, during an epoch), e.g. to show it in a page:
 * `callbacks: [ck.plot.liveHistory((p) => { div.innerHTML = p.svg(); })]`.
 */
export function liveHistory(onUpdate: (plot: Plot, history: Record<string, number[]>) => void | Promise<void>, opts: LiveHistoryOptions = {}): LiveHistoryCallback {
  if (typeof onUpdate !== 'function') throw new TypeError('liveHistory: onUpdate must be a function (plot) => void');
  const every = opts.batches;
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new RangeError(`liveHistory: batches must be a positive integer, received ${every}`);
  const metric = opts.metric ?? 'loss';
  class Live extends BaseCallback implements LiveHistoryCallback {
    history: Record<string, number[]> = {};
    private epochs = 0;
    onTrainBegin(): void {
      this.history = {};
      this.epochs = 0;
    }
    async onBatchEnd(batch: number, logs: Logs): Promise<void> {
      if (every === undefined || (batch + 1) % every !== 0 || !Number.isFinite(logs[metric])) return;
      // The epoch so far as a fractional point after the finished epochs.
      const steps = this.params?.steps ?? batch + 1;
      const partial: Record<string, number[]> = { ...this.history, [metric]: [...(this.history[metric] ?? []), logs[metric]] };
      const x = [...(this.history[metric] ?? []).map((_, i) => i + 1), this.epochs + (batch + 1) / steps];
      await onUpdate(lineChart([{ name: metric, values: partial[metric], x }, ...(this.history[`val_${metric}`] ? [{ name: `val_${metric}`, values: this.history[`val_${metric}`], x: this.history[`val_${metric}`].map((_, i) => i + 1), dashed: true }] : [])], { title: metric, xLabel: 'epoch', yLabel: metric, legend: true, ...opts }), partial);
    }
    async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
      this.epochs++;
      for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
      await onUpdate(historyChart(this.history, opts), this.history);
    }
  }
  return new Live();
}
