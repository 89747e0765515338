/**
 * The documentation the tests read: README.md and every docs/*.md page. Reference sections are
 * delimited by `<!-- section:NAME -->` ... `<!-- /section:NAME -->` markers on their docs page;
 * `section(name)` finds one wherever it lives (each name must be defined exactly once), so a
 * section can move between pages without touching the tests that run its examples.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** docs/*.md, file name -> text (other branches add pages; every one is covered). */
export function docsPages(): Map<string, string> {
  const dir = join(ROOT, 'docs');
  return new Map(readdirSync(dir).filter((f) => f.endsWith('.md')).sort().map((f) => [`docs/${f}`, readFileSync(join(dir, f), 'utf8')]));
}

/** Where each section marker is defined: name -> page path. */
export function sectionPages(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const [page, text] of [['README.md', README] as const, ...docsPages()]) {
    for (const [, name] of text.matchAll(/<!-- section:([\w-]+) -->/g)) where.set(name, [...(where.get(name) ?? []), page]);
  }
  return where;
}

/** The text between a section's markers, from whichever page defines it. */
export function section(name: string): string {
  const pages = sectionPages().get(name) ?? [];
  if (pages.length !== 1) throw new Error(`section '${name}' is defined on ${pages.length ? pages.join(', ') : 'no page'} (expected exactly one)`);
  const text = pages[0] === 'README.md' ? README : docsPages().get(pages[0])!;
  const m = text.match(new RegExp(`<!-- section:${name} -->([\\s\\S]*?)<!-- /section:${name} -->`));
  if (!m) throw new Error(`${pages[0]}: section '${name}' has no closing marker`);
  return m[1];
}

/** Every fenced code block of a markdown text, with its language tag and 1-based starting line. */
export function codeBlocks(text: string): { lang: string; code: string; line: number }[] {
  const out: { lang: string; code: string; line: number }[] = [];
  for (const m of text.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```/gm)) {
    out.push({ lang: m[1], code: m[2], line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}
