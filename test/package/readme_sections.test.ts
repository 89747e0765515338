/**
 * The reference sections (docs/*.md, found by test/util/docs.ts) on layers, models, zoo, training, data and cli sections: every name they use exists
 * (`ck.x`, `L.x`, `ck.zoo.x`, class lists in prose, methods called on models and data sets, CLI
 * flags), the zoo table's numbers are what `summaryJSON()` gives, and the layers, models,
 * training and Dataset examples run as written (training with 1 epoch instead of 12).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { section } from '../util/docs.js';

const firstBlock = (name: string, lang = 'ts') => {
  const m = section(name).match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  if (!m) throw new Error(`section '${name}' has no ${lang} block`);
  return m[1];
};
const SECTIONS = ['layers', 'models', 'zoo', 'training', 'data', 'cli'];
const api = ck as unknown as Record<string, unknown>;
const L = ck.layers as unknown as Record<string, unknown>;
const Z = ck.zoo as unknown as Record<string, unknown>;
/** Runs async example code with `ck` and `L` in scope and the given extra bindings; returns the named locals. */
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<Record<string, unknown>>;
function runExample(code: string, bindings: Record<string, unknown>, returns: string[]) {
  const body = code.replace(/^import \* as ck from 'convkit';$/m, '');
  expect(body).not.toMatch(/^import /m);
  const all: Record<string, unknown> = { ck, ...bindings };
  if (!/\bconst \{ layers: L \}/.test(body)) all.L = ck.layers; // the layers example declares L itself
  const fn = new AsyncFunction(...Object.keys(all), `${body}\nreturn { ${returns.join(', ')} };`);
  return fn(...Object.values(all));
}

const tmp = mkdtempSync(join(tmpdir(), 'convkit-readme-'));
afterAll(async () => {
  await ck.setBackend('ts');
  rmSync(tmp, { recursive: true, force: true });
});

