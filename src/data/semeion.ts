/**
 * The SEMEION handwritten digits (UCI, Semeion Research Center, Rome): 1,593 images of
 * 16x16 binary pixels. The file `semeion.data` has one image per line: 256 pixel values
 * (0 or 1, written as floats such as "1.0000") followed by 10 one-hot class values,
 * separated by spaces.
 */
import { Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';
import { checkSource, readMaybeGzip, sourceName, type BytesSource } from './bytes.js';
import { describeValue } from '../tensor/describe.js';

export const SEMEION_HINT =
  'The SEMEION handwritten digit file (semeion.data, 1,593 lines) comes from the UCI Machine Learning Repository ' +
  '(data set "Semeion Handwritten Digit"); convkit downloads nothing at run time: save it and pass its path.';

/** Parse semeion.data text into a Dataset of [16, 16, 1] images with class-index labels. */
export function parseSemeion(text: string, file = '<semeion data>'): Dataset {
  if (typeof text !== 'string') throw new TypeError(`parseSemeion: text must be a string (the contents of semeion.data), received ${describeValue(text)}`);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new DataFormatError(file, 'is empty: expected lines of 256 pixel values and 10 one-hot class values');
  const x = new Float32Array(lines.length * 256);
  const y = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const f = line.trim().split(/\s+/);
    if (f.length !== 266) throw new DataFormatError(file, `line ${i + 1}: ${f.length} values, expected 266 (256 pixels and 10 one-hot class values)`);
    for (let p = 0; p < 256; p++) {
      const v = Number(f[p]);
      if (!Number.isFinite(v) || v < 0 || v > 1) throw new DataFormatError(file, `line ${i + 1}, value ${p + 1}: pixel '${f[p]}' is not a number in 0..1`);
      x[i * 256 + p] = v;
    }
    let label = -1;
    for (let k = 0; k < 10; k++) {
      const v = Number(f[256 + k]);
      if (v !== 0 && v !== 1) throw new DataFormatError(file, `line ${i + 1}: class value ${k + 1} is '${f[256 + k]}', expected 0 or 1`);
      if (v === 1) {
        if (label !== -1) throw new DataFormatError(file, `line ${i + 1}: the class part is not one-hot (classes ${label} and ${k} are both 1)`);
        label = k;
      }
    }
    if (label === -1) throw new DataFormatError(file, `line ${i + 1}: the class part is not one-hot (all 10 values are 0)`);
    y[i] = label;
  });
  return new Dataset({ x, sampleShape: [16, 16, 1], y, numClasses: 10, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], name: 'semeion' });
}

/** Read semeion.data (plain or gzip) from a path (Node) or bytes. */
export async function loadSemeion(src: BytesSource): Promise<Dataset> {
  checkSource('loadSemeion', src);
  const name = sourceName(src, '<semeion data>');
  return parseSemeion(new TextDecoder().decode(await readMaybeGzip(src, name, SEMEION_HINT)), name);
}
