/**
 * The README says what the package does in under 200 lines: its first block holds the two
 * set-up commands, and its links to docs/ resolve. The reference lives in docs/*.md, one page
 * per area, in `<!-- section:NAME -->` blocks (test/util/docs.ts finds them): the tensors
 * example runs as written, and every `ck.name` (and `ck.filters.name`) that the foundation
 * sections mention exists in the package's exports.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { README as readme, ROOT, docsPages, section, sectionPages } from '../util/docs.js';

/** Where each reference section lives. */
const PAGES: Record<string, string> = {
  tensors: 'docs/tensors.md', 'nn-ops': 'docs/tensors.md', conv: 'docs/convolution.md', vision: 'docs/vision.md',
  optim: 'docs/training.md', training: 'docs/training.md', verify: 'docs/verify.md', layers: 'docs/layers.md',
  models: 'docs/models.md', zoo: 'docs/models.md', interop: 'docs/onnx.md', data: 'docs/data.md', cli: 'docs/cli.md',
  wasm: 'docs/backends.md', 'wasm-kernels': 'docs/backends.md', webgpu: 'docs/backends.md',
};
const FOUNDATION = ['tensors', 'nn-ops', 'conv', 'optim', 'verify'];

describe('README', () => {
  it('starts with the two set-up commands, the test one ending in "N passed, N failed"', () => {
    const first = readme.match(/```(\w*)\n([\s\S]*?)```/)!;
    expect(readme.slice(0, first.index)).not.toMatch(/```/);
    expect(first[1]).toBe('sh');
    const lines = first[2].trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^npm ci && npm start\b/);
    expect(lines[1]).toMatch(/^npm ci && npm test\b.*"N passed, N failed"/);
  });

  it('is under 200 lines, and every relative link in it resolves to a file in the repository', () => {
    expect(readme.split('\n').length).toBeLessThan(200);
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((l) => !existsSync(join(ROOT, l)))).toEqual([]);
    // every reference page is linked from the README's map (pages added on other branches are
    // checked by docs_typecheck.test.ts; linking them here is their author's choice)
    for (const page of new Set(Object.values(PAGES))) expect(links, page).toContain(page);
    expect([...docsPages().keys()]).toEqual(expect.arrayContaining([...new Set(Object.values(PAGES))]));
  });

  it('every relative link in docs/*.md resolves, from the page\'s folder', () => {
    const broken: string[] = [];
    for (const [page, text] of docsPages()) {
      for (const [, link] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (!/^[a-z]+:/.test(link) && !existsSync(join(ROOT, 'docs', link))) broken.push(`${page}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('each reference section is defined once, on its docs page, and none is left in the README', () => {
    const where = sectionPages();
    for (const [name, page] of Object.entries(PAGES)) expect(where.get(name), name).toEqual([page]);
    expect(readme).not.toMatch(/<!-- section:/);
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
