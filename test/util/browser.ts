/**
 * Running convkit in a real browser from a test: src is transpiled file by file to
 * ES2022 modules (TypeScript's transpiler) in a temporary directory, served with a page
 * from 127.0.0.1, and loaded by headless Debian Chromium through playwright-core. The
 * page stores its outcome in `window.__result`, which `runPage` returns.
 *
 * Tests skip, with the reason printed, only when /usr/bin/chromium is absent (CI installs
 * Debian's chromium; with CONVKIT_REQUIRE_CHROMIUM=1 its absence is a failure instead).
 *
 * `serveStatic` and `launchChromium` are the same pieces for pages that exist as files (the
 * examples, the browser lab): a folder served as it is, with cross-origin isolation headers.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
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
    const context = await launchChromium(join(dir, 'profile'));
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

/** Content types for the files the lab and the examples serve. */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream', '.ico': 'image/x-icon', '.txt': 'text/plain',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Serve `root` on 127.0.0.1 (a free port) with the isolation headers; 404 outside it. */
export async function serveStatic(root: string): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0])));
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
    if (!(file === root || file.startsWith(root.endsWith(sep) ? root : root + sep)) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404, ISOLATION_HEADERS).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...ISOLATION_HEADERS }).end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** Launch headless Debian Chromium (never a downloaded browser) with the suite's flags; `webgpu` drops --disable-gpu for --enable-unsafe-webgpu. */
export async function launchChromium(profile: string, opts: { webgpu?: boolean } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']),
    ],
  });
}
