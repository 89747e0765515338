import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import * as ck from '../../src/index.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('convkit summary', () => {
  it('prints JSON with the model, input, layers and totals', async () => {
    const r = await run(['summary', 'resnet18', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ model: 'resnet18', input: [224, 224, 3], output: [1000], trainableParams: 11689512, nonTrainableParams: 9600, totalParams: 11699112, macs: 1814073344 });
    expect(j.layers[0]).toEqual({ name: 'conv1', type: 'Conv2D', outputShape: [112, 112, 64], params: 9408, trainableParams: 9408, macs: 118013952, depth: 0 });
    expect(j.layers.map((l: { type: string }) => l.type)).toContain('ResidualBlock');
  });

  it('--input and --classes resize a zoo model; the table is the default output', async () => {
    const r = await run(['summary', 'vgg16', '--input', '32x32x3', '--classes', '10']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Model: "vgg16"   input [32, 32, 3]');
    expect(r.out).toMatch(/predictions \(Dense\)\s+\[10\]\s+40,970/);
    const e = await run(['summary', 'googlenet', '--json', '--expand']);
    expect(JSON.parse(e.out).layers.some((l: { name: string; depth: number }) => l.name === 'inception3a/branch1' && l.depth === 1)).toBe(true);
  });

  it('summarises the mobile zoo models (functional graphs named like torchvision)', async () => {
    const r = await run(['summary', 'mobilenetV3Small', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ model: 'mobilenetV3Small', input: [224, 224, 3], output: [1000], trainableParams: 2542856, nonTrainableParams: 12112, macs: 56510400 });
    expect(j.layers.map((l: { name: string }) => l.name)).toContain('features.4.block.2.fc1');
    const t = await run(['summary', 'squeezenet1_1', '--input', '66x66x3', '--classes', '10']);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/features\.3\.concat \(Concatenate\)\s+\[16, 16, 128\]/);
    expect((await run(['summary', 'mobilenetV2'])).out).toContain('3,504,872');
  });

  it('summarises a saved model directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-cli-'));
    try {
      await ck.zoo.smallCnn8({ seed: 1 }).save(dir);
      const r = await run(['summary', dir, '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ model: 'smallCnn8', totalParams: 6090, macs: 84224 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage errors exit with status 2', async () => {
    expect((await run(['summary'])).code).toBe(2);
    const r = await run(['summary', 'nosuchnet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'nosuchnet' is neither a zoo model/);
    expect((await run(['summary', 'lenet5', '--input', '32by32'])).code).toBe(2);
    expect((await run(['--help'])).out).toMatch(/summary\s+layers, output shapes/);
  });
});
