/**
 * Kept only for test/wasm/memory_large.test.ts, which imports `rand` from here: the one
 * `rand` lives in test/util/rand.mjs (new tests import it from there).
 */
export { rand } from '../util/rand.mjs';
