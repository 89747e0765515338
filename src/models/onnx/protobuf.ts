/**
 * The protocol-buffers wire format, the small part ONNX needs: a reader that walks the
 * fields of one message (varints, 64-bit, length-delimited, 32-bit) and a writer that
 * builds one. No schema and no runtime dependency: src/models/onnx/proto.ts knows the
 * field numbers of ONNX's messages.
 *
 * Wire types: 0 varint (int32/int64/uint64/bool/enum; negative int64 as ten bytes of two's
 * complement), 1 fixed 64-bit (double), 2 length-delimited (bytes, strings, messages,
 * packed repeated scalars), 5 fixed 32-bit (float).
 */

/** A malformed or truncated message: the reader says where. */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads the fields of one message from `bytes[start, end)`. */
export class ProtoReader {
  pos: number;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new ProtobufError(`${what} at byte ${this.pos} (message ends at ${this.end})`);
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    const field = Math.floor(t / 8), wire = t % 8;
    if (field === 0) this.fail('field number 0');
    return { field, wire };
  }

  /** An unsigned varint up to 2^53 (larger values lose precision; lengths never are). */
  varint(): number {
    let result = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A signed int64 varint (two's complement), exact up to +-2^53. */
  int64(): number {
    let lo = 0, hi = 0, shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
      if (b < 0x80) {
        lo >>>= 0;
        hi >>>= 0;
        return hi & 0x80000000 ? -((~hi >>> 0) * 4294967296 + (~lo >>> 0) + 1) : hi * 4294967296 + lo;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  float32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) this.fail('truncated double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The bytes of a length-delimited field (a view, not a copy). */
  bytesField(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) this.fail(`length ${n} runs past the end`);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    return utf8.decode(this.bytesField());
  }

  /** A reader over the embedded message that follows. */
  message(): ProtoReader {
    const n = this.varint();
    if (this.pos + n > this.end) this.fail(`message of ${n} bytes runs past the end`);
    const r = new ProtoReader(this.bytes, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Skip a field of wire type `wire`. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); return;
      case WIRE_I64: this.pos += 8; break;
      case WIRE_LEN: this.bytesField(); return;
      case WIRE_I32: this.pos += 4; break;
      default: this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) this.fail('truncated field');
  }

  /** A repeated int64 field: packed (wire 2) or one value (wire 0). */
  int64s(wire: number, into: number[]): void {
    if (wire === WIRE_LEN) {
      const r = this.message();
      while (!r.done) into.push(r.int64());
    } else into.push(this.int64());
  }

  /** A repeated float field: packed (wire 2) or one value (wire 5). */
  float32s(wire: number, into: number[]): void {
    if (wire === WIRE_LEN) {
      const r = this.message();
      while (!r.done) into.push(r.float32());
    } else into.push(this.float32());
  }

  /** A repeated double field: packed (wire 2) or one value (wire 1). */
  float64s(wire: number, into: number[]): void {
    if (wire === WIRE_LEN) {
      const r = this.message();
      while (!r.done) into.push(r.float64());
    } else into.push(this.float64());
  }
}

const utf8Encoder = new TextEncoder();

/** Builds one message; `finish()` returns its bytes. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    this.chunks.push(this.buf.subarray(0, this.len));
    this.buf = new Uint8Array(Math.max(256, n, this.buf.length * 2));
    this.len = 0;
  }

  private rawVarint(v: number): void {
    this.ensure(10);
    if (v < 0) {
      // int64 two's complement: ten bytes
      const hi = Math.floor(v / 4294967296), lo = v - hi * 4294967296;
      let l = lo >>> 0, h = hi >>> 0;
      for (let i = 0; i < 9; i++) {
        this.buf[this.len++] = (l & 0x7f) | 0x80;
        l = ((l >>> 7) | (h << 25)) >>> 0;
        h >>>= 7;
      }
      this.buf[this.len++] = l & 0x01;
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field (negative int64 as ten bytes). */
  int(field: number, v: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(v);
    return this;
  }

  float32(field: number, v: number): this {
    this.tag(field, WIRE_I32);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8Encoder.encode(s));
  }

  /** An embedded message built by `build`. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, vs: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of vs) w.rawVarint(v);
    return this.bytes(field, w.finish());
  }

  /** A packed repeated float field. */
  packedFloats(field: number, vs: readonly number[]): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0) + this.len;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    out.set(this.buf.subarray(0, this.len), at);
    return out;
  }
}
