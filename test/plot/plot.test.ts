/**
 * ck.plot: every chart renders the same scene as SVG (checked well-formed by a small tag
 * parser) and as PNG (decoded with convkit's own reader: right size, not blank, the line's
 * colour where the line runs, confusion-matrix cells darker as counts grow).
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { decodePng } from '../../src/data/image.js';

/** Well-formed XML, as far as an SVG writer can get it wrong: balanced tags, quoted attributes, escaped text. */
function checkXml(s: string): string[] {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([<>&])/g;
  let m: RegExpExecArray | null, root: string | null = null, last = 0;
  const text: string[] = [];
  while ((m = re.exec(s))) {
    text.push(s.slice(last, m.index));
    last = re.lastIndex;
    if (m[5] === '&') {
      if (!/^&(amp|lt|gt|quot|apos|#\d+);/.test(s.slice(m.index))) throw new Error(`bare & at ${m.index}`);
      continue;
    }
    if (m[5]) throw new Error(`stray '${m[5]}' at ${m.index}: ${s.slice(m.index, m.index + 40)}`);
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`unbalanced </${m[2]}> at ${m.index}`);
    } else {
      if (stack.length === 0 && root) throw new Error('two root elements');
      root ??= m[2];
      if (!m[4]) stack.push(m[2]);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  expect(root).toBe('svg');
  return text;
}

async function pixels(p: ck.plot.Plot) {
  const img = await decodePng(p.png());
  expect([img.width, img.height]).toEqual([p.width, p.height]);
  const at = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x) * img.channels + 3));
  return { img, at };
}

const distinct = (img: { data: Uint8Array; channels: number }) => new Set(Array.from({ length: img.data.length / img.channels }, (_, i) => img.data.slice(i * img.channels, i * img.channels + 3).join(','))).size;

describe('lineChart', () => {
  it('SVG is well-formed, with the title, labels, legend and one polyline per series', () => {
    const p = ck.plot.lineChart({ loss: [1, 0.6, 0.4, 0.3], 'val <loss>': [1.1, 0.8, 0.7, 0.65] }, { title: 'Loss & co', xLabel: 'epoch', yLabel: 'loss' });
    const svg = p.svg();
    checkXml(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="640" height="400"/);
    expect(svg).toContain('>Loss &amp; co</text>');
    expect(svg).toContain('>val &lt;loss&gt;</text>');
    expect(svg.match(/<polyline[^>]*stroke="#1f77b4"[^>]*points=/g)?.length).toBeGreaterThanOrEqual(1);
    expect(svg.match(/<polyline[^>]*stroke="#ff7f0e"/g)?.length).toBeGreaterThanOrEqual(1);
  });

  it('PNG decodes to the chart size, is not blank, and is coloured where the line runs', async () => {
    const p = ck.plot.lineChart([{ name: 'up', values: [0, 1, 2, 3, 4], color: '#d62728' }], { width: 300, height: 200, title: 'T' });
    const { img, at } = await pixels(p);
    expect(distinct(img)).toBeGreaterThan(3);
    const line = p.shapes.find((s) => s.kind === 'line' && s.stroke[0] === 214)!;
    if (line.kind !== 'line') throw new Error('no series line');
    // Midpoints of each segment, and the points themselves.
    for (let i = 1; i < line.points.length; i++) {
      const [x0, y0] = line.points[i - 1], [x1, y1] = line.points[i];
      expect(at(Math.floor((x0 + x1) / 2), Math.floor((y0 + y1) / 2))).toEqual([214, 39, 40]);
    }
    // Far from the line (top-left of the plot area, under a rising line) stays background.
    expect(at(p.width - 20, p.height - 60)).toEqual([255, 255, 255]);
  });

  it('size, colours and a single point', async () => {
    const p = ck.plot.lineChart([5], { width: 100, height: 80, colors: ['rgb(0, 128, 0)'] });
    expect((await pixels(p)).img.width).toBe(100);
    expect(p.svg()).toContain('stroke="#008000"');
  });

  it('rejects empty series, mismatched lengths, NaN (naming the series and index), bad colours and sizes', () => {
    expect(() => ck.plot.lineChart([])).toThrow(/series 0 is empty/);
    expect(() => ck.plot.lineChart({})).toThrow(/no series to plot/);
    expect(() => ck.plot.lineChart({ loss: [] })).toThrow(/series 'loss' is empty/);
    expect(() => ck.plot.lineChart({ loss: [1, NaN, 2] })).toThrow(/series 'loss' has NaN at index 1/);
    expect(() => ck.plot.lineChart({ loss: [1, Infinity] })).toThrow(/series 'loss' has Infinity at index 1/);
    expect(() => ck.plot.lineChart([{ name: 'a', values: [1, 2, 3], x: [1, 2] }])).toThrow(/series 'a' has 3 values but 2 x positions/);
    expect(() => ck.plot.lineChart([1, 2], { colors: ['chartreuse-ish'] })).toThrow(/colour 'chartreuse-ish'/);
    expect(() => ck.plot.lineChart([1, 2], { width: 10 })).toThrow(/width must be an integer in \[64, 8192\]/);
  });
});

