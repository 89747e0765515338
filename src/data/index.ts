/** Data: IDX (MNIST, Fashion-MNIST), the embedded UCI 8x8 digits, SEMEION, and an in-memory Dataset. */
export { Dataset } from './dataset.js';
export type { DatasetInit, Batch, HostBatch, BatchOptions, Labels } from './dataset.js';
export { DataFormatError, DataNotFoundError } from './errors.js';
export { parseIdx, encodeIdx, readIdx } from './idx.js';
export type { IdxArray, IdxType, IdxData } from './idx.js';
export { loadMnist, loadFashionMnist, FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES, MNIST_FILES, DEFAULT_DIRS as MNIST_DEFAULT_DIRS } from './mnist.js';
export type { MnistOptions, MnistVariant } from './mnist.js';
export { loadDigits, parseDigitsCsv, loadDigitsCsv, DIGITS_CLASS_NAMES } from './digits.js';
export { parseSemeion, loadSemeion } from './semeion.js';
export { gunzip, isGzip, base64ToBytes, readBytes } from './bytes.js';
export type { BytesSource } from './bytes.js';
export { decodePng, decodePnm, readImage, imageToInput } from './image.js';
export { encodePng } from './png_write.js';
export { fromPixels, toPixels, decodeImage } from './pixels.js';
export type { PixelSource, ImageDataLike, CanvasLike, Context2DLike, FromPixelsOptions, BlobLike } from './pixels.js';
export type { DecodedImage } from './image.js';
