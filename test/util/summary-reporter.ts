/**
 * Prints the closing line `N passed, N failed[, N skipped]` that CI reads, so a run
 * that executed no test shows as `0 passed, 0 failed`.
 */
import type { Reporter, TestCase } from 'vitest/node';

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

  onTestRunEnd(_modules: unknown, errors: ReadonlyArray<unknown>): void {
    // A file that fails to load runs no test case: count it as a failure.
    const failed = this.failed + errors.length;
    const skipped = this.skipped ? `, ${this.skipped} skipped` : '';
    process.stdout.write(`\n${this.passed} passed, ${failed} failed${skipped}\n`);
  }
}
