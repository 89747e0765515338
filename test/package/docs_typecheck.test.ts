/**
 * Every TypeScript block of README.md and docs/*.md compiles under `strict`, against the
 * package's own sources (`'convkit'` resolves to src/index.ts). A page added on another branch
 * is covered as soon as it lands in docs/.
 *
 * Each block becomes one module: `import * as ck from 'convkit'` is added when the block does
 * not import it itself, and `const L = ck.layers` when it uses `L` without declaring it.
 * Examples use names they do not define (`x`, `logits`, `model`...), as prose examples do:
 * those free names, and only those, are declared `any` (found from the compiler's own
 * "Cannot find name" diagnostics, then the program is checked again). So every call into
 * the library is checked: its name, its arity, the option objects and the literal types.
 */
import ts from 'typescript';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { README, ROOT, codeBlocks, docsPages } from '../util/docs.js';

interface Block { file: string; page: string; line: number; source: string }

function blocks(): Block[] {
  const out: Block[] = [];
  for (const [page, text] of [['README.md', README] as const, ...docsPages()]) {
    for (const b of codeBlocks(text)) {
      if (b.lang !== 'ts' && b.lang !== 'typescript') continue;
      let source = b.code;
      const prelude: string[] = [];
      if (!/^import \* as ck from 'convkit';/m.test(source)) prelude.push("import * as ck from 'convkit';");
      if (/\bL\./.test(source) && !/\b(const|let) (\{ layers: L \}|L\b)/.test(source)) prelude.push('const L = ck.layers;');
      source = `${prelude.join(' ')}\n${source}\nexport {};\n`;
      out.push({ file: join(ROOT, '.docs-check', page.replace(/[/.]/g, '_') + `_${b.line}.ts`), page, line: b.line, source });
    }
  }
  return out;
}

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], strict: true, skipLibCheck: true, noEmit: true, types: ['node'],
  paths: { convkit: [join(ROOT, 'src/index.ts')] }, baseUrl: ROOT,
};

function check(list: Block[], old?: ts.Program): { program: ts.Program; diags: readonly ts.Diagnostic[] } {
  const byFile = new Map(list.map((b) => [b.file, b.source]));
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (byFile.has(name) ? ts.createSourceFile(name, byFile.get(name)!, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => byFile.has(name) || fileExists(name);
  const program = ts.createProgram([...byFile.keys()], OPTIONS, host, old);
  const diags = list.flatMap((b) => [...program.getSyntacticDiagnostics(program.getSourceFile(b.file)), ...program.getSemanticDiagnostics(program.getSourceFile(b.file))]);
  return { program, diags };
}

describe('docs: TypeScript blocks', () => {
  it('every ts block in README.md and docs/*.md compiles with strict (free names declared any)', () => {
    const list = blocks();
    expect(list.length).toBeGreaterThanOrEqual(15);
    const first = check(list);
    // Declare each block's free names as any (TS2304 "Cannot find name", TS2552 "... Did you mean",
    // TS18004 "No value exists in scope for the shorthand property").
    const free = new Map<string, Set<string>>();
    for (const d of first.diags) {
      if (d.code !== 2304 && d.code !== 2552 && d.code !== 18004) continue;
      const name = /(?:Cannot find name|shorthand property) '(\w+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, '\n'))?.[1];
      if (name && d.file) free.set(d.file.fileName, (free.get(d.file.fileName) ?? new Set()).add(name));
    }
    const declared = list.map((b) => {
      const names = [...(free.get(b.file) ?? [])];
      return names.length ? { ...b, source: `declare const ${names.map((n) => `${n}: any`).join(', ')};\n${b.source}` } : b;
    });
    const { diags } = check(declared, first.program);
    const where = new Map(declared.map((b) => [b.file, b]));
    const report = diags.map((d) => {
      const b = where.get(d.file!.fileName)!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const lineText = d.file!.text.split('\n')[line].trim();
      // the block's first line is markdown line b.line + 1; the module has 1 prelude line (2 with free names)
      const offset = b.source === list.find((x) => x.file === b.file)!.source ? 1 : 2;
      return `${b.page}:${b.line + line - offset + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}\n    ${lineText}`;
    });
    expect(report).toEqual([]);
  }, 120_000);
});
