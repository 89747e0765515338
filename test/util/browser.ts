/**
 * Running convkit in a real browser from a test: src is transpiled file by file to
 * ES2022 modules (TypeScript's transpiler) in a temporary directory, served with a page
 * from 127.0.0.1, and loaded by headless Debian Chromium through playwright-core. The
 * page stores its outcome in `window.__result`, which `runPage` returns.
 *
 * Tests skip, with the reason printed, only when /usr/bin/chromium is absent (CI installs
 * Debian's chromium; with CONVKIT_REQUIRE_CHROMIUM=1 its absence is a failure instead).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const CHROMIUM = '/usr/bin/chromium';
const SRC = resolve(__dirname, '../../src');

/** True when Chromium can run here; otherwise warns with `what` (or throws when CI requires it). */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const msg = `${what} skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`;
  if (process.env.CONVKIT_REQUIRE_CHROMIUM === '1') throw new Error(`CONVKIT_REQUIRE_CHROMIUM=1 but ${msg}`);
  console.warn(msg);
  return false;
}

/** Transpile every .ts under src (cli excepted: it is Node-only) to ES2022 modules under outDir. */
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

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/**
 * Serve `page` as /index.html beside the transpiled sources (import them from
 * './esm/index.js'), open it in headless Chromium, wait for `window.__result` and
 * return it with any uncaught page errors and the console's lines. `headers` are added
 * to every response (e.g. COOP/COEP for a cross-origin isolated page). Everything is
 * torn down afterwards.
 */
export async function runPage(
  page: string,
  opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<{ result: Record<string, unknown>; errors: string[]; console: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-browser-'));
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent((req.url ?? '/').split('?')[0]));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...opts.headers }).end(readFileSync(file));
  });
  try {
    compileSrc(join(dir, 'esm'));
    writeFileSync(join(dir, 'index.html'), page);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const tab = await context.newPage();
      const errors: string[] = [];
      const consoleLines: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      tab.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      await tab.goto(`http://127.0.0.1:${port}/index.html`);
      await tab.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: opts.timeoutMs ?? 60_000 });
      const result = await tab.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
      return { result, errors, console: consoleLines };
    } finally {
      await context.close();
    }
  } finally {
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(dir, { recursive: true, force: true });
  }
}
