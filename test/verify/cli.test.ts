/** `convkit verify`, called in-process through the CLI's main(): output formats and exit codes. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

const vec = (f: string) => fileURLToPath(new URL(`../vectors/${f}`, import.meta.url));
const EXAMPLE = vec('example.json');
const TORCH = vec('torch.json');
const dir = mkdtempSync(join(tmpdir(), 'convkit-verify-'));

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

function write(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** torch.json with one expected value of the named case's output changed. */
function perturbed(): { path: string; name: string } {
  const doc = JSON.parse(readFileSync(TORCH, 'utf8'));
  const c = doc.cases.find((k: { op: string }) => k.op === 'softmax');
  c.outputs.y.data[0] += 0.01;
  return { path: write('perturbed.json', JSON.stringify(doc)), name: c.name };
}

describe('convkit verify', () => {
  it('text: one line per case and the closing line; exit 0', async () => {
    expect(await main(['verify', EXAMPLE])).toBe(0);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^PASS {2}conv2d 3x3 input, 2x2 kernel, padding 1 {2}\[conv2d\] {2}maxAbsErr \S+ {2}maxRelErr \S+$/);
    expect(out[1]).toMatch(/^PASS {2}relu {2}\[relu\] {2}maxAbsErr 0 {2}maxRelErr 0$/);
    expect(out[2]).toBe('2 passed, 0 failed');
  });

  it('--json prints exactly backend, dtype, passed, failed and the cases', async () => {
    expect(await main(['verify', EXAMPLE, '--json', '--dtype', 'float32', '--backend', 'ts'])).toBe(0);
    const r = JSON.parse(out.join('\n'));
    expect(Object.keys(r)).toEqual(['backend', 'dtype', 'passed', 'failed', 'cases']);
    expect([r.backend, r.dtype, r.passed, r.failed]).toEqual(['ts', 'float32', 2, 0]);
    for (const c of r.cases) expect(Object.keys(c)).toEqual(['name', 'op', 'pass', 'maxAbsErr', 'maxRelErr']);
    expect(r.cases.map((c: { op: string }) => c.op)).toEqual(['conv2d', 'relu']);
  });

  it('a failing case: FAIL line with the error, exit 1; several files add up', async () => {
    const { path, name } = perturbed();
    expect(await main(['verify', EXAMPLE, path])).toBe(1);
    const total = JSON.parse(readFileSync(TORCH, 'utf8')).cases.length + 2;
    expect(out).toHaveLength(total + 1);
    const fails = out.filter((l) => l.startsWith('FAIL'));
    expect(fails, fails.join("\n")).toHaveLength(1);
    expect(fails[0]).toContain(`FAIL  ${name}  [softmax]`);
    expect(fails[0]).toMatch(/-- output y\[0\]: got \S+, expected \S+/);
    expect(out[out.length - 1]).toBe(`${total - 1} passed, 1 failed`);
  });

  it('--json on a failing file carries the error; exit 1', async () => {
    const { path, name } = perturbed();
    expect(await main(['verify', path, '--json'])).toBe(1);
    const r = JSON.parse(out.join('\n'));
    expect(r.failed).toBe(1);
    const bad = r.cases.filter((c: { pass: boolean }) => !c.pass);
    expect(bad).toHaveLength(1);
    expect(bad[0].name).toBe(name);
    expect(Object.keys(bad[0])).toEqual(['name', 'op', 'pass', 'maxAbsErr', 'maxRelErr', 'error']);
    expect(bad[0].error).toMatch(/^output y\[0\]/);
  });

  it('exit 2 for a missing file, invalid JSON and another format, naming the file', async () => {
    const missing = join(dir, 'nope.json');
    expect(await main(['verify', missing])).toBe(2);
    expect(err.join('\n')).toBe(`convkit verify: cannot read ${missing}: no such file`);
    err = [];
    const bad = write('bad.json', '{ "format": "convkit-vectors/1", "cases": [ ');
    expect(await main(['verify', bad])).toBe(2);
    expect(err.join('\n')).toMatch(new RegExp(`^convkit verify: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    err = [];
    const other = write('other.json', JSON.stringify({ format: 'onnx-tests/2', cases: [] }));
    expect(await main(['verify', EXAMPLE, other])).toBe(2);
    expect(err.join('\n')).toContain(`${other}: "format" is "onnx-tests/2", expected "convkit-vectors/1"`);
    expect(out).toEqual([]); // nothing runs when any file is malformed
  });

  it('exit 2 for an unknown backend, a bad dtype, or no file', async () => {
    expect(await main(['verify', EXAMPLE, '--backend', 'tpu'])).toBe(2);
    // Every backend is listed, not only those loaded so far (it used to say just 'ts').
    expect(err.join('\n')).toMatch(/--backend must be a registered backend \(ts, wasm, webgpu\), received 'tpu'/);
    err = [];
    expect(await main(['verify', EXAMPLE, '--dtype', 'float16'])).toBe(2);
    expect(err.join('\n')).toMatch(/--dtype must be float32 or float64, received 'float16'/);
    expect(await main(['verify'])).toBe(2);
    expect(await main(['verify', '--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/^usage: convkit verify FILE\.\.\./);
  });
});
