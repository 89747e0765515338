/**
 * The UCI ML hand-written digits (Alpaydin & Kaynak, 1998; CC BY 4.0): 1,797 images of
 * 8x8 pixels with values 0..16, labels 0..9. The package embeds them (from
 * datasets/digits.csv.gz, scikit-learn's copy), so this loader needs no file and works
 * in browsers too.
 */
import { Dataset } from './dataset.js';
import { DataFormatError } from './errors.js';
import { base64ToBytes, checkSource, readMaybeGzip, sourceName, type BytesSource } from './bytes.js';
import { describeValue } from '../tensor/describe.js';
import { DIGITS_COUNT, DIGITS_CODED_BASE64 } from './generated/digits_data.js';
import { decodeDigits } from './digits_codec.js';

export const DIGITS_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

let cached: Dataset | null = null;

/**
 * The embedded digits as a Dataset of [8, 8, 1] images scaled to 0..1 (value / 16),
 * with class-index labels. Split it with `trainValTest` or `split` (seeded).
 */
export async function loadDigits(): Promise<Dataset> {
  if (cached) return cached;
  const n = DIGITS_COUNT;
  const { pixels, labels } = decodeDigits(base64ToBytes(DIGITS_CODED_BASE64), n);
  const x = new Float32Array(n * 64);
  for (let i = 0; i < n * 64; i++) x[i] = pixels[i] / 16;
  const y = Int32Array.from(labels);
  cached = new Dataset({ x, sampleShape: [8, 8, 1], y, numClasses: 10, classNames: DIGITS_CLASS_NAMES, name: 'digits' });
  return cached;
}

/**
 * Parse the digits CSV (scikit-learn's digits.csv: 64 pixel values 0..16 then the
 * label on each line) or the UCI optdigits files (same layout).
 */
export function parseDigitsCsv(text: string, file = '<digits csv>'): Dataset {
  if (typeof text !== 'string') throw new TypeError(`parseDigitsCsv: text must be a string (the CSV contents), received ${describeValue(text)}`);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const x = new Float32Array(lines.length * 64);
  const y = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    const f = line.split(',');
    if (f.length !== 65) throw new DataFormatError(file, `line ${i + 1}: ${f.length} fields, expected 65 (64 pixels and a label)`);
    for (let p = 0; p < 64; p++) {
      const v = Number(f[p]);
      if (!(v >= 0 && v <= 16)) throw new DataFormatError(file, `line ${i + 1}, field ${p + 1}: pixel value '${f[p]}' is not a number in 0..16`);
      x[i * 64 + p] = v / 16;
    }
    const label = Number(f[64]);
    if (!Number.isInteger(label) || label < 0 || label > 9) throw new DataFormatError(file, `line ${i + 1}: label '${f[64]}' is not a digit 0..9`);
    y[i] = label;
  });
  return new Dataset({ x, sampleShape: [8, 8, 1], y, numClasses: 10, classNames: DIGITS_CLASS_NAMES, name: 'digits' });
}

/** Read a digits CSV file (gzip or plain) from a path (Node) or bytes. */
export async function loadDigitsCsv(src: BytesSource): Promise<Dataset> {
  checkSource('loadDigitsCsv', src);
  const name = sourceName(src, '<digits csv>');
  return parseDigitsCsv(new TextDecoder().decode(await readMaybeGzip(src, name)), name);
}
