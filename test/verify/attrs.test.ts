/**
 * `convkit verify` never ignores what a file asks for: an attribute an op does not know
 * fails the case as unsupported (a `dilations` on a pool used to be dropped, so the case
 * passed by luck or failed with a confusing shape error), a key the format does not
 * define is a format error, and a file with no cases is an error rather than a pass.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { parseVectors, VectorFormatError, VERIFY_OPS } from '../../src/verify/index.js';
import { knownAttrs } from '../../src/verify/ops.js';

const TORCH = fileURLToPath(new URL('../vectors/torch.json', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../vectors/example.json', import.meta.url));
const torch = JSON.parse(readFileSync(TORCH, 'utf8')) as { format: string; cases: { name: string; op: string; attrs: Record<string, unknown> }[] };
const dir = mkdtempSync(join(tmpdir(), 'convkit-verify-attrs-'));

/** A copy of torch.json's first case of `op`, with attributes changed by `edit`. */
function caseOf(op: string, edit: (a: Record<string, unknown>) => void) {
  const c = structuredClone(torch.cases.find((k) => k.op === op)!);
  edit(c.attrs);
  return { format: torch.format, cases: [c] };
}

describe('attributes an op does not know fail the case as unsupported', () => {
  it('dilations on a max pool: a harmless value used to pass by luck, a real one used to misfire', async () => {
    const untouched = await ck.verifyVectors(caseOf('maxPool2d', () => {}), { backend: 'ts' });
    expect(untouched.passed).toBe(1); // the case itself is right
    for (const d of [[1, 1], [2, 2]]) {
      const r = await ck.verifyVectors(caseOf('maxPool2d', (a) => (a.dilations = d)), { backend: 'ts' });
      expect(r.failed).toBe(1);
      expect(r.cases[0].error).toBe("unsupported: maxPool2d has no attribute 'dilations' (its attributes: size, strides, padding)");
    }
  });

  it('a misspelt attribute of a convolution, and an option of another optimiser', async () => {
    const conv = await ck.verifyVectors(caseOf('conv2d', (a) => (a.stride = a.strides)), { backend: 'ts' });
    expect(conv.cases[0].error).toBe("unsupported: conv2d has no attribute 'stride' (its attributes: strides, padding, dilations, groups)");
    const sgd = torch.cases.find((k) => k.op === 'optimize' && k.attrs.optimizer === 'sgd')!;
    const opt = structuredClone(sgd);
    opt.attrs.betas = [0.9, 0.999];
    const r = await ck.verifyVectors({ format: torch.format, cases: [opt] }, { backend: 'ts' });
    expect(r.cases[0].error).toBe("unsupported: optimize with optimizer 'sgd' has no attribute 'betas' (its attributes: optimizer, steps, lr, momentum, dampening, weightDecay, nesterov)");
    opt.attrs = { ...sgd.attrs, optimizer: 'nadam' };
    const u = await ck.verifyVectors({ format: torch.format, cases: [opt] }, { backend: 'ts' });
    expect(u.cases[0].error).toMatch(/^unsupported: optimize has no optimizer 'nadam' \(known: sgd, momentum, nesterov, adam, /);
  });

  it('every attribute the reference files use is known to its op (and every op declares its attributes)', () => {
    const files = [TORCH, fileURLToPath(new URL('../ops/vectors/nn-torch.json', import.meta.url))];
    for (const f of files) {
      for (const c of parseVectors(readFileSync(f, 'utf8'), f).cases) {
        const known = knownAttrs(VERIFY_OPS[c.op], c.attrs);
        for (const k of Object.keys(c.attrs)) expect(known, `${c.name}: ${k}`).toContain(k);
      }
    }
    for (const [op, spec] of Object.entries(VERIFY_OPS)) expect(spec.attrs, op).toBeDefined();
  });

  it('the CLI reports the case as unsupported and exits 1', async () => {
    const f = join(dir, 'pool-dilated.json');
    writeFileSync(f, JSON.stringify(caseOf('avgPool2d', (a) => (a.dilations = [2, 2]))));
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      expect(await main(['verify', f])).toBe(1);
    } finally {
      vi.restoreAllMocks();
    }
    expect(out[0]).toMatch(/^FAIL .*\[avgPool2d\].* -- unsupported: avgPool2d has no attribute 'dilations' \(its attributes: size, strides, padding, countIncludePad\)$/);
    expect(out[1]).toBe('0 passed, 1 failed');
  });
});

describe('the file itself', () => {
  it('zero cases is an error, not "0 passed, 0 failed"', () => {
    expect(() => parseVectors({ format: 'convkit-vectors/1', cases: [] }, 'empty.json')).toThrow(new VectorFormatError('empty.json: "cases" is empty; expected at least one case'));
  });

  it('keys the format does not define are named (a misspelt "attrs" or "atol" used to be skipped)', () => {
    const c = structuredClone(torch.cases[0]) as Record<string, unknown>;
    const bad = (edit: (k: Record<string, unknown>) => void) => {
      const k = structuredClone(c);
      edit(k);
      return () => parseVectors({ format: 'convkit-vectors/1', cases: [k] }, 'f.json');
    };
    expect(bad((k) => ((k.atrs = k.attrs), delete k.attrs))).toThrow(/^f\.json: case 0 \(".*"\): unknown key "atrs" \(expected only "name", "op", "attrs", "inputs", "outputs", "cotangents", "grads", "tol"\)$/);
    expect(bad((k) => (k.tol = { atl: 1e-3 }))).toThrow(/: tol: unknown key "atl" \(expected only "atol", "rtol"\)$/);
    expect(bad((k) => (k.tol = { float32: { atol: 1e-3 }, atol: 1 }))).toThrow(/: tol: unknown key "atol" \(expected only "float32", "float64"\)$/);
    expect(bad((k) => ((k.outputs as Record<string, Record<string, unknown>>).y.dtype = 'int32'))).toThrow(/: outputs\.y: unknown key "dtype" \(expected only "shape", "data"\)$/);
    expect(() => parseVectors({ format: 'convkit-vectors/1', case: [], cases: [c] }, 'f.json')).toThrow('f.json: unknown key "case" (expected only "format", "generator", "cases")');
  });
});

describe('CLI: exit 2 for a file without cases, an unknown option; --backend lists every backend', () => {
  let err: string[] = [];
  beforeEach(() => {
    err = [];
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());

  it('a file with zero cases', async () => {
    const f = join(dir, 'empty.json');
    writeFileSync(f, JSON.stringify({ format: 'convkit-vectors/1', cases: [] }));
    expect(await main(['verify', f])).toBe(2);
    expect(err.join('\n')).toContain(`convkit verify: ${f}: "cases" is empty; expected at least one case`);
  });

  it('an unknown option, before anything runs', async () => {
    expect(await main(['verify', EXAMPLE, '--dtpye', 'float32'])).toBe(2);
    expect(err.join('\n')).toMatch(/^convkit verify: unknown option --dtpye \(known options: --backend, --dtype, --help, --json\)/);
  });

  it('--backend foo names every registered backend, not only those loaded so far', async () => {
    expect(await main(['verify', EXAMPLE, '--backend', 'foo'])).toBe(2);
    expect(err.join('\n')).toMatch(/--backend must be a registered backend \(ts, wasm, webgpu\), received 'foo'/);
  });
});
