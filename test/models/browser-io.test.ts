/**
 * Saving and loading in a real browser: src is transpiled to ES modules, served from
 * 127.0.0.1 and loaded by headless Debian Chromium (playwright-core). The page saves a
 * model to localStorage and to IndexedDB, loads both back, and reports the predictions,
 * which must equal the original's bit for bit. It also shows that io.ts runs in a
 * browser without ever loading node:fs.
 *
 * The harness is test/util/browser.ts.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, runPage } from '../util/browser.js';

const haveChromium = chromiumAvailable('browser save/load test');

const PAGE = `<!doctype html><meta charset="utf-8"><title>convkit io</title>
<script type="module">
import * as ck from './esm/index.js';
try {
  const m = ck.zoo.smallCnn28({ seed: 1, filters: [4, 8], dense: 16 });
  ck.tidy(() => { m.apply(ck.randomNormal([4, 28, 28, 1], { seed: 3 }), { training: true }); }); // move the BN statistics
  const x = ck.randomNormal([3, 28, 28, 1], { seed: 2 });
  const bits = (t) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
  const want = bits(m.predict(x));
  await m.save(ck.browserLocalStorage('io-test'));
  const fromLocal = await ck.loadModel(ck.browserLocalStorage('io-test'));
  await m.save(ck.browserIndexedDB('io-test'));
  const fromIdb = await ck.loadModel(ck.browserIndexedDB('io-test'));
  let missing = null;
  try { await ck.loadModel(ck.browserIndexedDB('nothing-here')); } catch (e) { missing = String(e.message); }
  window.__result = {
    ok: true, want, local: bits(fromLocal.predict(x)), idb: bits(fromIdb.predict(x)),
    keys: Object.keys(localStorage).sort(), missing, params: fromIdb.countParams(),
  };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}
</script>`;

describe.skipIf(!haveChromium)('save/load in headless Chromium', () => {
  it('browserLocalStorage and browserIndexedDB round trips predict bit for bit', async () => {
    const { result: r, errors } = await runPage(PAGE);
    expect(errors).toEqual([]);
    expect(r.error ?? null).toBeNull();
    expect((r.want as number[]).length).toBe(30);
    expect(r.local).toEqual(r.want);
    expect(r.idb).toEqual(r.want);
    expect(r.keys).toEqual(['convkit:io-test:model', 'convkit:io-test:weights']);
    expect(r.missing).toMatch(/no model named 'nothing-here' in IndexedDB database 'convkit'/);
    expect(r.params).toBe(4 * 9 + 8 + 8 * 4 * 9 + 16 + 7 * 7 * 8 * 16 + 16 + 16 * 10 + 10 + 2 * (4 + 8)); // + BN running statistics
  });
});
