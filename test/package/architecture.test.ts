/**
 * The floors of src/ and the arrows allowed between them (docs/ARCHITECTURE.md): every
 * relative import in src/**\/*.ts — static `import`, `export ... from`, `import type`
 * and dynamic `import('...')` of a literal path — must go to the same floor or to one the
 * table below allows. The table mirrors the arrows block of docs/ARCHITECTURE.md; the
 * test also fails when the two disagree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const src = join(root, 'src');

/** The floors below the model-building ones, which every upper floor may use. */
const CORE = ['ops', 'autograd', 'registry', 'kernels', 'tensor'] as const;
const BACKENDS = ['backends/ts', 'backends/wasm', 'backends/webgpu'] as const;

/** floor -> the floors it may import (besides itself). Bottom to top, as in docs/ARCHITECTURE.md. */
const ALLOWED: Record<string, readonly string[]> = {
  tensor: [],
  kernels: ['tensor'],
  registry: ['kernels', 'tensor'],
  autograd: ['registry', 'kernels', 'tensor'],
  ops: ['autograd', 'registry', 'kernels', 'tensor'],
  'backends/ts': ['registry', 'kernels', 'tensor'],
  'backends/wasm': ['registry', 'kernels', 'tensor'],
  'backends/webgpu': ['registry', 'kernels', 'tensor'],
  optim: [...CORE],
  layers: [...CORE],
  train: ['optim', ...CORE],
  data: [...CORE],
  vision: ['train', 'optim', ...CORE],
  plot: ['data', 'train', ...CORE],
  models: ['version', 'layers', 'train', 'data', 'vision', 'optim', ...CORE],
  verify: ['optim', ...CORE],
  version: [],
  cli: ['version', 'verify', 'models', 'vision', 'plot', 'data', 'train', 'layers', 'optim', ...BACKENDS, ...CORE],
  index: ['version', 'verify', 'models', 'vision', 'plot', 'data', 'train', 'layers', 'optim', ...BACKENDS, ...CORE],
};

/**
 * Imports that break the table today in files other helpers are converting on their
 * branches (issue 14). The lead empties this list after merging; an entry that no longer
 * occurs fails the test, so the list cannot go stale.
 */
// Empty at the branch point (ff4f30d) and on every helper branch checked before merging
// (arch-conv, arch-elementwise, arch-shapepool, arch-nn, arch-conformance). Entry form:
//   { file: 'src/backends/wasm/kernels/foo.ts', imports: '../../../ops/foo.js', reason: 'why, and who removes it' },
const KNOWN_VIOLATIONS: readonly { file: string; imports: string; reason: string }[] = [];

/** The floor of a file under src/: its first folder (backends: the backend's folder), or 'index' / 'version' at the top. */
function floorOf(file: string): string {
  const parts = relative(src, file).split(sep);
  if (parts.length === 1) return parts[0].replace(/\.(ts|js)$/, '');
  return parts[0] === 'backends' ? `backends/${parts[1]}` : parts[0];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  file: string;
  line: number;
  spec: string;
  from: string;
  to: string;
}

/** Every relative import of every source file, with the floors at both ends. */
function allImports(): Import[] {
  const out: Import[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    // preProcessFile finds static imports, re-exports, `import type` and literal dynamic imports, skipping comments and strings.
    for (const { fileName: spec, pos } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec));
      const line = text.slice(0, pos).split('\n').length;
      out.push({ file: relative(root, file), line, spec, from: floorOf(file), to: relative(src, target).startsWith('..') ? '(outside src)' : floorOf(target) });
    }
  }
  return out;
}

const isKnown = (i: Import) => KNOWN_VIOLATIONS.some((k) => k.file === i.file && k.imports === i.spec);

describe('architecture: imports follow the floors of docs/ARCHITECTURE.md', () => {
  const imports = allImports();
  const violations = imports.filter((i) => i.from !== i.to && !(ALLOWED[i.from] ?? []).includes(i.to));

  it('finds the imports (the parser works)', () => {
    expect(imports.length).toBeGreaterThan(500);
    expect(imports.some((i) => i.from === 'models' && i.to === 'layers')).toBe(true);
    expect(imports.some((i) => i.from === 'cli' && i.spec.includes('backends/ts'))).toBe(true);
  });

  it('every file lies in a known floor', () => {
    const unknown = [...new Set(imports.flatMap((i) => [i.from, i.to]).filter((f) => !(f in ALLOWED)))];
    expect(unknown, 'floors missing from the table (add them here and to docs/ARCHITECTURE.md)').toEqual([]);
  });

  it('no import goes against the arrows', () => {
    const report = violations.filter((i) => !isKnown(i)).map((i) => `${i.file}:${i.line} (${i.from}) imports '${i.spec}' (${i.to}); ${i.from} may import: ${(ALLOWED[i.from] ?? []).join(', ') || 'nothing'}`);
    expect(report).toEqual([]);
  });

  it('every known violation still occurs (empty KNOWN_VIOLATIONS as they are fixed)', () => {
    const stale = KNOWN_VIOLATIONS.filter((k) => !violations.some((i) => i.file === k.file && i.spec === k.imports));
    expect(stale).toEqual([]);
  });

  it('the table is the one docs/ARCHITECTURE.md draws', () => {
    const doc = readFileSync(join(root, 'docs', 'ARCHITECTURE.md'), 'utf8');
    const block = /```text floors\n([\s\S]*?)```/.exec(doc);
    expect(block, "docs/ARCHITECTURE.md has a '```text floors' block").not.toBeNull();
    const drawn: Record<string, string[]> = {};
    for (const line of block![1].split('\n')) {
      const m = /^\s*(\S+)\s+->\s+(.*)$/.exec(line);
      if (!m) continue;
      const targets = m[2].trim() === '(nothing)' ? [] : m[2].split(',').map((s) => s.trim());
      drawn[m[1]] = targets.flatMap((t) => (t === 'CORE' ? [...CORE] : t === 'backends/*' ? [...BACKENDS] : [t]));
    }
    const sorted = (r: Record<string, readonly string[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, [...v].sort()]));
    expect(sorted(drawn)).toEqual(sorted(ALLOWED));
  });
});
