// ZetaSQL's TypeProto, and builders for the types catalogs are written in.
import { TypeKind } from '@fivetrandevelopers/zetasql';

/** zetasql.TypeProto, as the gRPC client takes it (enum names) and returns it (enum numbers). */
export interface TypeProto {
  typeKind: string | number;
  arrayType?: { elementType: TypeProto } | null;
  structType?: { field: { fieldName: string; fieldType: TypeProto }[] } | null;
}

export type Columns = [name: string, type: TypeProto][];

/** Builders for the types the catalog is written in: the local BigQuery's own (a type it builds, the analyzer reads). */
export { T } from '../../../src/dev/gcp/types.js';

/** BigQuery's name of a simple type (`INT64`, `NUMERIC`…), from a TypeProto the analyzer returned. */
export function typeName(type: TypeProto): string {
  const kind = typeof type.typeKind === 'number' ? Object.entries(TypeKind).find(([, n]) => n === type.typeKind)?.[0] : type.typeKind;
  const name = String(kind).replace(/^TYPE_/, '');
  return ({ DOUBLE: 'FLOAT64' } as Record<string, string>)[name] ?? name;
}