describe('barChart', () => {
  it('bars as rectangles of the right relative heights; PNG coloured inside a bar', async () => {
    const p = ck.plot.barChart({ cat: 3, dog: 6, bird: 1.5 }, { title: 'Counts', colors: ['#123456', '#abcdef', '#fedcba'] });
    checkXml(p.svg());
    const bars = p.shapes.filter((s) => s.kind === 'rect' && ['#123456', '#abcdef', '#fedcba'].some(() => true) && s.h > 1 && s.fill[0] !== 255 && s.w < 300);
    const h = (r: number) => bars.find((s) => s.kind === 'rect' && s.fill[0] === r)! as { h: number; x: number; y: number; w: number };
    expect(h(0xab).h / h(0x12).h).toBeCloseTo(2, 1);
    expect(h(0x12).h / h(0xfe).h).toBeCloseTo(2, 1);
    const { at } = await pixels(p);
    const b = h(0xab);
    expect(at(Math.floor(b.x + b.w / 2), Math.floor(b.y + b.h / 2))).toEqual([0xab, 0xcd, 0xef]);
    expect(p.svg()).toContain('>dog</text>');
  });

  it('grouped series get a legend; errors for empty, mismatched, NaN', () => {
    const g = ck.plot.barChart({ train: [0.9, 0.8], test: [0.85, 0.7] }, { labels: ['a', 'b'] });
    expect(g.svg()).toContain('>train</text>');
    expect(() => ck.plot.barChart([])).toThrow(/no bars/);
    expect(() => ck.plot.barChart([1, 2], { labels: ['x'] })).toThrow(/1 labels for 2 bars/);
    expect(() => ck.plot.barChart({ a: [1, 2], b: [1] })).toThrow(/series 'b' has 1 values, 'a' has 2/);
    expect(() => ck.plot.barChart([1, NaN])).toThrow(/values has NaN at index 1/);
  });
});

describe('confusionMatrixImage', () => {
  it('cell colours darken monotonically with the counts (SVG and PNG agree)', async () => {
    const cm = new ck.ConfusionMatrix(3, ['a', 'b', 'c']);
    cm.add([0, 0, 0, 0, 1, 1, 1, 2, 2, 0, 2], [0, 0, 0, 0, 1, 1, 0, 2, 2, 1, 1]);
    const p = ck.plot.confusionMatrixImage(cm, { title: 'Confusion' });
    checkXml(p.svg());
    const cells = p.shapes.filter((s): s is Extract<ck.plot.Plot['shapes'][number], { kind: 'rect' }> => s.kind === 'rect' && s.w === s.h && s.w > 10);
    expect(cells.length).toBe(9);
    const { at } = await pixels(p);
    const entries = cells.map((c, idx) => ({ count: cm.counts[Math.floor(idx / 3)][idx % 3], px: at(Math.floor(c.x + 3), Math.floor(c.y + 3)), fill: c.fill }));
    entries.sort((a, b) => a.count - b.count);
    for (let i = 1; i < entries.length; i++) {
      const lum = (c: readonly number[]) => c[0] + c[1] + c[2];
      if (entries[i].count > entries[i - 1].count) expect(lum(entries[i].px)).toBeLessThan(lum(entries[i - 1].px));
      else expect(lum(entries[i].px)).toBe(lum(entries[i - 1].px));
      expect(entries[i].px).toEqual([...entries[i].fill]);
    }
    expect(p.svg()).toContain('>predicted</text>');
  });

  it('accepts arrays, normalises rows; rejects non-square, negative, NaN and empty', () => {
    const p = ck.plot.confusionMatrixImage([[5, 5], [0, 10]], { normalize: true });
    expect(p.svg()).toContain('>0.50</text>');
    expect(() => ck.plot.confusionMatrixImage([])).toThrow(/empty/);
    expect(() => ck.plot.confusionMatrixImage([[1, 2], [3]])).toThrow(/row 1 has 1 cells for 2 rows/);
    expect(() => ck.plot.confusionMatrixImage([[1, -2], [3, 4]])).toThrow(/cell \[0\]\[1\] is -2/);
    expect(() => ck.plot.confusionMatrixImage([[1, NaN], [3, 4]])).toThrow(/row 0 has NaN at index 1/);
  });
});

