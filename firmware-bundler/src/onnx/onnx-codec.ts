// Reads and writes ONNX ModelProto bytes (Uint8Array in, Uint8Array out) by walking the onnx.proto field table.
import { ONNX_SCHEMA, type FieldSpec } from './onnx-schema.ts';
import type { ModelProto } from './onnx-types.ts';
import { OnnxError } from './onnx-error.ts';
import { ProtoReader, ProtoWriter, varintSize, WIRE_FIXED32, WIRE_FIXED64, WIRE_LDELIM, WIRE_VARINT, type Int64 } from './protobuf-wire.ts';

type Obj = Record<string, unknown> & { $unknown?: Uint8Array[] };

const VARINT_KINDS = new Set(['int32', 'int64', 'int64n', 'uint64', 'enum']);
const byNumber = new Map<string, Map<number, FieldSpec>>();
const sortedFields = new Map<string, FieldSpec[]>();
for (const [type, fields] of Object.entries(ONNX_SCHEMA)) {
  byNumber.set(type, new Map(fields.map((f) => [f.no, f])));
  sortedFields.set(
    type,
    [...fields].sort((a, b) => a.no - b.no),
  );
}

function wireTypeOf(kind: string): number {
  if (VARINT_KINDS.has(kind)) return WIRE_VARINT;
  if (kind === 'float') return WIRE_FIXED32;
  if (kind === 'double') return WIRE_FIXED64;
  return WIRE_LDELIM;
}

function isScalar(kind: string): boolean {
  return VARINT_KINDS.has(kind) || kind === 'float' || kind === 'double';
}

// ---- decoding ----

function readScalar(kind: string, r: ProtoReader): unknown {
  switch (kind) {
    case 'int32':
    case 'enum':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'int64n': {
      const v = r.int64();
      if (typeof v === 'bigint') throw new OnnxError('ONNX_UNSUPPORTED', `value ${v} does not fit a JavaScript number`);
      return v;
    }
    case 'uint64':
      return r.uint64();
    case 'float':
      return r.float();
    case 'double':
      return r.double();
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
  }
  throw new Error(`unreachable kind ${kind}`);
}

function readPacked(f: FieldSpec, r: ProtoReader, out: unknown[]): void {
  const [start, end] = r.ldelim();
  const saved = [r.pos, r.end] as const;
  r.pos = start;
  r.end = end;
  while (r.pos < end) out.push(readScalar(f.kind, r));
  [r.pos, r.end] = saved;
}

function decodeMessage(type: string, r: ProtoReader): Obj {
  const fields = byNumber.get(type)!;
  const out: Obj = {};
  while (r.pos < r.end) {
    const tagStart = r.pos;
    const tag = r.uint32();
    const no = tag >>> 3;
    const wt = tag & 7;
    const f = fields.get(no);
    const expected = f ? wireTypeOf(f.kind) : -1;
    const packedOk = f?.repeated && isScalar(f.kind) && wt === WIRE_LDELIM;
    if (!f || no === 0 || (wt !== expected && !packedOk)) {
      r.skip(wt);
      (out.$unknown ??= []).push(r.buf.slice(tagStart, r.pos));
      continue;
    }
    const value = () => {
      if (isScalar(f.kind) || f.kind === 'string' || f.kind === 'bytes') return readScalar(f.kind, r);
      const [start, end] = r.ldelim();
      const savedEnd = r.end;
      r.pos = start;
      r.end = end;
      const m = decodeMessage(f.kind, r);
      r.end = savedEnd;
      return m;
    };
    if (!f.repeated) {
      out[f.name] = value();
      continue;
    }
    const arr = ((out[f.name] as unknown[] | undefined) ??= []);
    if (packedOk) readPacked(f, r, arr);
    else arr.push(value());
  }
  for (const f of fields.values()) {
    // Packed numeric payloads become typed arrays: weights stored as float_data can be megabytes.
    const v = out[f.name];
    if (!f.packed || !Array.isArray(v)) continue;
    if (f.kind === 'float') out[f.name] = Float32Array.from(v as number[]);
    else if (f.kind === 'double') out[f.name] = Float64Array.from(v as number[]);
    else if (f.kind === 'int32') out[f.name] = Int32Array.from(v as number[]);
  }
  return out;
}

