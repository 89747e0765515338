/**
 * Saving and loading in a real browser: src is transpiled to ES modules, served from
 * 127.0.0.1 and loaded by headless Debian Chromium (playwright-core). The page saves a
 * model to localStorage and to IndexedDB, loads both back, and reports the predictions,
 * which must equal the original's bit for bit. It also shows that io.ts runs in a
 * browser without ever loading node:fs.
 *
 * Skipped, with the reason printed, only when /usr/bin/chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const CHROMIUM = '/usr/bin/chromium';
const SRC = resolve(__dirname, '../../src');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`browser save/load test skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

function compileSrc(outDir: string): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? (f === 'cli' ? [] : walk(p)) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
  for (const file of walk(SRC)) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const dest = join(outDir, relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, out.outputText);
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>convkit io</title>
<script type="module">
import * as ck from './esm/index.js';
try {
  const m = ck.zoo.smallCnn28({ seed: 1, filters: [4, 8], dense: 16 });
  ck.tidy(() => { m.apply(ck.randomNormal([4, 28, 28, 1], { seed: 3 }), { training: true }); }); // move the BN statistics
  const x = ck.randomNormal([3, 28, 28, 1], { seed: 2 });
  const bits = (t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
  const want = bits(m.predict(x));
  await m.save(ck.browserLocalStorage('io-test'));
  const fromLocal = await ck.loadModel(ck.browserLocalStorage('io-test'));
  await m.save(ck.browserIndexedDB('io-test'));
  const fromIdb = await ck.loadModel(ck.browserIndexedDB('io-test'));
  let missing = null;
  try { await ck.loadModel(ck.browserIndexedDB('nothing-here')); } catch (e) { missing = String(e.message); }
  window.__result = {
    ok: true, want, local: bits(fromLocal.predict(x)), idb: bits(fromIdb.predict(x)),
    keys: Object.keys(localStorage).sort(), missing, params: fromIdb.countParams(),
  };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}
</script>`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

describe.skipIf(!haveChromium)('save/load in headless Chromium', () => {
  let dir = '';
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convkit-browser-io-'));
    compileSrc(join(dir, 'esm'));
    writeFileSync(join(dir, 'index.html'), PAGE);
    server = createServer((req, res) => {
      const path = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]));
      const file = path.endsWith('/') ? join(path, 'index.html') : path;
      if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('browserLocalStorage and browserIndexedDB round trips predict bit for bit', async () => {
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/index.html`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
      expect(errors).toEqual([]);
      expect(r.error ?? null).toBeNull();
      expect((r.want as number[]).length).toBe(30);
      expect(r.local).toEqual(r.want);
      expect(r.idb).toEqual(r.want);
      expect(r.keys).toEqual(['convkit:io-test:model', 'convkit:io-test:weights']);
      expect(r.missing).toMatch(/no model named 'nothing-here' in IndexedDB database 'convkit'/);
      expect(r.params).toBe(4 * 9 + 8 + 8 * 4 * 9 + 16 + 7 * 7 * 8 * 16 + 16 + 16 * 10 + 10 + 2 * (4 + 8)); // + BN running statistics
    } finally {
      await context.close();
    }
  });
});
