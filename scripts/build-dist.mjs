// Build the published package into dist/esm: one ES module build that `import` and `require`
// both load (Node >= 20.19 and 22.12 load ES modules with require()), so the package carries
// one copy of the code and of the inlined WASM modules, not two.
//   1. dist/ is emptied first: stale files of removed sources must not ship.
//   2. JavaScript, each src/ file on its own with the oxc TypeScript transform that vite (a
//      devDependency) exports, the transform the test suite runs the sources through: 0.1 s
//      for all of src/ where `tsc` took 8-11 s (see transpile).
//   3. Declarations with their doc comments, then only those a user can reach: the files
//      that dist/esm/index.d.ts imports, directly or through other declarations (the package
//      exports nothing else, so the declarations of internal modules were dead weight), and
//      in them only the doc comments an editor can show (see trimDeclarationDocs).
//   4. The full build minifies the JavaScript (see minifyJs); --js-only leaves it readable.
//   5. The CLI entry is made executable.
// Usage: node scripts/build-dist.mjs [--js-only]   (after gen-version and, when assembly/ changed,
// build:wasm; --js-only skips steps 3 and 4, for `npm start`, which only runs the CLI: no type
// check there; the full build's declaration step type-checks all of src/)
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const ts = require('typescript');
const run = (args) => {
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
rmSync('dist', { recursive: true, force: true });
await transpile('src', 'dist/esm');
if (!process.argv.includes('--js-only')) {
  run(['--emitDeclarationOnly']);
  stripSideEffectImports('dist/esm');
  const program = declarationProgram('dist/esm', 'index.d.ts');
  pruneDeclarations('dist/esm', program);
  trimDeclarationDocs('dist/esm', publicStatements(program, 'dist/esm', 'index.d.ts'));
  await minifyJs('dist/esm');
}
if (existsSync('dist/esm/cli/main.js')) chmodSync('dist/esm/cli/main.js', 0o755);

/**
 * Every .ts under `src` (not .d.ts) as ES2022 JavaScript at the same path under `out`,
 * types erased file by file (tsconfig.json's target; the sources use nothing that needs
 * another file's types to emit: no const enums, no namespaces with values). Comments stay
 * (the full build's minifier drops them); the CLI's shebang stays.
 */
async function transpile(src, out) {
  const { transformWithOxc } = await import('vite');
  for (const f of readdirSync(src, { recursive: true })) {
    if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue;
    const r = await transformWithOxc(readFileSync(join(src, f), 'utf8'), f, { lang: 'ts', target: 'es2022', sourcemap: false });
    if (r.errors?.length) throw new Error(`build-dist: transpiling ${join(src, f)} failed: ${r.errors.map((e) => e.message).join('; ')}`);
    const file = join(out, f.slice(0, -3) + '.js');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, r.code);
  }
}

/**
 * Minify every .js under `dir` with the oxc minifier that vite (a devDependency) exports:
 * whitespace removed and local names shortened, but function and class names kept (stack
 * traces and `constructor.name` read as in the source) and no compression passes (they
 * rewrite expressions; renaming and whitespace cannot change what the code computes).
 * Then every statement and class member starts a line of its own (breakStatements): an
 * uncaught error shows its source line, which must not be the whole file.
 * Measured 2026-12-07: the package's JavaScript 397 -> 352 kB gzipped (one line per file:
 * 349 kB; with the formatting oxc prints, indented: 375 kB). The CLI's shebang is kept.
 */
async function minifyJs(dir) {
  const { minifySync, parseSync } = await import('vite');
  let before = 0, after = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (!f.endsWith('.js')) continue;
    const file = join(dir, f);
    const code = readFileSync(file, 'utf8');
    const r = minifySync(f, code, { module: true, compress: false, mangle: { toplevel: true, keepNames: true }, codegen: { removeWhitespace: true } });
    if (r.errors?.length) throw new Error(`build-dist: minifying ${file} failed: ${r.errors.map((e) => e.message).join('; ')}`);
    const body = breakStatements(parseSync, file, r.code.startsWith('#!') ? r.code.slice(r.code.indexOf('\n') + 1) : r.code);
    const shebang = code.startsWith('#!') ? code.slice(0, code.indexOf('\n') + 1) : '';
    writeFileSync(file, shebang + body);
    before += code.length;
    after += shebang.length + body.length;
  }
  console.log(`build-dist: JavaScript minified, ${before} -> ${after} bytes`);
}

/**
 * A newline before each statement of a statement list (module, block, function body, static
 * block, switch case) and each class member: the token before it ends the previous one (`;`,
 * `}`, `{`, `)` or `:`), so a line break there cannot change the program. Offsets from oxc's
 * parser are UTF-16 indices, as JavaScript strings are.
 */
