/**
 * The shared op suite runs over every backend that can run here. Backends register
 * themselves by import; a backend that cannot start (no WebGPU adapter) is listed as
 * skipped with its reason instead of silently dropped.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Backends the shared suite runs on: CONVKIT_TEST_BACKENDS (comma-separated) or, by
 * default, the two that start synchronously everywhere: `ts` (the oracle) and `wasm`
 * (float32 only; float64 and int32 ops fall back to `ts`, visibly in getFallbacks()).
 */
export const BACKENDS_UNDER_TEST: string[] = (process.env.CONVKIT_TEST_BACKENDS ?? 'ts,wasm').split(',');

/** describe() once per backend, with that backend current inside every test of it. */
export function describeEachBackend(title: string, body: (backend: string) => void): void {
  for (const b of BACKENDS_UNDER_TEST) {
    describe(`${title} [${b}]`, () => {
      let prev = 'ts';
      beforeEach(() => {
        prev = ck.getBackend();
        ck.setBackendSync(b);
      });
      afterEach(() => ck.setBackendSync(prev));
      body(b);
    });
  }
}

/** Run fn with `backend` current. */
export function on<T>(backend: string, fn: () => T): T {
  return ck.withBackend(backend, fn);
}
