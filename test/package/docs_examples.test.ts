/**
 * The TypeScript examples of docs/plot.md, docs/browser-images.md and
 * docs/data-streaming.md typecheck against the sources ('convkit' mapped to src/index.ts,
 * DOM lib on, as a page would have), so the pages cannot drift from the API. The Node-only
 * examples (no DOM names) also run, from a scratch folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../util/dist.js';

const PAGES = ['docs/plot.md', 'docs/browser-images.md', 'docs/data-streaming.md'];
const blocks = PAGES.flatMap((page) => [...readFileSync(join(root, page), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ page, i, code: m[1] })));
const dir = mkdtempSync(join(tmpdir(), 'convkit-docs-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs examples', () => {
  it('every page has examples, each importing convkit as ck', () => {
    for (const p of PAGES) expect(blocks.filter((b) => b.page === p).length, p).toBeGreaterThanOrEqual(2);
    for (const b of blocks) expect(b.code, `${b.page} block ${b.i}`).toContain("import * as ck from 'convkit';");
  });

  it('typecheck (strict, DOM lib) against src/', () => {
    const files = blocks.map((b) => {
      const f = join(dir, `${b.page.replace(/\W/g, '_')}_${b.i}.ts`);
      // Each block is a module (top-level await), 'convkit' resolved by the paths map.
      writeFileSync(f, `${b.code}\nexport {};\n`);
      return f;
    });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'ES2022', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [join(root, 'node_modules/@types')], baseUrl: root, paths: { convkit: ['src/index.ts'] },
      },
      files,
    }));
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect((r.stdout + r.stderr).split(dir + '/').join('')).toBe('');
  }, 120_000);
});

// Run the Node examples that need no DOM, no big data set, no files they do not write.
const runnable = blocks.filter((b) => !/document|OffscreenCanvas|HTMLInputElement|indexeddb|photo\.jpg|fashion-mnist/.test(b.code));
describe('docs examples run in Node', () => {
  const work = mkdtempSync(join(tmpdir(), 'convkit-docs-run-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  it.each(runnable.map((b) => [`${b.page} block ${b.i}`, b] as const))('%s', async (_name, b) => {
    const src = b.code.replace("import * as ck from 'convkit';", `import * as ck from ${JSON.stringify(join(root, 'src/index.ts'))};`);
    mkdirSync(work, { recursive: true });
    const file = join(work, `${b.page.replace(/\W/g, '_')}_${b.i}.mts`);
    writeFileSync(file, src);
    // Run through vitest's own transform: import the file in this process, from the scratch folder.
    const cwd = process.cwd();
    process.chdir(work);
    const log = console.log;
    console.log = () => {};
    try {
      await import(file);
    } finally {
      console.log = log;
      process.chdir(cwd);
    }
  }, 120_000);
});
