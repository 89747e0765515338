/**
 * Full-size torchvision models (resnet18, mobilenet_v2, mobilenet_v3_small, squeezenet1_1,
 * googlenet at 224x224, 1000 classes, seeded random weights) written by
 * `scripts/onnx/export_torch.py --full DIR` (or those of `export_sweep.py DIR`, named in
 * CONVKIT_ONNX_FULL_MODELS), imported with ck.loadOnnx and run on wasm (and
 * ts with CONVKIT_ONNX_FULL_TS=1: slow): within 1e-4 of PyTorch's largest |logit|, as the
 * committed reduced fixtures are in test/models/onnx_torch.test.ts. Run explicitly (see
 * ./vitest.full.config.ts); it fails, never skips, when the directory is missing.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { loadOnnx } from '../../src/index.js';
import { compareToBar, readFixture, readOnnxBytes, toChannelsLast } from '../../test/util/onnx_fixtures.js';

const DIR = process.env.CONVKIT_ONNX_FULL_DIR ?? '/tmp/onnx_full';
/** The five of `export_torch.py --full`, or CONVKIT_ONNX_FULL_MODELS (a comma list: those of export_sweep.py too). */
const MODELS = process.env.CONVKIT_ONNX_FULL_MODELS?.split(',') ?? ['resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'squeezenet1_1', 'googlenet'];
const BACKENDS = process.env.CONVKIT_ONNX_FULL_TS === '1' ? ['wasm', 'ts'] : ['wasm'];

describe(`full-size torchvision ONNX files in ${DIR}`, () => {
  it('the directory holds every model (make it with scripts/onnx/export_torch.py --full DIR)', () => {
    for (const m of MODELS) expect(existsSync(`${DIR}/${m}.onnx`) && existsSync(`${DIR}/${m}.json`), `${DIR}/${m}.onnx and .json`).toBe(true);
  });
  for (const backend of BACKENDS) {
    for (const name of MODELS) {
      it(`${name} on ${backend}: within 1e-4 of max |logit|`, async () => {
        const fx = readFixture(DIR, name);
        await ck.setBackend(backend);
        try {
          const t0 = performance.now();
          const model = loadOnnx(readOnnxBytes(DIR, name));
          const t1 = performance.now();
          const x = toChannelsLast(fx.input, fx.inputShape);
          let y = model.predict(ck.tensor(x.data, x.shape));
          // outputs of rank 3 or more come channels-last: back to the file's layout to compare
          if (y.rank >= 3) y = ck.transpose(y, [0, y.rank - 1, ...Array.from({ length: y.rank - 2 }, (_, i) => i + 1)]);
          const got = await y.data();
          const t2 = performance.now();
          const { worst, at, bar } = compareToBar(got, fx.output);
          console.log(`${name} [${backend}]: import ${(t1 - t0).toFixed(0)} ms, predict ${(t2 - t1).toFixed(0)} ms, max |diff| ${worst.toExponential(2)} = ${(worst / bar).toFixed(3)} of the bar (PyTorch float32: ${((fx.float32Error ?? 0) * 1e4).toFixed(3)} of it)`);
          expect([...y.shape]).toEqual(fx.outputShape);
          expect(worst, `${name} [${backend}]: max |convkit - PyTorch| ${worst} at ${at}; bar ${bar}`).toBeLessThanOrEqual(bar);
        } finally {
          await ck.setBackend('ts');
        }
      });
    }
  }
});
