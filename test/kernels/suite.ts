/**
 * Generates the conformance tests of one op family from its case table: for every
 * backend under test, for every kernel of the table, one fast-check property
 * (harness.ts checkSpec). A backend that cannot start, and a kernel a backend does not
 * register, are reported as skipped with the reason; a table entry for a kernel that no
 * longer exists (listKernels('ts') lacks it) is skipped with a note.
 */
import { describe, it } from 'vitest';
import * as ck from '../../src/index.js';
import { backendsUnderTest, checkSpec, ensureStarted, sizeContext, type CaseTable } from './harness.js';

export function conformanceSuite(family: string, table: CaseTable): void {
  for (const b of backendsUnderTest()) {
    describe(`${family} conformance [${b.id}]`, () => {
      for (const [name, spec] of Object.entries(table)) {
        it(name, async (t) => {
          const reason = await ensureStarted(b);
          if (reason) return t.skip(`${b.id}: ${reason}`);
          if (!ck.listKernels('ts').includes(name)) {
            console.warn(`conformance: ${name} is not a kernel any more (no ts kernel): skipped`);
            return t.skip(`${name} is not registered on ts`);
          }
          if (!ck.listKernels(b.backend).includes(name)) return t.skip(`${name} is not registered on ${b.backend} (it runs on ts there)`);
          const ran = await checkSpec(b, name, spec, sizeContext(b));
          if (process.env.CONVKIT_CONFORMANCE_DEBUG) console.log(`${b.id} ${name}: ${ran} cases`);
          if (ran === 0) throw new Error(`${name}: no drawn case fits ${b.id}'s dtypes`);
        });
      }
    });
  }
}