/** Decodes ONNX model bytes; fields outside the schema are kept in `$unknown` and written back by {@link encodeModel}. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new OnnxError('ONNX_MALFORMED', 'model bytes must be a Uint8Array');
  return decodeMessage('ModelProto', new ProtoReader(bytes)) as ModelProto;
}

// ---- encoding ----

class SizeContext {
  readonly sizes = new WeakMap<object, number>();
  readonly strings = new Map<string, Uint8Array>();
  private readonly encoder = new TextEncoder();
  utf8(s: string): Uint8Array {
    let b = this.strings.get(s);
    if (!b) this.strings.set(s, (b = this.encoder.encode(s)));
    return b;
  }
}

function scalarSize(kind: string, v: unknown, ctx: SizeContext): number {
  switch (kind) {
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'string': {
      const n = ctx.utf8(v as string).length;
      return varintSize(n) + n;
    }
    case 'bytes': {
      const n = (v as Uint8Array).length;
      return varintSize(n) + n;
    }
    default:
      return varintSize(v as Int64);
  }
}

function valueSize(f: FieldSpec, v: unknown, ctx: SizeContext): number {
  if (isScalar(f.kind) || f.kind === 'string' || f.kind === 'bytes') return scalarSize(f.kind, v, ctx);
  const n = messageSize(f.kind, v as Obj, ctx);
  return varintSize(n) + n;
}

function packedPayloadSize(f: FieldSpec, values: ArrayLike<unknown>, ctx: SizeContext): number {
  if (f.kind === 'float') return 4 * values.length;
  if (f.kind === 'double') return 8 * values.length;
  let n = 0;
  for (let i = 0; i < values.length; i++) n += scalarSize(f.kind, values[i], ctx);
  return n;
}

function messageSize(type: string, obj: Obj, ctx: SizeContext): number {
  const cached = ctx.sizes.get(obj);
  if (cached !== undefined) return cached;
  let n = 0;
  for (const f of sortedFields.get(type)!) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const tagSize = varintSize(f.no * 8);
    if (!f.repeated) n += tagSize + valueSize(f, v, ctx);
    else if (f.packed) {
      const values = v as ArrayLike<unknown>;
      if (values.length === 0) continue;
      const p = packedPayloadSize(f, values, ctx);
      n += tagSize + varintSize(p) + p;
    } else for (const item of v as unknown[]) n += tagSize + valueSize(f, item, ctx);
  }
  for (const u of obj.$unknown ?? []) n += u.length;
  ctx.sizes.set(obj, n);
  return n;
}

function writeScalar(kind: string, v: unknown, w: ProtoWriter, ctx: SizeContext): void {
  switch (kind) {
    case 'float':
      return w.float(v as number);
    case 'double':
      return w.double(v as number);
    case 'string':
    case 'bytes': {
      const b = kind === 'string' ? ctx.utf8(v as string) : (v as Uint8Array);
      w.varint(b.length);
      return w.raw(b);
    }
    default:
      return w.varint(v as Int64);
  }
}

function writeValue(f: FieldSpec, v: unknown, w: ProtoWriter, ctx: SizeContext): void {
  w.tag(f.no, wireTypeOf(f.kind));
  if (isScalar(f.kind) || f.kind === 'string' || f.kind === 'bytes') return writeScalar(f.kind, v, w, ctx);
  w.varint(messageSize(f.kind, v as Obj, ctx));
  writeMessage(f.kind, v as Obj, w, ctx);
}

function writeMessage(type: string, obj: Obj, w: ProtoWriter, ctx: SizeContext): void {
  for (const f of sortedFields.get(type)!) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    if (!f.repeated) writeValue(f, v, w, ctx);
    else if (f.packed) {
      const values = v as ArrayLike<unknown>;
      if (values.length === 0) continue;
      w.tag(f.no, WIRE_LDELIM);
      w.varint(packedPayloadSize(f, values, ctx));
      for (let i = 0; i < values.length; i++) writeScalar(f.kind, values[i], w, ctx);
    } else for (const item of v as unknown[]) writeValue(f, item, w, ctx);
  }
  for (const u of obj.$unknown ?? []) w.raw(u);
}

/** Encodes a model to ONNX protobuf bytes, fields in field-number order as the reference implementation writes them. */
export function encodeModel(model: ModelProto): Uint8Array {
  const ctx = new SizeContext();
  const size = messageSize('ModelProto', model as Obj, ctx);
  const w = new ProtoWriter(size);
  writeMessage('ModelProto', model as Obj, w, ctx);
  if (w.pos !== size) throw new Error(`ONNX encoder size mismatch: ${w.pos} != ${size}`);
  return w.buf;
}
