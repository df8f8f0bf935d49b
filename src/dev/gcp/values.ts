// GoogleSQL values as ZetaSQL's ValueProto (what the reference engine takes and returns), read
// from JSON as a BigQuery load job reads it, and written as BigQuery's REST API writes rows.
import type { TypeProto } from './types.js';

/** zetasql.ValueProto as the engine's client carries it (int64 as strings, bytes as Buffers); `{}` is NULL. */
export interface Value {
  int64Value?: string;
  doubleValue?: number;
  boolValue?: boolean;
  stringValue?: string;
  bytesValue?: Buffer;
  dateValue?: number;
  timestampValue?: { seconds?: string; nanos?: number };
  datetimeValue?: { bitFieldDatetimeSeconds?: string; nanos?: number };
  timeValue?: string;
  numericValue?: Buffer;
  bignumericValue?: Buffer;
  jsonValue?: string;
  arrayValue?: { element?: Value[] };
  structValue?: { field?: Value[] };
  /** Which member of the oneof is set, as the client returns it. */
  value?: string;
}

export const NULL: Value = Object.freeze({}) as Value;

const MEMBERS = [
  'int64Value', 'doubleValue', 'boolValue', 'stringValue', 'bytesValue', 'dateValue', 'timestampValue', 'datetimeValue', 'timeValue',
  'numericValue', 'bignumericValue', 'jsonValue', 'arrayValue', 'structValue',
] as const;

export function isNull(value: Value): boolean {
  return !MEMBERS.some((member) => value[member] !== undefined && value[member] !== null);
}

/** A value that cannot be in a column of that type, as a load job reports it: the field, and what is wrong. */
export class ValueError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
    value?: unknown,
  ) {
    super(`${field}: ${value === undefined ? '' : `${describe(value)} `}${problem}`);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NUMERIC_SCALE = 9;
const BIGNUMERIC_SCALE = 38;
const DAY_MS = 86_400_000;

// ---- numbers -------------------------------------------------------------------------------

/** A NUMERIC/BIGNUMERIC proto value: the scaled integer, little-endian two's complement. */
export function decodeScaled(bytes: Buffer): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value;
}

export function encodeScaled(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0xffn);
    bytes.push(byte);
    rest >>= 8n;
    // Done when the remaining bits are all sign bits and the last byte carries the sign.
    if ((rest === 0n && !(byte & 0x80)) || (rest === -1n && byte & 0x80)) break;
  }
  return Buffer.from(bytes);
}

/** `12.5`, `-0.25`, `10`: a scaled integer as BigQuery writes NUMERIC (no trailing zeros). */
export function formatScaled(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** A decimal text (`-1.5`, `2e3`) as an integer scaled by 10^scale, rounded half away from zero; undefined if not a number. */
export function parseDecimal(text: string, scale: number): bigint | undefined {
  const match = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return undefined;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const shift = Number(exponent) + scale - fraction.length;
  let digits = BigInt(`${whole}${fraction}` || '0');
  if (shift >= 0) digits *= 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    digits = (digits * 2n + divisor) / (2n * divisor);
  }
  return sign === '-' ? -digits : digits;
}

// ---- dates and times -----------------------------------------------------------------------

export function formatDate(days: number): string {
  const date = new Date(days * DAY_MS);
  const year = date.getUTCFullYear();
  return `${String(year).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}-${String(date.getUTCDate()).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` as days since 1970-01-01; undefined if not a calendar date. */
export function parseDate(text: string): number | undefined {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return Math.round(date.getTime() / DAY_MS);
}

function timestampMicros(value: NonNullable<Value['timestampValue']>): bigint {
  return BigInt(value.seconds ?? '0') * 1_000_000n + BigInt(Math.trunc((value.nanos ?? 0) / 1000));
}

function timestampValue(micros: bigint): Value {
  let seconds = micros / 1_000_000n;
  let rest = micros % 1_000_000n;
  if (rest < 0n) {
    seconds -= 1n;
    rest += 1_000_000n;
  }
  return { timestampValue: { seconds: String(seconds), nanos: Number(rest) * 1000 } };
}

/** A timestamp as BigQuery's loads take it: `2026-11-01 10:00:00[.ffffff][ UTC|Z|±hh:mm]`, or seconds since the epoch. */
function parseTimestamp(text: string): bigint | undefined {
  const match = /^(\d{4}-\d{1,2}-\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
  if (!match) return undefined;
  const days = parseDate(match[1]!);
  if (days === undefined) return undefined;
  const zone = (match[6] ?? 'UTC').toUpperCase();
  const offset = zone === 'Z' || zone === 'UTC' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2).replace(/^\d?:/, '') || 0)) * 60;
  const seconds = BigInt(days) * 86_400n + BigInt(Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0) - offset);
  return seconds * 1_000_000n + BigInt((match[5] ?? '').padEnd(6, '0'));
}

