/**
 * Errors of the data loaders. Each names the file (or the in-memory source) and the
 * problem, so that a bad or missing file never surfaces as a crash deep inside a parser.
 */

/** A data file that exists but cannot be read as the format it should have. */
export class DataFormatError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataFormatError';
  }
}

/** A data file that is not there; the message says how to get it. */
export class DataNotFoundError extends Error {
  constructor(readonly file: string, readonly hint: string) {
    super(`data file not found: ${file}\n${hint}`);
    this.name = 'DataNotFoundError';
  }
}
