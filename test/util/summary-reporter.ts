/**
 * Prints the closing line `N passed, N failed` that CI reads (always the last line, so a
 * run that executed no test shows as `0 passed, 0 failed`). Skipped tests, when there
 * are any, get a line of their own just before it.
 *
 * Failures that are not test cases count too: a test file that cannot be loaded, a
 * failing beforeAll/afterAll hook of a file or a describe block (its tests are then only
 * "skipped"), and unhandled errors. Each counts as one failure.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';

export function summaryLines(passed: number, failed: number, skipped: number): string[] {
  return [...(skipped ? [`${skipped} skipped`] : []), `${passed} passed, ${failed} failed`];
}

export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  onTestCaseResult(test: TestCase): void {
    const s = test.result().state;
    if (s === 'passed') this.passed++;
    else if (s === 'failed') this.failed++;
    else this.skipped++;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let failed = this.failed + errors.length;
    for (const m of modules) {
      if (m.errors().length) failed++;
      for (const s of m.children.allSuites()) if (s.errors().length) failed++;
    }
    process.stdout.write(`\n${summaryLines(this.passed, failed, this.skipped).join('\n')}\n`);
  }
}
