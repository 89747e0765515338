/** How error messages name a value that was received where something else was expected. */
import { Tensor } from './tensor.js';

export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (x instanceof Tensor) return `a Tensor ${x.describe()}${x.isDisposed ? ' (disposed)' : ''}`;
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}`;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `the ${typeof x} ${String(x)}`;
  if (typeof x === 'function') return 'a function';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  const ctor = (x as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `an object of class ${ctor}` : 'a plain object';
}
