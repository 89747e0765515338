/**
 * Vitest setup file (vitest.config.ts `setupFiles`): the suite's default backend is the
 * `ts` oracle. convkit's own default is the fastest CPU backend (wasm); the tests that
 * compare a backend with the oracle, or check exact float64 values, mean the oracle
 * when they call ops without `setBackend`, and this file says so once for all of them.
 * test/core/default_backend.test.ts checks the library's real default on a fresh
 * module instance.
 */
import * as ck from '../../src/index.js';

ck.setBackendSync('ts');