describe('imageGrid', () => {
  it('a float batch [N, H, W, C] in [0, 1]: tiles at their places, with captions; an int32 one in [0, 255]', async () => {
    const x = ck.tensor(Array.from({ length: 4 * 2 * 2 * 3 }, (_, i) => (Math.floor(i / 12) === 1 ? 1 : 0) * (i % 3 === 0 ? 1 : 0)), [4, 2, 2, 3]);
    const p = ck.plot.imageGrid(x, { labels: ['a', 'b', 'c', 'd'], cols: 2, title: 'grid' });
    checkXml(p.svg());
    expect(p.svg()).toContain('href="data:image/png;base64,');
    const imgs = p.shapes.filter((s) => s.kind === 'image');
    expect(imgs.length).toBe(4);
    const { at } = await pixels(p);
    const second = imgs[1] as { x: number; y: number; w: number; h: number };
    expect(at(second.x + 1, second.y + 1)).toEqual([255, 0, 0]);
    const first = imgs[0] as { x: number; y: number };
    expect(at(first.x + 1, first.y + 1)).toEqual([0, 0, 0]);
    const ints = ck.plot.imageGrid([ck.tensor([[128, 255], [0, 64]], [2, 2], 'int32')]);
    const { at: at2 } = await pixels(ints);
    const t = ints.shapes.find((s) => s.kind === 'image') as { x: number; y: number; w: number };
    expect(at2(t.x + t.w - 1, t.y)).toEqual([255, 255, 255]);
    expect(at2(t.x, t.y)).toEqual([128, 128, 128]);
  });

  it('rejects bad shapes, channel counts, label counts and NaN', () => {
    expect(() => ck.plot.imageGrid(ck.zeros([2, 2]))).toThrow(/\[N, H, W, C\]/);
    expect(() => ck.plot.imageGrid(ck.zeros([1, 2, 2, 2]))).toThrow(/2 channels/);
    expect(() => ck.plot.imageGrid([])).toThrow(/no images/);
    expect(() => ck.plot.imageGrid(ck.zeros([2, 2, 2, 1]), { labels: ['x'] })).toThrow(/1 labels for 2 images/);
    expect(() => ck.plot.imageGrid(ck.tensor([0, NaN, 0, 0], [1, 2, 2, 1]))).toThrow(/image 0 has NaN at index 1/);
  });
});

describe('historyChart and liveHistory', () => {
  it('draws a metric and its val_ twin from fit History; a live callback re-renders each epoch of fit', async () => {
    const h = ck.plot.historyChart({ loss: [1, 0.5], val_loss: [1.2, 0.9], accuracy: [0.5, 0.8] });
    expect(h.svg()).toContain('>val_loss</text>');
    expect(() => ck.plot.historyChart({ loss: [1] }, { metric: 'accuracy' })).toThrow(/no 'accuracy' in the history \(it has loss\)/);

    const m = ck.sequential([ck.layers.dense({ units: 2, inputShape: [2] })]);
    m.compile({ optimizer: ck.SGD ? new ck.SGD({ lr: 0.1 }) : 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = ck.tensor([[0, 1], [1, 0], [0, 2], [2, 0]]), y = ck.tensor([0, 1, 0, 1], [4], 'int32');
    const frames: string[] = [];
    const live = ck.plot.liveHistory((p) => {
      frames.push(p.svg());
    }, { metric: 'accuracy', batches: 1 });
    const hist = await m.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, callbacks: [live], validationData: [x, y] });
    expect(frames.length).toBe(3 + 3 * 2);
    expect(live.history.accuracy).toEqual(hist.history.accuracy);
    expect(frames.at(-1)).toContain('>val_accuracy</text>');
    const png = await decodePng(ck.plot.historyChart(hist, { metric: 'loss' }).png());
    expect(png.width).toBe(640);
  });
});
