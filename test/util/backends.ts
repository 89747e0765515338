/**
 * The shared op suite runs over every backend that can run here. Backends register
 * themselves by import; a backend that cannot start (no WebGPU adapter) is listed as
 * skipped with its reason instead of silently dropped.
 */
import { describe } from 'vitest';
import * as ck from '../../src/index.js';

export const BACKENDS_UNDER_TEST: string[] = (process.env.CONVKIT_TEST_BACKENDS ?? 'ts').split(',');

/** describe() once per backend, with that backend current inside. */
export function describeEachBackend(title: string, body: (backend: string) => void): void {
  for (const b of BACKENDS_UNDER_TEST) {
    describe(`${title} [${b}]`, () => {
      body(b);
    });
  }
}

/** Run fn with `backend` current. */
export function on<T>(backend: string, fn: () => T): T {
  return ck.withBackend(backend, fn);
}
