// The catalog the analyzer resolves names against: what a cartlens BigQuery project holds (the
// GA4 export, dataset metadata views, BigQuery's system procedures) plus every table the analyzed
// statements create, as they create it.
import { GA4_EXPORT_COLUMNS } from './ga4-export-schema.js';
import { T, type Columns, type TypeProto } from './types.js';

interface TableProto {
  name: string;
  column: { name: string; type: TypeProto; isPseudoColumn?: boolean }[];
}

export class BigQueryCatalog {
  /** Set by the analyzer: the built-in functions exist only with the language options. */
  languageOptions: unknown;
  private readonly tables = new Map<string, TableProto>();
  /** Changes whenever a table is added or redefined, so a registered copy can be renewed. */
  version = 0;

  /** A table under its full name (`project.dataset.table`, one backquoted identifier in BigQuery SQL). */
  addTable(name: string, columns: Columns, pseudoColumns: Columns = []): this {
    const table: TableProto = {
      name,
      column: [...columns.map(([column, type]) => ({ name: column, type })), ...pseudoColumns.map(([column, type]) => ({ name: column, type, isPseudoColumn: true }))],
    };
    const known = this.tables.get(name.toLowerCase());
    if (known && JSON.stringify(known) === JSON.stringify(table)) return this;
    this.tables.set(name.toLowerCase(), table);
    this.version++;
    return this;
  }

  /** A registered table's columns (pseudo-columns left out). */
  columnsOf(name: string): Columns {
    const table = this.tables.get(name.toLowerCase());
    if (!table) throw new Error(`the catalog has no table ${name}`);
    return table.column.filter((c) => !c.isPseudoColumn).map((c) => [c.name, c.type]);
  }

  /**
   * GA4's export dataset `project.dataset` (`analytics_<property id>`): the daily tables through
   * the wildcards cartlens and people use, with `_TABLE_SUFFIX`, and the dataset's table listing.
   */
  addGa4Export(dataset: string): this {
    for (const wildcard of ['events_*', 'events_2*', 'events_intraday_*']) this.addTable(`${dataset}.${wildcard}`, GA4_EXPORT_COLUMNS, [['_TABLE_SUFFIX', T.string]]);
    return this.addDatasetMetadata(dataset);
  }

  /** A dataset's `INFORMATION_SCHEMA.TABLES` view and legacy `__TABLES__` meta-table. */
  addDatasetMetadata(dataset: string): this {
    this.addTable(`${dataset}.INFORMATION_SCHEMA.TABLES`, [
      ['table_catalog', T.string],
      ['table_schema', T.string],
      ['table_name', T.string],
      ['table_type', T.string],
      ['is_insertable_into', T.string],
      ['is_typed', T.string],
      ['is_change_history_enabled', T.string],
      ['creation_time', T.timestamp],
      ['base_table_catalog', T.string],
      ['base_table_schema', T.string],
      ['base_table_name', T.string],
      ['snapshot_time_ms', T.timestamp],
      ['ddl', T.string],
      ['default_collation_name', T.string],
      ['upsert_stream_apply_watermark', T.timestamp],
    ]);
    return this.addTable(`${dataset}.__TABLES__`, [
      ['project_id', T.string],
      ['dataset_id', T.string],
      ['table_id', T.string],
      ['creation_time', T.int64],
      ['last_modified_time', T.int64],
      ['row_count', T.int64],
      ['size_bytes', T.int64],
      ['type', T.int64],
    ]);
  }

  /** Registers the table a resolved `CREATE [TEMP] TABLE` statement creates (columns as resolved). */
  registerCreatedTable(resolved: { node: string } & Record<string, unknown>): void {
    if (resolved.node !== 'resolvedCreateStatementNode') return;
    const namePath = findKey(resolved, 'namePath') as string[] | undefined;
    const definitions = findKey(resolved, 'columnDefinitionList') as { name: string; type: TypeProto }[] | undefined;
    if (!namePath || !definitions) return;
    this.addTable(namePath.join('.'), definitions.map((d) => [d.name, d.type]));
  }

  /** The catalog as zetasql.SimpleCatalogProto. */
  proto(): Record<string, unknown> {
    return {
      name: 'bigquery',
      table: [...this.tables.values()],
      // BigQuery's documented aliases of its types (the analyzer's built-in names are the canonical ones).
      namedType: [
        ...['INT', 'SMALLINT', 'INTEGER', 'BIGINT', 'TINYINT', 'BYTEINT'].map((name) => ({ name, type: T.int64 })),
        { name: 'DECIMAL', type: T.numeric },
        { name: 'BIGDECIMAL', type: { typeKind: 'TYPE_BIGNUMERIC' } },
      ],
      // BigQuery's system procedures live under `BQ`.
      catalog: [{ name: 'BQ', procedure: [{ namePath: ['ABORT_SESSION'], signature: { argument: [], returnType: { kind: 'ARG_TYPE_FIXED', type: T.bool } } }] }],
      builtinFunctionOptions: { languageOptions: this.languageOptions },
    };
  }
}

/** The first non-empty value under `key` anywhere in a resolved tree (depth first). */
export function findKey(tree: unknown, key: string): unknown {
  if (tree === null || typeof tree !== 'object') return undefined;
  const value = (tree as Record<string, unknown>)[key];
  if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) return value;
  for (const child of Object.values(tree)) {
    const found = findKey(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
}
