/**
 * The README says what the package does: its first block holds the two set-up commands,
 * the tensors example runs as written, and every `ck.name` (and `ck.filters.name`) that the
 * foundation sections mention exists in the package's exports.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = (name: string) => {
  const m = readme.match(new RegExp(`<!-- section:${name} -->([\\s\\S]*?)<!-- /section:${name} -->`));
  if (!m) throw new Error(`README has no section '${name}'`);
  return m[1];
};
const FOUNDATION = ['tensors', 'nn-ops', 'conv', 'optim', 'verify'];

describe('README', () => {
  it('starts with the two set-up commands, the test one ending in "N passed, N failed"', () => {
    const first = readme.match(/```(\w*)\n([\s\S]*?)```/)!;
    expect(first.index).toBeLessThan(readme.indexOf('<!-- section:'));
    expect(first[1]).toBe('sh');
    const lines = first[2].trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^npm ci && npm start\b/);
    expect(lines[1]).toMatch(/^npm ci && npm test\b.*"N passed, N failed"/);
  });

  it('.ci/run (executable) installs with npm ci and ends by running the README test command', () => {
    const ci = fileURLToPath(new URL('../../.ci/run', import.meta.url));
    expect(statSync(ci).mode & 0o111).not.toBe(0);
    const commands = readFileSync(ci, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const readmeTest = readme.match(/```sh\n[^\n]*\n(npm ci && npm test)\b/)![1];
    const [install, test] = readmeTest.split(' && ');
    expect(commands.slice(-2).map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual([install, test]);
    expect(commands[commands.length - 1]).toBe(test);
  });

  it('the tensors example runs as written', () => {
    const block = section('tensors').match(/```ts\n([\s\S]*?)```/)![1];
    const body = block.replace(/^import \* as ck from 'convkit';$/m, '');
    expect(body).not.toMatch(/^import /m);
    const run = new Function('ck', `${body}\nreturn { x, y, w, loss, frozen, inference, value, grads };`);
    const r = ck.tidy(() => run(ck));
    expect(r.y.dtype).toBe('float64');
    expect(r.w.grad.shape).toEqual([2, 2]);
    expect(r.frozen.requiresGrad).toBe(false);
    expect(r.inference.requiresGrad).toBe(false);
    expect(r.value.item()).toBe(1 * 1 + 2 * 2 + 3 * 4 + 4 * 5);
    expect(r.grads.map((g: ck.Tensor) => g.toArray())).toEqual([[1, 2, 4, 5], [1, 2, 3, 4]]);
  });

  it('every ck.name and ck.filters.name in the foundation sections exists', () => {
    const missing: string[] = [];
    const api = ck as unknown as Record<string, unknown>;
    const filters = ck.filters as unknown as Record<string, unknown>;
    for (const name of FOUNDATION) {
      const text = section(name);
      for (const [, first, second] of text.matchAll(/\bck\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?/g)) {
        if (!(first in api)) missing.push(`${name}: ck.${first}`);
        else if (first === 'filters' && second && !(second in filters)) missing.push(`${name}: ck.filters.${second}`);
      }
    }
    // The filter list in prose: `boxBlur`/`meanBlur`, `sobelX/Y`, ...
    const prose = section('conv').match(/Filters \(`ck\.filters`\):([\s\S]*?)\n- /)![1];
    for (const [, word, suffix] of prose.matchAll(/`([a-z]\w*?)(X\/Y)?`/g)) {
      for (const n of suffix ? [`${word}X`, `${word}Y`] : [word]) if (!(n in filters)) missing.push(`conv prose: filters.${n}`);
    }
    expect(missing).toEqual([]);
  });

  it('the Tensor methods the examples call exist', () => {
    const t = ck.tensor([1]);
    for (const m of ['requireGrad', 'backward', 'zeroGrad', 'detach', 'square', 'mul', 'slice', 'cast', 'dispose', 'dataSync', 'data', 'item']) {
      expect(typeof (t as unknown as Record<string, unknown>)[m], m).toBe('function');
    }
  });
});