function breakStatements(parseSync, file, code) {
  const parsed = parseSync(file, code, { sourceType: 'module' });
  if (parsed.errors?.length) throw new Error(`build-dist: the minified ${file} does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const starts = [];
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const lists = node.type === 'Program' || node.type === 'BlockStatement' || node.type === 'FunctionBody' || node.type === 'StaticBlock' || node.type === 'ClassBody' ? [node.body] : node.type === 'SwitchCase' ? [node.consequent] : [];
    for (const list of lists) if (Array.isArray(list)) for (const st of list) if (st.start > 0) starts.push(st.start);
    for (const k in node) if (k !== 'parent' && node[k] && typeof node[k] === 'object') visit(node[k]);
  };
  visit(parsed.program);
  starts.sort((a, b) => a - b);
  let out = '', at = 0;
  for (const s of starts) {
    if (s <= at || code[s - 1] === '\n') continue;
    out += code.slice(at, s) + '\n';
    at = s;
  }
  return out + code.slice(at);
}

/**
 * Drop the doc comments of the declarations that no editor shows: a file's header (it sits
 * before the imports and documents the module for readers of src/), and the comments of
 * private members, of declarations the module does not export, and of exported ones that
 * the package's entry does not export (`publicOnes`: a user cannot import them, so never
 * hovers their name; the members of such a class keep theirs, as a public signature may
 * hand out an instance). What a user hovers over keeps its whole comment.
 */
function trimDeclarationDocs(dir, publicOnes) {
  let before = 0, after = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (!f.endsWith('.d.ts')) continue;
    const file = join(dir, f);
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    const cuts = [];
    const hasModifier = (node, kind) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
    const visit = (node, topLevel) => {
      const unseen =
        ts.isImportDeclaration(node) ||
        (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) ||
        hasModifier(node, ts.SyntaxKind.PrivateKeyword) ||
        (topLevel && ts.canHaveModifiers(node) && !ts.isExportDeclaration(node) && !ts.isExportAssignment(node) && !hasModifier(node, ts.SyntaxKind.ExportKeyword)) ||
        (topLevel && hasModifier(node, ts.SyntaxKind.ExportKeyword) && !publicOnes.has(`${resolve(file)}:${node.pos}`));
      if (unseen) for (const r of ts.getLeadingCommentRanges(text, node.pos) ?? []) if (text.startsWith('/**', r.pos)) cuts.push([r.pos, r.end]);
      node.forEachChild((child) => visit(child, false));
    };
    for (const s of sf.statements) visit(s, true);
    let out = text;
    for (const [a, b] of cuts.sort((x, y) => y[0] - x[0])) out = out.slice(0, a) + out.slice(b).replace(/^[ \t]*\n/, '');
    if (out !== text) writeFileSync(file, out);
    before += text.length;
    after += out.length;
  }
  console.log(`build-dist: declarations ${before} -> ${after} bytes (doc comments no editor shows removed)`);
}

/**
 * The top-level declarations the package exports (from `entry`, through `export *` and
 * `export * as ns` re-exports, aliases resolved by `program`'s checker), as
 * 'file:statement position' keys. The pruned files are not among them: the program loads
 * only what it reaches.
 */
function publicStatements(program, dir, entry) {
  const root = resolve(dir);
  const checker = program.getTypeChecker();
  const keys = new Set();
  const modules = new Set();
  const walk = (moduleSymbol) => {
    if (modules.has(moduleSymbol)) return;
    modules.add(moduleSymbol);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (target.flags & ts.SymbolFlags.ValueModule && target.declarations?.some((d) => ts.isSourceFile(d))) {
        walk(target);
        continue;
      }
      for (let d of target.declarations ?? []) {
        if (ts.isVariableDeclaration(d)) d = d.parent.parent;
        keys.add(`${resolve(d.getSourceFile().fileName)}:${d.pos}`);
      }
    }
  };
  walk(checker.getSymbolAtLocation(program.getSourceFile(join(root, entry))));
  return keys;
}

/**
 * Remove the bare `import './x.js';` statements from the declarations. In the JavaScript they
 * run a module for its effect (index.js starts the backends); in a .d.ts they declare nothing,
 * but a compiler still loads the file, and everything it imports, so the package had to ship
 * the declarations of every backend's internals (70 files, 10 kB packed, measured 2026-12-07).
 */
function stripSideEffectImports(dir) {
  let removed = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (!f.endsWith('.d.ts')) continue;
    const file = join(dir, f);
    const text = readFileSync(file, 'utf8');
    const kept = text.replace(/^import '[^']+';\r?\n/gm, () => (removed++, ''));
    if (kept !== text) writeFileSync(file, kept);
  }
  console.log(`build-dist: ${removed} side-effect imports removed from the declarations`);
}

/** The TypeScript program of the declarations under `dir` rooted at `entry` (what a user's compiler loads). */
function declarationProgram(dir, entry) {
  return ts.createProgram([join(resolve(dir), entry)], { noEmit: true, types: [], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 });
}

/**
 * Delete every .d.ts under `dir` that `program` (declarationProgram) does not load (its
 * imports, re-exports, import types and references, resolved by TypeScript itself, so
 * examples in doc comments do not count).
 */
function pruneDeclarations(dir, program) {
  const root = resolve(dir);
  const seen = new Set(program.getSourceFiles().map((sf) => resolve(sf.fileName)).filter((f) => f.startsWith(root + sep)));
  let removed = 0;
  for (const f of readdirSync(root, { recursive: true })) {
    if (f.endsWith('.d.ts') && !seen.has(join(root, f))) {
      rmSync(join(root, f));
      removed++;
    }
  }
  console.log(`build-dist: ${seen.size} declaration files reachable from the entry; ${removed} internal ones removed`);
}
