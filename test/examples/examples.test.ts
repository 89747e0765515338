/**
 * The runnable examples (examples/*.mjs, examples/browser/index.html) and the README's Node quick
 * start, run the way a user runs them: `node examples/x.mjs`, importing `convkit` by name. Node
 * resolves that name to this repository (a package can import itself through its `exports`),
 * so dist/ must be built: ensureDist() builds it when stale. Each script runs with `--quick`
 * (the whole set in about 30 s) and `--json`, and the test checks what it produced: accuracy
 * above chance, frozen weights unchanged, identical predictions after loading, PNG files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist } from '../util/dist.js';
import { README, ROOT, codeBlocks } from '../util/docs.js';
import { chromiumAvailable, launchChromium, serveStatic } from '../util/browser.js';

const out = mkdtempSync(join(tmpdir(), 'convkit-examples-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
beforeAll(() => ensureDist(), 400_000);

/** Run a script with node from the repository root; resolve with its exit code and output. */
function run(script: string, args: string[], cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
async function runJson(name: string, ...args: string[]): Promise<Record<string, any>> {
  const r = await run(join(ROOT, 'examples', name), ['--quick', '--json', ...args]);
  if (r.code !== 0) throw new Error(`${name} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
const isPng = (f: string) => readFileSync(f).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

describe('examples/', () => {
  it('train-digits.mjs: well above chance on the held-out digits, on wasm', async () => {
    const r = await runJson('train-digits.mjs');
    expect(r.backend).toBe('wasm');
    expect(r.epochs).toBe(4);
    expect(r.testImages).toBe(359);
    expect(r.accuracy).toBeGreaterThan(0.9);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist'))('fashion-mnist.mjs --quick: 3,000 training images, accuracy far above chance (0.1)', async () => {
    const r = await runJson('fashion-mnist.mjs');
    expect([r.trainImages, r.testImages]).toEqual([3000, 1000]);
    expect(r.accuracy).toBeGreaterThan(0.55);
  });

  it('transfer-learning.mjs: frozen filters stay bit-identical, the new head learns the new classes', async () => {
    const r = await runJson('transfer-learning.mjs');
    expect(r.frozenKept).toBe(true);
    expect(r.trainableWhileFrozen).toBe(2); // the new head's kernel and bias
    expect(r.sourceAcc).toBeGreaterThan(0.85);
    expect(r.headAcc).toBeGreaterThan(0.6); // 5 classes: chance is 0.2
    expect(r.fineAcc).toBeGreaterThan(0.6);
  });

  it('filters.mjs: writes twelve PNGs; the vertical edge detector tells dark-to-light from light-to-dark', async () => {
    const dir = join(out, 'filters');
    const r = await runJson('filters.mjs', '--out', dir);
    expect(r.written).toHaveLength(12);
    for (const f of r.written) expect(isPng(f), f).toBe(true);
    expect(r.size).toEqual([96, 96]);
    // rows 1 0 -1 on a 40 -> 220 step: (40 - 220) * 3 / 255 = -2.12 going dark-to-light
    expect(r.leftSideOfSquare).toBeCloseTo((3 * (40 - 220)) / 255, 4);
    expect(r.rightSideOfSquare).toBeCloseTo((3 * (220 - 40)) / 255, 4);
  });

  it('save-load.mjs: the loaded model predicts exactly what was saved, from disk, memory and ONNX', async () => {
    const dir = join(out, 'model');
    const r = await runJson('save-load.mjs', '--out', dir);
    expect(r.diskIdentical).toBe(true);
    expect(r.memoryIdentical).toBe(true);
    expect(r.onnxMaxAbsDiff).toBeLessThan(1e-5);
    expect(r.accuracy).toBeGreaterThan(0.5);
    for (const f of ['model.json', 'weights.bin', 'model.onnx']) expect(existsSync(join(dir, f)), f).toBe(true);
  });

  it('import-onnx.mjs: the PyTorch ResNet fixture gives PyTorch\'s logits, and exports back to ONNX unchanged', async () => {
    const dir = join(out, 'onnx');
    const r = await runJson('import-onnx.mjs', '--out', dir);
    expect(r.inputShape).toEqual([48, 48, 3]);
    expect(r.maxAbsDiffVsPyTorch).toBeLessThan(1e-4);
    expect(r.roundTripMaxAbsDiff).toBeLessThan(1e-6);
    for (const f of r.exported) expect(readFileSync(f).length).toBeGreaterThan(100_000);
  });

  // The applications (docs/applications.md) in their --quick form: a few seconds of training
  // each, so the bounds are what that much training reaches, well above a trivial answer.
  it('localization.mjs --quick: boxes overlap the objects, presence is told apart, landmarks land near the corners', async () => {
    const r = await runJson('localization.mjs');
    expect(r.testImages).toBe(500);
    expect(r.meanIoU).toBeGreaterThan(0.2);
    expect(r.presenceAccuracy).toBeGreaterThan(0.8);
    expect(r.landmarkErrorPx).toBeLessThan(20); // images are 64 px wide
    expect(r.seconds).toBeGreaterThan(0);
  }, 120_000);

  it('detection.mjs --quick: the sliding-window detector finds shapes; mAP figures are in [0, 1] and a PNG is drawn', async () => {
    const png = join(out, 'detections.png');
    const r = await runJson('detection.mjs', '--png', png);
    expect(r.slidingWindowMAP50).toBeGreaterThan(0.3);
    expect(r.mAP50).toBeGreaterThanOrEqual(0);
    expect(r.mAP50).toBeLessThanOrEqual(1);
    expect(r.perClassAP50).toHaveLength(3);
    expect(isPng(png)).toBe(true);
  }, 180_000);

  it('face-verification.mjs --quick: unseen identities are verified well above chance (AUC 0.5)', async () => {
    const r = await runJson('face-verification.mjs');
    expect(r.auc).toBeGreaterThan(0.75);
    expect(r.verificationAccuracy).toBeGreaterThan(0.65);
    expect(r.identificationAccuracy).toBeGreaterThan(0.5);
  }, 120_000);

  it('style-transfer.mjs --quick: the cost J falls to well under half its first value', async () => {
    const dir = join(out, 'style');
    const r = await runJson('style-transfer.mjs', '--out', dir);
    expect(r.costRatio).toBeLessThan(0.5);
    for (const f of ['style-content.png', 'style-style.png', 'style-output.png']) expect(isPng(join(dir, f)), f).toBe(true);
    expect(r.costLast).toBeLessThan(r.costFirst);
  }, 120_000);

  it("the README's Node quick start runs as written (3 epochs instead of 10) and saves its model", async () => {
    const block = codeBlocks(README).find((b) => b.lang === 'js' && b.code.includes("from 'convkit'"));
    expect(block).toBeDefined();
    expect(block!.code.trim().split('\n').length).toBeLessThanOrEqual(12);
    // the script must sit inside the package for `import 'convkit'` to resolve to it
    const dir = join(ROOT, 'dist', `.readme-quickstart-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, 'digits.mjs'), block!.code.replace('epochs: 10', 'epochs: 3').replace("model.summary();", ''));
      const r = await run(join(dir, 'digits.mjs'), [], dir);
      expect(r.code, r.stderr).toBe(0);
      const acc = Number(/held-out accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
      expect(acc).toBeGreaterThan(85);
      expect(existsSync(join(dir, 'digits-model', 'model.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!chromiumAvailable('examples/browser test'))('browser/index.html: trains in headless Chromium through its import map', async () => {
    const server = await serveStatic(ROOT);
    const profile = mkdtempSync(join(tmpdir(), 'convkit-examples-chromium-'));
    const context = await launchChromium(profile);
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('response', (res) => { if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`); });
      await page.goto(`${server.url}/examples/browser/index.html?quick`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 90_000 });
      const r = await page.evaluate(() => (window as unknown as { __result: Record<string, any> }).__result);
      expect(r.error ?? null).toBeNull();
      expect(r.backend).toBe('wasm');
      expect(r.accuracy).toBeGreaterThan(0.85);
      expect(r.lastLoss).toBeLessThan(r.firstLoss);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe("README's browser quick start", () => {
  it.skipIf(!chromiumAvailable("README browser quick start"))('runs as written in Chromium, with convkit installed under node_modules/convkit', async () => {
    const block = codeBlocks(README).find((b) => b.lang === 'html');
    expect(block).toBeDefined();
    expect(block!.code).toContain('"convkit": "./node_modules/convkit/dist/esm/index.js"');
    // a user's project: their page, and the package installed under node_modules/convkit
    const project = mkdtempSync(join(tmpdir(), 'convkit-readme-browser-'));
    mkdirSync(join(project, 'node_modules/convkit/dist'), { recursive: true });
    symlinkSync(join(ROOT, 'dist/esm'), join(project, 'node_modules/convkit/dist/esm'));
    writeFileSync(join(project, 'index.html'), block!.code.replace('<!doctype html>', '<!doctype html>\n<link rel="icon" href="data:,">'));
    const server = await serveStatic(project);
    const context = await launchChromium(join(project, 'profile'));
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => document.getElementById('out')?.textContent?.startsWith('{'), undefined, { timeout: 90_000 });
      const result = JSON.parse(await page.locator('#out').innerText());
      expect(result.accuracy).toBeGreaterThan(0.9);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await server.close();
      rmSync(project, { recursive: true, force: true });
    }
  });
});
