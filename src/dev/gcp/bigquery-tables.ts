// The local BigQuery's model (src/dev/gcp/local-bigquery.ts): its tables, sessions and
// transactions, the errors it answers with, and what a statement needs of it (StatementHost).
import { T, type Column, type TypeProto } from './types.js';
import { isNull, logicalBytes, NULL, stored, type Value } from './values.js';
import { EngineError, type CatalogProto, type Parameter, type ZetaSqlEngine } from './zetasql-engine.js';

/** BigQuery's error reasons the local BigQuery answers with, and their HTTP statuses. */
export const REASON_STATUS = {
  invalidQuery: 400,
  invalid: 400,
  notFound: 404,
  duplicate: 409,
  resourcesExceeded: 400,
  backendError: 500,
} as const;
export type Reason = keyof typeof REASON_STATUS;

/** An error as BigQuery reports it: a reason and a message (jobs carry it in status.errorResult). */
export class BigQueryError extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    super(message);
  }
}

/** Any failure as BigQuery's error: the engine's rejections are invalidQuery, a missing table notFound. */
export function asBigQueryError(error: unknown, location: string): BigQueryError {
  if (error instanceof BigQueryError) return error;
  if (error instanceof EngineError) {
    const notFound = /^Table not found: (\S+)/.exec(error.message);
    if (notFound) return new BigQueryError('notFound', `Not found: Table ${notFound[1]!.replace(/[`;,]/g, '')} was not found in location ${location}`);
    if (error.code === 8) return new BigQueryError('resourcesExceeded', `the statement is too large for ZetaSQL's local engine: ${error.message}`);
    // The engine's own failures (it stopped, it cannot be reached) are not the SQL's fault.
    if (error.code === 14 || error.code === 13 || error.code === 2) return new BigQueryError('backendError', `ZetaSQL's local engine failed: ${error.message}`);
    const unsupported = error.code === 12 ? ' (ZetaSQL\'s reference engine does not implement it: see NOT_EMULATED)' : '';
    return new BigQueryError('invalidQuery', `${error.message}${unsupported}`);
  }
  return new BigQueryError('backendError', `the local BigQuery failed: ${(error as Error).message ?? String(error)}`);
}

export interface Table {
  columns: Column[];
  /** Never changed in place: a change makes a new array, so a snapshot is a copy of the maps. */
  rows: readonly Value[][];
  created: number;
  modified: number;
}

export interface Dataset {
  project: string;
  dataset: string;
  location: string;
  created: number;
}

/**
 * An open transaction. It reads the permanent tables as they were committed at BEGIN (snapshot
 * isolation) and writes copies of its own, which only COMMIT publishes; ROLLBACK drops them.
 */
export interface Transaction {
  /** The permanent tables as committed at BEGIN. */
  began: Map<string, Table>;
  /** The permanent tables it wrote, as it left them. */
  written: Map<string, Table>;
  /** The session's temporary tables at BEGIN (changed in place, so restored on rollback). */
  temporary: Map<string, Table>;
}

/** A BigQuery session: its temporary tables, and the transaction open in it across jobs. */
export interface Session {
  id: string;
  project: string;
  temporary: Map<string, Table>;
  transaction?: Transaction;
  ended: boolean;
}

export interface JobContext {
  /** The job's project: a `dataset.table` name is in it. */
  project: string;
  session?: Session;
  parameters: Parameter[];
}

export interface StatementResult {
  /** The statement kind BigQuery reports (`SELECT`, `INSERT`, `CREATE_TABLE_AS_SELECT`…). */
  statementType: string;
  columns: { name: string; type: TypeProto }[];
  rows: Value[][];
  affectedRows?: number;
}

/** A statement's whole-script scope: temporary tables of a job without a session, and a transaction begun in it. */
export interface ScriptScope {
  temporary: Map<string, Table>;
  transaction?: Transaction;
}

/** A table as a statement sees it under the name it wrote. */
export interface Named {
  written: string;
  columns: { name: string; type: TypeProto; isPseudoColumn?: boolean }[];
  rows: readonly Value[][];
  /** Where it is kept, when a statement can change it, and the table as the statement sees it. */
  home?: { tables: Map<string, Table>; key: string; temporary: boolean; table: Table };
}

/** What a statement needs of the local BigQuery that runs it (LocalBigQuery). */
export interface StatementHost {
  readonly engine: ZetaSqlEngine;
  readonly location: string;
  /** Permanent tables by `project.dataset.table`. */
  readonly tables: Map<string, Table>;
  readonly datasets: Map<string, Dataset>;
  createDataset(project: string, dataset: string): Dataset;
  resolve(written: string, context: JobContext, scope: ScriptScope): Named | undefined;
  begin(scope: ScriptScope): Transaction;
  commit(transaction: Transaction, context: JobContext, scope: ScriptScope): void;
  rollback(transaction: Transaction, context: JobContext, scope: ScriptScope): void;
  endSession(session: Session): void;
}

/** A row as a table keeps it: a value per column, in the column's stored form. */
export function storedRow(row: Value[], columns: Column[]): Value[] {
  return columns.map((column, i) => stored(row[i] ?? NULL, column.type));
}

/** A table's logical size, as BigQuery counts it (a dry run's estimate, `__TABLES__`). */
export function tableBytes(columns: { type: TypeProto }[], rows: readonly Value[][]): number {
  let bytes = 0;
  for (const row of rows) columns.forEach((column, i) => (bytes += logicalBytes(row[i] ?? NULL, column.type)));
  return bytes;
}

/** Refuses rows with NULL in a REQUIRED column, as BigQuery does. */
export function checkRequired(columns: Column[], rows: Value[][], table: string): void {
  columns.forEach((column, i) => {
    if (column.required && rows.some((row) => isNull(row[i] ?? NULL))) throw new BigQueryError('invalidQuery', `Required field ${column.name} cannot be null (table ${table})`);
  });
}

/** The engine's catalog of the tables a statement names, each under the name it wrote, plus BigQuery's type aliases and `BQ` procedures. */
export function catalogOf(tables: (Named & { keyed?: boolean })[]): CatalogProto {
  return {
    name: 'bigquery',
    table: tables.map((t) => ({
      name: t.written,
      column: t.columns.map((c) => ({ name: c.name, type: c.type, ...(c.isPseudoColumn ? { isPseudoColumn: true } : {}) })),
      ...(t.keyed ? { primaryKeyColumnIndex: [t.columns.length - 1] } : {}),
    })),
    namedType: [
      ...['INT', 'SMALLINT', 'INTEGER', 'BIGINT', 'TINYINT', 'BYTEINT'].map((name) => ({ name, type: T.int64 })),
      { name: 'DECIMAL', type: T.numeric },
      { name: 'BIGDECIMAL', type: { typeKind: 'TYPE_BIGNUMERIC' } },
    ],
    catalog: [{ name: 'BQ', procedure: [{ namePath: ['ABORT_SESSION'], signature: { argument: [], returnType: { kind: 'ARG_TYPE_FIXED', type: T.bool } } }] } as unknown as CatalogProto],
  };
}