/** ZetaSQL's packed DATETIME/TIME seconds (year<<26 | month<<22 | day<<17 | hour<<12 | minute<<6 | second). */
function unpackTime(bits: bigint): { date: string; time: string } {
  const field = (shift: bigint, width: bigint) => Number((bits >> shift) & ((1n << width) - 1n));
  const two = (n: number) => String(n).padStart(2, '0');
  return {
    date: `${String(field(26n, 14n)).padStart(4, '0')}-${two(field(22n, 4n))}-${two(field(17n, 5n))}`,
    time: `${two(field(12n, 5n))}:${two(field(6n, 6n))}:${two(field(0n, 6n))}`,
  };
}

function fractionOf(nanos: number | undefined): string {
  const micros = Math.trunc((nanos ?? 0) / 1000);
  return micros ? `.${String(micros).padStart(6, '0')}` : '';
}

// ---- JSON in (load jobs) -------------------------------------------------------------------

function describe(json: unknown): string {
  const text = JSON.stringify(json);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function int64(json: unknown, path: string): Value {
  let value: bigint | undefined;
  if (typeof json === 'number' && Number.isInteger(json)) value = BigInt(json);
  else if (typeof json === 'string' && /^\s*[+-]?\d+\s*$/.test(json)) value = BigInt(json.trim());
  if (value === undefined || value < INT64_MIN || value > INT64_MAX) throw new ValueError(path, `is not an INT64`, json);
  return { int64Value: String(value) };
}

function float64(json: unknown, path: string): Value {
  if (typeof json === 'number') return { doubleValue: json };
  if (typeof json === 'string') {
    const text = json.trim();
    const special: Record<string, number> = { nan: NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity };
    if (text.toLowerCase() in special) return { doubleValue: special[text.toLowerCase()]! };
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return { doubleValue: Number(text) };
  }
  throw new ValueError(path, `is not a FLOAT64`, json);
}

/**
 * A JSON value as a load job stores it in a column of `type` (newline-delimited JSON: numbers as
 * numbers or strings, a missing or null field is NULL, a repeated field is an array and never
 * NULL). Throws a ValueError naming the field when the value cannot be in that column.
 */
export function fromJson(json: unknown, type: TypeProto, path: string, unknownFields?: Set<string>): Value {
  if (json === null || json === undefined) return type.typeKind === 'TYPE_ARRAY' ? { arrayValue: { element: [] } } : NULL;
  switch (type.typeKind) {
    case 'TYPE_STRING':
      if (typeof json === 'string') return { stringValue: json };
      if (typeof json === 'number' || typeof json === 'boolean') return { stringValue: String(json) };
      break;
    case 'TYPE_INT64':
      return int64(json, path);
    case 'TYPE_DOUBLE':
      return float64(json, path);
    case 'TYPE_BOOL':
      if (typeof json === 'boolean') return { boolValue: json };
      if (typeof json === 'string' && /^(true|false)$/i.test(json.trim())) return { boolValue: json.trim().toLowerCase() === 'true' };
      break;
    case 'TYPE_NUMERIC':
    case 'TYPE_BIGNUMERIC': {
      const scale = type.typeKind === 'TYPE_NUMERIC' ? NUMERIC_SCALE : BIGNUMERIC_SCALE;
      const scaled = typeof json === 'number' || typeof json === 'string' ? parseDecimal(String(json), scale) : undefined;
      const limit = type.typeKind === 'TYPE_NUMERIC' ? 10n ** 38n : 2n ** 255n;
      if (scaled !== undefined && scaled < limit && scaled > -limit) return type.typeKind === 'TYPE_NUMERIC' ? { numericValue: encodeScaled(scaled) } : { bignumericValue: encodeScaled(scaled) };
      break;
    }
    case 'TYPE_DATE': {
      const days = typeof json === 'string' ? parseDate(json) : undefined;
      if (days !== undefined) return { dateValue: days };
      break;
    }
    case 'TYPE_TIMESTAMP': {
      const micros = typeof json === 'number' ? BigInt(Math.round(json * 1e6)) : typeof json === 'string' ? parseTimestamp(json) : undefined;
      if (micros !== undefined) return timestampValue(micros);
      break;
    }
    case 'TYPE_BYTES':
      if (typeof json === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(json)) return { bytesValue: Buffer.from(json, 'base64') };
      break;
    case 'TYPE_JSON':
      return { jsonValue: JSON.stringify(json) };
    case 'TYPE_ARRAY':
      if (Array.isArray(json)) {
        return {
          arrayValue: {
            element: json.map((element, i) => {
              if (element === null) throw new ValueError(`${path}[${i}]`, 'is NULL, which an array cannot hold');
              return fromJson(element, type.arrayType!.elementType, `${path}[${i}]`, unknownFields);
            }),
          },
        };
      }
      throw new ValueError(path, `is not an array (a repeated field)`, json);
    case 'TYPE_STRUCT':
      if (typeof json === 'object' && !Array.isArray(json)) return { structValue: { field: recordOf(json as Record<string, unknown>, type.structType!.field.map((f) => [f.fieldName, f.fieldType]), path, unknownFields) } };
      throw new ValueError(path, `is not an object (a record)`, json);
    default:
      throw new ValueError(path, `is of a type the local BigQuery does not load (${type.typeKind.replace(/^TYPE_/, '')})`);
  }
  throw new ValueError(path, `is not a ${type.typeKind.replace(/^TYPE_/, '').replace('DOUBLE', 'FLOAT64')}`, json);
}

/**
 * A JSON object as the values of `fields`, in their order. A key that is no field fails, or, with
 * `unknownFields` (a load's ignoreUnknownValues), is left out and its path added there.
 */
export function recordOf(json: Record<string, unknown>, fields: [name: string, type: TypeProto][], path = '', unknownFields?: Set<string>): Value[] {
  const known = new Set(fields.map(([name]) => name.toLowerCase()));
  for (const key of Object.keys(json).filter((key) => !known.has(key.toLowerCase()))) {
    const field = `${path ? `${path}.` : ''}${key}`;
    if (!unknownFields) throw new ValueError(field, 'is no field of the table');
    unknownFields.add(field.replace(/\[\d+\]/g, '[]'));
  }
  const byName = new Map(Object.entries(json).map(([key, value]) => [key.toLowerCase(), value]));
  return fields.map(([name, type]) => fromJson(byName.get(name.toLowerCase()), type, path ? `${path}.${name}` : name, unknownFields));
}

/** A query parameter's REST value (`parameterValue.value`, base64 for BYTES) as a value of `type`. */
export function fromParameter(text: string | undefined, type: TypeProto, name: string): Value {
  if (text === undefined) return NULL;
  if (type.typeKind === 'TYPE_BYTES') return { bytesValue: Buffer.from(text, 'base64') };
  return fromJson(text, type, `@${name}`);
}

// ---- REST out (query results) --------------------------------------------------------------

/**
 * A value as BigQuery's REST API writes a cell's `v`: scalars as strings, a RECORD as `{f: [...]}`,
 * a repeated field as `[{v}, …]` (a NULL array as an empty one), TIMESTAMP as microseconds when
 * the client asks for int64 timestamps (the Node client always does), else seconds.
 */
export function toRest(value: Value, type: TypeProto, int64Timestamps = true): unknown {
  if (type.typeKind === 'TYPE_ARRAY') return (value.arrayValue?.element ?? []).map((element) => ({ v: toRest(element, type.arrayType!.elementType, int64Timestamps) }));
  if (isNull(value)) return null;
  switch (type.typeKind) {
    case 'TYPE_INT64':
      return String(value.int64Value);
    case 'TYPE_DOUBLE':
      return String(value.doubleValue);
    case 'TYPE_BOOL':
      return String(value.boolValue);
    case 'TYPE_STRING':
      return value.stringValue;
    case 'TYPE_BYTES':
      return Buffer.from(value.bytesValue!).toString('base64');
    case 'TYPE_DATE':
      return formatDate(value.dateValue!);
    case 'TYPE_TIMESTAMP': {
      const micros = timestampMicros(value.timestampValue!);
      return int64Timestamps ? String(micros) : formatScaled(micros, 6);
    }
    case 'TYPE_DATETIME': {
      const { date, time } = unpackTime(BigInt(value.datetimeValue!.bitFieldDatetimeSeconds ?? '0'));
      return `${date}T${time}${fractionOf(value.datetimeValue!.nanos)}`;
    }
    case 'TYPE_TIME': {
      const bits = BigInt(value.timeValue!);
      return `${unpackTime(bits >> 32n).time}${fractionOf(Number(bits & 0xffffffffn))}`;
    }
    case 'TYPE_NUMERIC':
      return formatScaled(decodeScaled(value.numericValue!), NUMERIC_SCALE);
    case 'TYPE_BIGNUMERIC':
      return formatScaled(decodeScaled(value.bignumericValue!), BIGNUMERIC_SCALE);
    case 'TYPE_JSON':
      return value.jsonValue;
    case 'TYPE_STRUCT': {
      const fields = value.structValue?.field ?? [];
      return { f: type.structType!.field.map((f, i) => ({ v: toRest(fields[i] ?? NULL, f.fieldType, int64Timestamps) })) };
    }
    default:
      throw new Error(`the local BigQuery cannot return ${type.typeKind} values`);
  }
}

// ---- stored values -------------------------------------------------------------------------

/** A value as a BigQuery table keeps it: a NULL array becomes an empty one, at any depth. */
export function stored(value: Value, type: TypeProto): Value {
  if (type.typeKind === 'TYPE_ARRAY') {
    const elements = value.arrayValue?.element ?? [];
    const element = type.arrayType!.elementType;
    return { arrayValue: { element: element.typeKind === 'TYPE_STRUCT' || element.typeKind === 'TYPE_ARRAY' ? elements.map((e) => stored(e, element)) : elements } };
  }
  if (type.typeKind === 'TYPE_STRUCT' && value.structValue) {
    const fields = value.structValue.field ?? [];
    return { structValue: { field: type.structType!.field.map((f, i) => stored(fields[i] ?? NULL, f.fieldType)) } };
  }
  return value;
}

/** BigQuery's logical size of a value (what on-demand queries bill by), for dry-run estimates and `__TABLES__`. */
export function logicalBytes(value: Value, type: TypeProto): number {
  if (type.typeKind === 'TYPE_ARRAY') return (value.arrayValue?.element ?? []).reduce((sum, e) => sum + logicalBytes(e, type.arrayType!.elementType), 0);
  if (type.typeKind === 'TYPE_STRUCT') {
    const fields = value.structValue?.field ?? [];
    return type.structType!.field.reduce((sum, f, i) => sum + logicalBytes(fields[i] ?? NULL, f.fieldType), 0);
  }
  if (isNull(value)) return 0;
  switch (type.typeKind) {
    case 'TYPE_STRING':
      return 2 + Buffer.byteLength(value.stringValue ?? '');
    case 'TYPE_JSON':
      return 2 + Buffer.byteLength(value.jsonValue ?? '');
    case 'TYPE_BYTES':
      return 2 + (value.bytesValue?.length ?? 0);
    case 'TYPE_BOOL':
      return 1;
    case 'TYPE_NUMERIC':
      return 16;
    case 'TYPE_BIGNUMERIC':
      return 32;
    default:
      return 8;
  }
}

/**
 * A value as plain JSON, the way BigQuery exports a table to newline-delimited JSON: INT64 as a
 * string, NUMERIC as its decimal text, DATE as `YYYY-MM-DD`, a NULL field as null.
 */
export function toJson(value: Value, type: TypeProto): unknown {
  if (type.typeKind === 'TYPE_ARRAY') return (value.arrayValue?.element ?? []).map((e) => toJson(e, type.arrayType!.elementType));
  if (isNull(value)) return null;
  switch (type.typeKind) {
    case 'TYPE_DOUBLE':
      return Number.isFinite(value.doubleValue) ? value.doubleValue : String(value.doubleValue);
    case 'TYPE_BOOL':
      return value.boolValue;
    case 'TYPE_JSON':
      return JSON.parse(value.jsonValue!);
    case 'TYPE_STRUCT': {
      const fields = value.structValue?.field ?? [];
      return Object.fromEntries(type.structType!.field.map((f, i) => [f.fieldName, toJson(fields[i] ?? NULL, f.fieldType)]));
    }
    default:
      return toRest(value, type, false);
  }
}