describe('docs: layers, models, zoo, training, data and cli sections', () => {
  it('every ck.name, ck.layers/L.name, ck.zoo.name and L.initializers.name exists', () => {
    const missing: string[] = [];
    const inits = ck.layers.initializers as unknown as Record<string, unknown>;
    for (const s of SECTIONS) {
      const text = section(s);
      for (const [, first, second] of text.matchAll(/\bck\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?/g)) {
        if (!(first in api)) missing.push(`${s}: ck.${first}`);
        else if (first === 'zoo' && second && !(second in Z)) missing.push(`${s}: ck.zoo.${second}`);
        else if (first === 'layers' && second && !(second in L)) missing.push(`${s}: ck.layers.${second}`);
      }
      for (const [, name, sub] of text.matchAll(/\bL\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?/g)) {
        if (!(name in L)) missing.push(`${s}: L.${name}`);
        else if (name === 'initializers' && sub && !(sub in inits)) missing.push(`${s}: L.initializers.${sub}`);
      }
    }
    // Initialiser names in prose: `glorotNormal`, `heNormal`, ... `constant(v)`.
    const initProse = section('layers').match(/initialisers `L\.initializers[\s\S]*?;/)![0];
    for (const [, n] of initProse.matchAll(/`(\w+)(?:\([^`]*\))?`/g)) if (!(n in inits)) missing.push(`layers prose: initializers.${n}`);
    expect(missing).toEqual([]);
  });

  it('the layer classes, activations and block factories listed in the layers prose exist', () => {
    const text = section('layers');
    const missing: string[] = [];
    // Backticked runs of class names: `Conv1D Conv2D ...`, `Dense Flatten\nReshape ZeroPadding2D`, `ReLU({ maxValue }) LeakyReLU ...`.
    for (const [, run] of text.matchAll(/`([A-Z][^`]*)`/g)) {
      for (const [, cls] of run.replace(/\([^)]*\)/g, '').matchAll(/\b([A-Z][A-Za-z0-9]+)\b/g)) if (typeof L[cls] !== 'function') missing.push(cls);
    }
    for (const f of ['residualBlock', 'squeezeExcitation', 'inceptionModule']) if (typeof L[f] !== 'function') missing.push(f);
    const acts = text.match(/`Activation\(([^)]*)\)`/)![1];
    const listed = [...acts.matchAll(/'(\w+)'/g)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...ck.layers.ACTIVATION_NAMES].sort());
    expect(missing).toEqual([]);
  });

  it('the layers example runs as written', async () => {
    const images = ck.randomUniform([2, 28, 28, 1], { seed: 3 });
    const r = await runExample(firstBlock('layers'), { images }, ['conv', 'y']);
    const conv = r.conv as ck.layers.Conv2D;
    expect((r.y as ck.Tensor).shape).toEqual([2, 28, 28, 32]);
    expect(conv.countParams()).toBe((1 * 3 * 3 + 1) * 32);
    expect(conv.computeOutputShape([28, 28, 1])).toEqual([28, 28, 32]);
    expect(conv.macs([28, 28, 1])).toBe(28 * 28 * 32 * 3 * 3 * 1);
    expect(conv.weights.map((w) => w.name)).toEqual([`${conv.name}/kernel`, `${conv.name}/bias`]);
  });

  it('the models example runs as written (saving to a temporary folder)', async () => {
    const out = join(tmp, 'net');
    const code = firstBlock('models').replaceAll("'out/net'", JSON.stringify(out)).replace(/console\.log\(/g, 'String(');
    const batch = ck.randomUniform([2, 32, 32, 3], { seed: 4 });
    const r = await runExample(code, { batch, images: batch }, ['m', 'net', 'back']);
    expect((r.m as ck.Model).summaryJSON().output).toEqual([10]);
    const net = r.net as ck.Model;
    const back = r.back as ck.Model;
    expect(net.summaryJSON().output).toEqual([2]);
    expect(back.predict(batch).toArray()).toEqual(net.predict(batch).toArray());
  });

  it('the models section names methods every model has', () => {
    const m = ck.zoo.smallCnn8({ seed: 1 }) as unknown as Record<string, unknown>;
    const used = new Set<string>();
    for (const s of ['models', 'training']) for (const [, n] of section(s).matchAll(/\b(?:net|model|m|back)\.([a-z]\w*)\(/g)) used.add(n);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => typeof m[n] !== 'function')).toEqual([]);
    for (const p of ['trainableWeights', 'nonTrainableWeights']) expect(Array.isArray(m[p]), p).toBe(true);
  });

  it("the zoo table's counts are the zoo models' summaries, and it lists every zoo model", () => {
    const rows = [...section('zoo').matchAll(/^\| `(\w+)(\(\{[^`]*\}\))?` \| (\d+)x(\d+)x(\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) /gm)];
    const num = (s: string) => Number(s.replace(/,/g, ''));
    const seen = new Set<string>();
    for (const [, name, opts, h, w, c, trainable, bn, macs] of rows) {
      const o = opts ? (new Function(`return ${opts.slice(1, -1)};`)() as Record<string, unknown>) : {};
      const s = ck.zoo.get(name, o).summaryJSON();
      expect(s.input, `${name}${opts ?? ''}`).toEqual([+h, +w, +c]);
      expect([s.trainableParams, s.nonTrainableParams, s.macs], `${name}${opts ?? ''}`).toEqual([num(trainable), num(bn), num(macs)]);
      seen.add(name);
    }
    expect([...seen].sort()).toEqual([...ck.zoo.names()].sort());
  });

  it('the training example runs as written (1 epoch instead of 12) and its claims hold', async () => {
    const code = firstBlock('training')
      .replace('epochs: 12', 'epochs: 1')
      .replace(/console\.log\(/g, 'String(')
      .replace(/console\.assert\(/g, '((ok, msg) => { if (!ok) throw new Error(msg); })('); // its leak check must hold
    const r = await runExample(code, {}, ['history', 'scores', 'model', 'test']);
    const h = (r.history as ck.History).history;
    for (const k of ['loss', 'accuracy', 'top5', 'val_loss', 'val_accuracy', 'lr', 'images_per_sec', 'seconds']) expect(h[k], k).toHaveLength(1);
    const test = r.test as ck.Dataset;
    const ev = await (r.model as ck.Model).evaluate(test);
    expect(Object.keys(ev).sort()).toEqual(['accuracy', 'loss', 'top5']);
    expect(test.length).toBe(Math.round(1797 * 0.2));
    await ck.setBackend('ts');
  }, 60_000);

  it('the training prose names losses, metrics and augmentation options that fit accepts', () => {
    const text = section('training');
    const losses = text.match(/Losses follow Keras[\s\S]*?Metrics:/)![0];
    for (const [, n] of losses.matchAll(/`(\w+)`/g)) {
      if (n === 'softmax') continue;
      expect(ck.LOSS_NAMES, n).toContain(n);
    }
    const aug = text.match(/Augmentation \(`ck\.Augmenter`[\s\S]*?`clip`/)![0];
    const opts = [...aug.matchAll(/`(\w+)`/g)].map((m) => m[1]).filter((n) => n !== 'ck');
    expect(opts.length).toBeGreaterThan(8);
    // Each option is accepted (an unknown one is rejected, so acceptance is a real check).
    const value = (o: string) => (o === 'clip' ? [0, 1] : o === 'cropPadding' ? 1 : 0.1);
    for (const o of opts) expect(() => new ck.Augmenter({ [o]: value(o), seed: 1 } as ck.AugmentOptions), o).not.toThrow();
    expect(() => new ck.Augmenter({ notAnOption: 1 } as unknown as ck.AugmentOptions)).toThrow(/unknown option 'notAnOption'/);
    const helpers = text.match(/Deterministic helpers:([\s\S]*?)\./)![1];
    for (const [, n] of helpers.matchAll(/`(\w+)`/g)) expect(typeof api[n], n).toBe('function');
  });

  it('the data example: the Dataset lines run, every loader it calls exists', async () => {
    const code = firstBlock('data');
    for (const [, n] of code.matchAll(/\bck\.(\w+)\(/g)) expect(typeof api[n], n).toBe('function');
    const dsLines = code.split('\n').filter((l) => /^(const ds|ds\.|for \(const \{ x, y \} of ds)/.test(l)).join('\n');
    const n = 20;
    const float32Values = Float32Array.from({ length: n * 28 * 28 }, (_, i) => (i % 255) / 255);
    const int32Labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const r = await runExample(dsLines, { float32Values, int32Labels, classNames: ['a', 'b'] }, ['ds']);
    expect((r.ds as ck.Dataset).length).toBe(n);
  });

  it('every train option in the cli section is in convkit train --help; every command has --help', async () => {
    let out = '';
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      const text = section('cli');
      const cmds = [...new Set([...firstBlock('cli', 'sh').matchAll(/npx convkit (\w+)/g)].map((m) => m[1]))];
      expect(cmds.sort()).toEqual(['bench', 'convert', 'evaluate', 'predict', 'style', 'summary', 'train', 'verify']);
      for (const c of cmds) {
        out = '';
        expect(await main([c, '--help']), c).toBe(0);
        expect(out, c).toMatch(new RegExp(`usage: convkit ${c}\\b`));
      }
      out = '';
      await main(['train', '--help']);
      const trainOpts = text.match(/`train` options:([\s\S]*?)Sets without/)![1];
      const flags = [...trainOpts.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
      expect(flags.length).toBeGreaterThan(15);
      for (const f of flags) expect(out, f).toContain(f);
    } finally {
      log.mockRestore();
      write.mockRestore();
    }
  });
});
