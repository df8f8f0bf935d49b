// GoogleSQL types as ZetaSQL's TypeProto (how the reference engine takes and returns them), the
// columns of the local BigQuery's tables, and BigQuery's REST schema for them.

/** zetasql.TypeProto, enums as names (`TYPE_INT64`); the engine's client is loaded with `enums: String`. */
export interface TypeProto {
  typeKind: string;
  arrayType?: { elementType: TypeProto } | null;
  structType?: { field: { fieldName: string; fieldType: TypeProto }[] } | null;
}

export type Columns = [name: string, type: TypeProto][];

/** Builders for the types schemas are written in. */
export const T = {
  string: { typeKind: 'TYPE_STRING' } as TypeProto,
  int64: { typeKind: 'TYPE_INT64' } as TypeProto,
  float64: { typeKind: 'TYPE_DOUBLE' } as TypeProto,
  bool: { typeKind: 'TYPE_BOOL' } as TypeProto,
  bytes: { typeKind: 'TYPE_BYTES' } as TypeProto,
  date: { typeKind: 'TYPE_DATE' } as TypeProto,
  timestamp: { typeKind: 'TYPE_TIMESTAMP' } as TypeProto,
  numeric: { typeKind: 'TYPE_NUMERIC' } as TypeProto,
  json: { typeKind: 'TYPE_JSON' } as TypeProto,
  struct: (fields: Columns): TypeProto => ({ typeKind: 'TYPE_STRUCT', structType: { field: fields.map(([fieldName, fieldType]) => ({ fieldName, fieldType })) } }),
  array: (elementType: TypeProto): TypeProto => ({ typeKind: 'TYPE_ARRAY', arrayType: { elementType } }),
};

/** A column of a local table: `required` is BigQuery's mode REQUIRED (`NOT NULL`). */
export interface Column {
  name: string;
  type: TypeProto;
  required: boolean;
}

/** BigQuery's name of a type kind in REST schemas (legacy names, as the API answers). */
const REST_TYPES: Record<string, string> = {
  TYPE_INT64: 'INTEGER',
  TYPE_DOUBLE: 'FLOAT',
  TYPE_BOOL: 'BOOLEAN',
  TYPE_STRING: 'STRING',
  TYPE_BYTES: 'BYTES',
  TYPE_DATE: 'DATE',
  TYPE_TIMESTAMP: 'TIMESTAMP',
  TYPE_DATETIME: 'DATETIME',
  TYPE_TIME: 'TIME',
  TYPE_NUMERIC: 'NUMERIC',
  TYPE_BIGNUMERIC: 'BIGNUMERIC',
  TYPE_JSON: 'JSON',
  TYPE_GEOGRAPHY: 'GEOGRAPHY',
  TYPE_INTERVAL: 'INTERVAL',
  TYPE_STRUCT: 'RECORD',
};

/** A GoogleSQL type kind for a REST schema type (`INTEGER`, `INT64`, `RECORD`…), for load schemas and parameters. */
const KINDS_OF_REST_TYPES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(REST_TYPES).map(([kind, rest]) => [rest, kind])),
  INT64: 'TYPE_INT64',
  FLOAT64: 'TYPE_DOUBLE',
  BOOL: 'TYPE_BOOL',
  STRUCT: 'TYPE_STRUCT',
  DECIMAL: 'TYPE_NUMERIC',
  BIGDECIMAL: 'TYPE_BIGNUMERIC',
};

export interface RestField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: RestField[];
}

/** A column as a field of BigQuery's REST schema (an ARRAY is its element's type, REPEATED). */
export function restField(name: string, type: TypeProto, required = false): RestField {
  const repeated = type.typeKind === 'TYPE_ARRAY';
  const element = repeated ? type.arrayType!.elementType : type;
  const rest = REST_TYPES[element.typeKind];
  if (!rest) throw new Error(`the local BigQuery has no REST type for ${element.typeKind}`);
  return {
    name,
    type: rest,
    mode: repeated ? 'REPEATED' : required ? 'REQUIRED' : 'NULLABLE',
    ...(element.typeKind === 'TYPE_STRUCT' ? { fields: element.structType!.field.map((f) => restField(f.fieldName, f.fieldType)) } : {}),
  };
}

/** A scalar GoogleSQL type from BigQuery's REST name of it (`STRING`, `INT64`, `INTEGER`…). */
export function typeOfRestName(name: string): TypeProto {
  const kind = KINDS_OF_REST_TYPES[name.toUpperCase()];
  if (!kind || kind === 'TYPE_STRUCT') throw new Error(`the local BigQuery does not take values of type ${name}`);
  return { typeKind: kind };
}

/** GoogleSQL's name of a type, for messages and DDL (`ARRAY<STRUCT<key STRING>>`). */
export function sqlTypeName(type: TypeProto): string {
  if (type.typeKind === 'TYPE_ARRAY') return `ARRAY<${sqlTypeName(type.arrayType!.elementType)}>`;
  if (type.typeKind === 'TYPE_STRUCT') return `STRUCT<${type.structType!.field.map((f) => `${f.fieldName} ${sqlTypeName(f.fieldType)}`).join(', ')}>`;
  const name = type.typeKind.replace(/^TYPE_/, '');
  return ({ DOUBLE: 'FLOAT64' } as Record<string, string>)[name] ?? name;
}
