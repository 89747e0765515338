#!/usr/bin/env node
// Serve the built lab (site/dist) on 127.0.0.1 with cross-origin isolation headers:
//   Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp.
// 127.0.0.1 is a secure context, so WebGPU (where the browser has it) and IndexedDB work.
//   node site/serve.mjs [--port 5180] [--dir site/dist]      (npm run site builds first; --port 0 picks a free port)
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const port = Number(opt('--port', process.env.PORT ?? 5180));
const root = resolve(opt('--dir', fileURLToPath(new URL('./dist', import.meta.url))));
if (!existsSync(join(root, 'index.html'))) {
  console.error(`no built site in ${root}: run npm run build:site first (npm run site does both)`);
  process.exit(1);
}
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml' };
const HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' };

const server = createServer((req, res) => {
  const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0])));
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
  if (!file.startsWith(root + sep) || !existsSync(file)) {
    res.writeHead(404, { 'content-type': 'text/plain', ...HEADERS }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', ...HEADERS }).end(readFileSync(file));
});
server.listen(port, '127.0.0.1', () => console.log(`convkit lab: http://127.0.0.1:${server.address().port}/ (serving ${root}; Ctrl-C stops)`));
