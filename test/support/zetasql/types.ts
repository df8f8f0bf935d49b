// ZetaSQL's TypeProto, and builders for the types catalogs are written in.
import { TypeKind } from '@fivetrandevelopers/zetasql';

/** zetasql.TypeProto, as the gRPC client takes it (enum names) and returns it (enum numbers). */
export interface TypeProto {
  typeKind: string | number;
  arrayType?: { elementType: TypeProto } | null;
  structType?: { field: { fieldName: string; fieldType: TypeProto }[] } | null;
}

export type Columns = [name: string, type: TypeProto][];

/** Builders for the types the catalog is written in. */
export const T = {
  string: { typeKind: 'TYPE_STRING' } as TypeProto,
  int64: { typeKind: 'TYPE_INT64' } as TypeProto,
  float64: { typeKind: 'TYPE_DOUBLE' } as TypeProto,
  bool: { typeKind: 'TYPE_BOOL' } as TypeProto,
  bytes: { typeKind: 'TYPE_BYTES' } as TypeProto,
  date: { typeKind: 'TYPE_DATE' } as TypeProto,
  timestamp: { typeKind: 'TYPE_TIMESTAMP' } as TypeProto,
  numeric: { typeKind: 'TYPE_NUMERIC' } as TypeProto,
  struct: (fields: Columns): TypeProto => ({ typeKind: 'TYPE_STRUCT', structType: { field: fields.map(([fieldName, fieldType]) => ({ fieldName, fieldType })) } }),
  array: (elementType: TypeProto): TypeProto => ({ typeKind: 'TYPE_ARRAY', arrayType: { elementType } }),
};

/** BigQuery's name of a simple type (`INT64`, `NUMERIC`…), from a TypeProto the analyzer returned. */
export function typeName(type: TypeProto): string {
  const kind = typeof type.typeKind === 'number' ? Object.entries(TypeKind).find(([, n]) => n === type.typeKind)?.[0] : type.typeKind;
  const name = String(kind).replace(/^TYPE_/, '');
  return ({ DOUBLE: 'FLOAT64' } as Record<string, string>)[name] ?? name;
}
