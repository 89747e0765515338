/**
 * `npm test` ends with the line `N passed, N failed`, and a run that did not go right
 * never reads `0 failed`: a test file that cannot load and a failing hook count as failures.
 * Runs vitest on a small fixture project with the suite's own reporter.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryLines } from '../util/summary-reporter.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// Inside the repository (build/ is git-ignored) so the fixture resolves vitest from node_modules.
mkdirSync(join(root, 'build'), { recursive: true });
const dir = mkdtempSync(join(root, 'build', 'reporter-fixture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runFixture(files: Record<string, string>): { code: number | null; lines: string[] } {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, 'vitest.config.mjs'),
    `export default { test: { include: ['*.test.mjs'], reporters: [${JSON.stringify(join(root, 'test/util/summary-reporter.ts'))}] } };\n`,
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  const r = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, lines: r.stdout.trimEnd().split('\n') };
}

describe('the closing line of a test run', () => {
  it('formats: skipped on their own line, the last line exactly "N passed, N failed"', () => {
    expect(summaryLines(3, 0, 0)).toEqual(['3 passed, 0 failed']);
    expect(summaryLines(3, 1, 2)).toEqual(['2 skipped', '3 passed, 1 failed']);
  });

  it('counts a file that cannot load and a failing beforeAll as failures', () => {
    const { code, lines } = runFixture({
      'a.test.mjs': "import { it, expect } from 'vitest';\nit('ok', () => expect(1).toBe(1));\nit.skip('later', () => {});\n",
      'b.test.mjs': "import { it } from 'vitest';\nthrow new Error('broken at import');\nit('never', () => {});\n",
      'c.test.mjs': "import { describe, it, beforeAll } from 'vitest';\ndescribe('s', () => { beforeAll(() => { throw new Error('hook'); }); it('t', () => {}); });\n",
      'd.test.mjs': "import { it, expect } from 'vitest';\nit('fails', () => expect(1).toBe(2));\n",
    });
    expect(code).toBe(1);
    expect(lines[lines.length - 1]).toBe('1 passed, 3 failed');
    expect(lines[lines.length - 2]).toBe('2 skipped');
  });
});
