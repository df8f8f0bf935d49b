// The local BigQuery's tables and statements. ZetaSQL's reference engine decides what every
// statement means and computes every row; this file only keeps the tables (in memory), finds the
// tables a statement names, sends them with it, and applies what the engine answers: rows of a
// query, rows an INSERT/UPDATE/DELETE touched, the columns of a CREATE or ALTER. Scripts are
// split into statements by ZetaSQL's parser. What is not emulated is listed in NOT_EMULATED.
import { randomUUID } from 'node:crypto';
import { concrete, findAll, pathOf, rangeOf, applyEdits, type Edit } from './trees.js';
import { sqlTypeName, T, type Column, type TypeProto } from './types.js';
import { isNull, logicalBytes, NULL, stored, type Value } from './values.js';
import { EngineError, REQUEST_LIMIT_BYTES, type CatalogProto, type EvaluateRequest, type Parameter, type QueryResult, type Tree, type ZetaSqlEngine } from './zetasql-engine.js';

/** What the local BigQuery does not emulate: said once, here (and in docs/google-cloud.md). */
export const NOT_EMULATED = [
  'bytes billed and the cost guard (maximumBytesBilled): nothing is billed; a dry run answers an upper-bound estimate from table sizes',
  'partitions and clustering: PARTITION BY is accepted and ignored, every statement reads whole tables',
  'slots, quotas, concurrency: statements run one at a time, in arrival order',
  'IAM, locations and credentials: every request is allowed; datasets appear when a table is created in them',
  'scripting (DECLARE, SET, IF, loops), MERGE, routines and EXPORT DATA; time travel reads the versions this process kept, not 7 days of them',
  `statements whose tables exceed ${REQUEST_LIMIT_BYTES / 2 ** 20} MiB: the engine's request limit (a statement that reads one table row by row runs in chunks)`,
];

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
interface Transaction {
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
interface ScriptScope {
  temporary: Map<string, Table>;
  transaction?: Transaction;
}

/** A table as a statement sees it under the name it wrote. */
interface Named {
  written: string;
  columns: { name: string; type: TypeProto; isPseudoColumn?: boolean }[];
  rows: readonly Value[][];
  /** Where it is kept, when a statement can change it, and the table as the statement sees it. */
  home?: { tables: Map<string, Table>; key: string; temporary: boolean; table: Table };
}

/** The column every DML target gets as its primary key, so that the engine says which rows an UPDATE or DELETE touched. */
const ROW_KEY = '_local_bigquery_row';
/** Each chunk of a statement run in chunks stays this far under the request limit. */
const CHUNK_BYTES = Math.floor(REQUEST_LIMIT_BYTES * 0.85);

const INFORMATION_SCHEMA_TABLES: [string, TypeProto][] = [
  ['table_catalog', T.string], ['table_schema', T.string], ['table_name', T.string], ['table_type', T.string],
  ['is_insertable_into', T.string], ['is_typed', T.string], ['is_change_history_enabled', T.string], ['creation_time', T.timestamp],
  ['base_table_catalog', T.string], ['base_table_schema', T.string], ['base_table_name', T.string], ['snapshot_time_ms', T.timestamp],
  ['ddl', T.string], ['default_collation_name', T.string], ['upsert_stream_apply_watermark', T.timestamp],
];
const META_TABLES: [string, TypeProto][] = [
  ['project_id', T.string], ['dataset_id', T.string], ['table_id', T.string], ['creation_time', T.int64],
  ['last_modified_time', T.int64], ['row_count', T.int64], ['size_bytes', T.int64], ['type', T.int64],
];

export class LocalBigQuery {
  /** Permanent tables by `project.dataset.table`, with their versions for time travel. */
  readonly tables = new VersionedTables();
  readonly datasets = new Map<string, Dataset>();
  readonly sessions = new Map<string, Session>();
  private readonly wildcards = new Map<string, { version: string; rows: Value[][] }>();
  /** Statements run one at a time: each sees the tables the one before it left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly engine: ZetaSqlEngine,
    readonly location = 'US',
  ) {}

  /** Runs `work` after everything queued before it. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  createDataset(project: string, dataset: string, location = this.location): Dataset {
    const key = `${project}.${dataset}`;
    const created = { project, dataset, location, created: Date.now() };
    this.datasets.set(key, created);
    return created;
  }

  /** Creates (or replaces) a table with rows, as a load job into a new table would. */
  putTable(project: string, dataset: string, name: string, columns: Column[], rows: Value[][]): Table {
    if (!this.datasets.has(`${project}.${dataset}`)) this.createDataset(project, dataset);
    const now = Date.now();
    const table = { columns, rows: rows.map((row) => storedRow(row, columns)), created: now, modified: now };
    this.tables.set(`${project}.${dataset}.${name}`, table);
    return table;
  }

  /** Appends rows to a table (a load job's WRITE_APPEND), checking REQUIRED columns. */
  appendRows(key: string, rows: Value[][]): void {
    const table = this.tables.get(key);
    if (!table) throw new BigQueryError('notFound', `Not found: Table ${key} was not found in location ${this.location}`);
    checkRequired(table.columns, rows, key);
    this.tables.set(key, { ...table, rows: [...table.rows, ...rows.map((row) => storedRow(row, table.columns))], modified: Date.now() });
  }

  openSession(project: string): Session {
    const session: Session = { id: randomUUID(), project, temporary: new Map(), ended: false };
    this.sessions.set(session.id, session);
    return session;
  }

  session(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new BigQueryError('notFound', `Not found: Session ${id}`);
    if (session.ended) throw new BigQueryError('invalidQuery', `Session ${id} has been terminated`);
    return session;
  }

  /**
   * Runs a job's script, statement by statement, and returns the last statement's result (as
   * BigQuery returns a script's). A failing statement fails the job; a transaction open when it
   * fails, or still open at the end of a script without a session, is rolled back.
   */
  runScript(sql: string, context: JobContext): Promise<StatementResult> {
    return this.exclusive(async () => {
      const script = Buffer.from(sql, 'utf8');
      const scope: ScriptScope = { temporary: context.session?.temporary ?? new Map() };
      let result: StatementResult = { statementType: 'SCRIPT', columns: [], rows: [] };
      try {
        for (let position = 0; !onlyCommentsLeft(script.subarray(position).toString('utf8')); ) {
          const step = await this.runStatement(sql, script, position, context, scope);
          result = step.result;
          if (step.resume <= position) throw new BigQueryError('invalidQuery', 'the statement could not be split from the script');
          position = step.resume;
        }
      } catch (error) {
        const open = context.session ? context.session.transaction : scope.transaction;
        if (open) this.rollback(open, context, scope);
        throw asBigQueryError(error, this.location);
      }
      if (!context.session && scope.transaction) {
        this.rollback(scope.transaction, context, scope);
        throw new BigQueryError('invalidQuery', 'Transaction was not committed: a transaction begun in a query must end in it (COMMIT TRANSACTION or ROLLBACK TRANSACTION)');
      }
      return result;
    });
  }

  /**
   * What a dry run answers: every query statement is checked by the engine, nothing runs, and
   * the bytes are the logical size of the whole tables each statement names, an upper bound
   * (BigQuery reads only the columns and partitions it needs).
   */
  dryRun(sql: string, context: JobContext): Promise<number> {
    return this.exclusive(async () => {
      const script = Buffer.from(sql, 'utf8');
      const scope: ScriptScope = { temporary: context.session?.temporary ?? new Map() };
      const read = new Map<string, Named>();
      try {
        for (let position = 0; !onlyCommentsLeft(script.subarray(position).toString('utf8')); ) {
          const { statement, resume } = await this.engine.parseNext(sql, position);
          const { kind, node } = concrete(statement);
          const named = await this.namedTables(sql, position, context, scope);
          for (const table of named.values()) read.set(table.written, table);
          if (kind === 'astQueryStatementNode') {
            const { start, end } = rangeOf(node);
            await this.engine.analyze(script.subarray(start, end).toString('utf8'), catalogOf([...named.values()]), context.parameters);
          }
          position = resume;
        }
      } catch (error) {
        throw asBigQueryError(error, this.location);
      }
      return [...read.values()].reduce((sum, table) => sum + tableBytes(table.columns, table.rows), 0);
    });
  }

  endSession(session: Session): void {
    if (session.transaction) this.rollback(session.transaction, { project: session.project, session, parameters: [] }, { temporary: session.temporary });
    session.ended = true;
    session.temporary.clear();
  }

  // ---- statements --------------------------------------------------------------------------

  private async runStatement(sql: string, script: Buffer, position: number, context: JobContext, scope: ScriptScope): Promise<{ result: StatementResult; resume: number }> {
    const { statement, resume } = await this.engine.parseNext(sql, position);
    const { kind, node } = concrete(statement);
    const { start, end } = rangeOf(node);
    const named = await this.namedTables(sql, position, context, scope);
    // The parser lists no table that ALTER or DROP names; the analyzer needs it in the catalog.
    const changed = pathOf((kind === 'astAlterTableStatementNode' ? findFirst(node, 'path') : kind === 'astDropStatementNode' ? node.name : undefined) as Tree | undefined).join('.');
    const table = changed ? this.resolve(changed, context, scope) : undefined;
    if (table) named.set(changed.toLowerCase(), table);
    const edits = [...approxQuantiles(node, script), ...currentTime(node, script, Date.now()), ...pathNames(node, named), ...(await this.timeTravel(node, script, named, context, scope))];
    const text = (range: { start: number; end: number }) => applyEdits(script.subarray(range.start, range.end), range.start, edits.filter((e) => e.start >= range.start && e.end <= range.end));
    const run = new StatementRun(this, context, scope, text({ start, end }), node, named, text);
    return { result: await run.execute(kind), resume };
  }

  /**
   * `table FOR SYSTEM_TIME AS OF t`, which the reference engine does not evaluate: the engine
   * computes t, and the statement reads the version of the table kept as of t under a name of its own.
   */
  private async timeTravel(statement: Tree, script: Buffer, named: Map<string, Named>, context: JobContext, scope: ScriptScope): Promise<Edit[]> {
    const edits: Edit[] = [];
    for (const reference of findAll(statement, 'astTablePathExpressionNode').filter((t) => t.forSystemTime)) {
      const path = reference.pathExpr as Tree;
      const written = pathOf(path).join('.');
      const table = this.resolve(written, context, scope);
      const expression = rangeOf(concrete((reference.forSystemTime as Tree).expression as Tree).node);
      const at = await this.engine.evaluateQuery({
        sql: `SELECT UNIX_MICROS(${script.subarray(expression.start, expression.end).toString('utf8')})`,
        catalog: catalogOf([]),
        content: {},
        parameters: context.parameters,
      });
      const micros = Number(at.rows[0]?.[0]?.int64Value);
      const version = table?.home && !table.home.temporary ? this.tables.asOf(table.home.key, micros / 1000) : undefined;
      if (!version) throw new BigQueryError('invalidQuery', `Invalid snapshot time ${new Date(micros / 1000).toISOString()} for table ${written}: the local BigQuery keeps the versions of permanent tables since it started`);
      const alias = `${written}@${micros}`;
      named.set(alias.toLowerCase(), { written: alias, columns: version.columns, rows: version.rows });
      edits.push({ start: rangeOf(path).start, end: rangeOf(reference.forSystemTime as Tree).end, text: `\`${alias}\`` });
    }
    return edits;
  }

  /** The tables the statement at `position` names, resolved in the job's project and scope (missing ones left out). */
  private async namedTables(sql: string, position: number, context: JobContext, scope: ScriptScope): Promise<Map<string, Named>> {
    const named = new Map<string, Named>();
    for (const segments of await this.engine.tableNamesOfNext(sql, position)) {
      const written = segments.join('.');
      const table = this.resolve(written, context, scope);
      if (table) named.set(written.toLowerCase(), table);
    }
    return named;
  }

  /** The table `written` names: temporary, permanent, a wildcard, or a dataset's metadata view. */
  resolve(written: string, context: JobContext, scope: ScriptScope): Named | undefined {
    const parts = written.split('.');
    if (parts.length === 1 || (parts.length === 2 && parts[0]!.toUpperCase() === '_SESSION')) {
      const key = parts[parts.length - 1]!;
      const table = scope.temporary.get(key);
      return table ? { written, columns: table.columns, rows: table.rows, home: { tables: scope.temporary, key, temporary: true, table } } : undefined;
    }
    const last = parts[parts.length - 1]!;
    if (parts.length >= 3 && parts[parts.length - 2]!.toUpperCase() === 'INFORMATION_SCHEMA' && last.toUpperCase() === 'TABLES') {
      const dataset = this.datasetKey(parts.slice(0, -2), context);
      return { written, columns: INFORMATION_SCHEMA_TABLES.map(([name, type]) => ({ name, type })), rows: this.informationSchemaTables(dataset) };
    }
    if (last === '__TABLES__') {
      const dataset = this.datasetKey(parts.slice(0, -1), context);
      return { written, columns: META_TABLES.map(([name, type]) => ({ name, type })), rows: this.metaTables(dataset) };
    }
    const dataset = this.datasetKey(parts.slice(0, -1), context);
    if (last.endsWith('*')) return this.wildcard(written, dataset, last.slice(0, -1));
    const key = `${dataset}.${last}`;
    // In a transaction: its own copy, else the table as committed at BEGIN; writes go to its copies.
    const transaction = context.session ? context.session.transaction : scope.transaction;
    const table = transaction ? (transaction.written.get(key) ?? transaction.began.get(key)) : this.tables.get(key);
    return table ? { written, columns: table.columns, rows: table.rows, home: { tables: transaction?.written ?? this.tables, key, temporary: false, table } } : undefined;
  }

  /** `project.dataset` of a written dataset path (the job's project when it names none). */
  private datasetKey(parts: string[], context: JobContext): string {
    return parts.length === 1 ? `${context.project}.${parts[0]}` : parts.join('.');
  }

  /** `dataset.prefix*`: the rows of every table whose name starts with prefix, with `_TABLE_SUFFIX`; the newest table's schema. */
  private wildcard(written: string, dataset: string, prefix: string): Named | undefined {
    const matching = [...this.tables.entries()]
      .filter(([key]) => key.startsWith(`${dataset}.${prefix}`) && key.length > dataset.length + 1 + prefix.length && !key.slice(dataset.length + 1).includes('.'))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (matching.length === 0) return undefined;
    const newest = matching.reduce((a, b) => (b[1].created >= a[1].created ? b : a))[1];
    const columns = [...newest.columns, { name: '_TABLE_SUFFIX', type: T.string, isPseudoColumn: true }];
    // The same tables unchanged give the same rows array (the engine measures each array once).
    const version = matching.map(([key, table]) => `${key}@${table.modified}:${table.rows.length}`).join(',');
    const cached = this.wildcards.get(written);
    if (cached?.version === version) return { written, columns, rows: cached.rows };
    const rows: Value[][] = [];
    for (const [key, table] of matching) {
      const suffix: Value = { stringValue: key.slice(dataset.length + 1 + prefix.length) };
      if (JSON.stringify(table.columns.map((c) => [c.name, c.type])) !== JSON.stringify(newest.columns.map((c) => [c.name, c.type]))) {
        throw new BigQueryError('invalidQuery', `the local BigQuery reads wildcard tables of one schema only, and ${key} differs from the newest table matching ${written}`);
      }
      for (const row of table.rows) rows.push([...row, suffix]);
    }
    this.wildcards.set(written, { version, rows });
    return { written, columns, rows };
  }

  private tablesOf(dataset: string): [string, Table][] {
    return [...this.tables.entries()]
      .filter(([key]) => key.startsWith(`${dataset}.`) && !key.slice(dataset.length + 1).includes('.'))
      .map(([key, table]) => [key.slice(dataset.length + 1), table] as [string, Table])
      .sort(([a], [b]) => (a < b ? -1 : 1));
  }

  private informationSchemaTables(dataset: string): Value[][] {
    const [project, name] = splitDataset(dataset);
    return this.tablesOf(dataset).map(([table, t]) => {
      const ddl = `CREATE TABLE \`${dataset}.${table}\`\n(\n${t.columns.map((c) => `  ${c.name} ${sqlTypeName(c.type)}${c.required ? ' NOT NULL' : ''}`).join(',\n')}\n);`;
      const strings = (...values: (string | null)[]) => values.map((v): Value => (v === null ? NULL : { stringValue: v }));
      return [
        ...strings(project, name, table, 'BASE TABLE', 'YES', 'NO', 'NO'),
        micros(t.created),
        NULL, NULL, NULL, NULL,
        { stringValue: ddl },
        { stringValue: 'NULL' },
        NULL,
      ];
    });
  }

  private metaTables(dataset: string): Value[][] {
    const [project, name] = splitDataset(dataset);
    return this.tablesOf(dataset).map(([table, t]) => [
      { stringValue: project },
      { stringValue: name },
      { stringValue: table },
      { int64Value: String(t.created) },
      { int64Value: String(t.modified) },
      { int64Value: String(t.rows.length) },
      { int64Value: String(tableBytes(t.columns, t.rows)) },
      { int64Value: '1' },
    ]);
  }

  // ---- transactions ------------------------------------------------------------------------

  begin(scope: ScriptScope): Transaction {
    return { began: new Map(this.tables), written: new Map(), temporary: new Map(scope.temporary) };
  }

  /**
   * Publishes the tables the transaction wrote, all or none: if another job committed one of them
   * since BEGIN, the transaction is aborted instead, as BigQuery aborts it.
   */
  commit(transaction: Transaction, context: JobContext, scope: ScriptScope): void {
    const changed = [...transaction.written.keys()].find((key) => this.tables.get(key) !== transaction.began.get(key));
    if (changed) {
      this.rollback(transaction, context, scope);
      throw new BigQueryError('invalidQuery', `Transaction is aborted due to concurrent update against table ${changed}`);
    }
    for (const [key, table] of transaction.written) this.tables.set(key, table);
    this.end(context, scope);
  }

  /** Drops the transaction's copies of permanent tables and puts its session's temporary tables back as they were at BEGIN. */
  rollback(transaction: Transaction, context: JobContext, scope: ScriptScope): void {
    scope.temporary.clear();
    for (const [key, table] of transaction.temporary) scope.temporary.set(key, table);
    this.end(context, scope);
  }

  private end(context: JobContext, scope: ScriptScope): void {
    if (context.session) delete context.session.transaction;
    delete scope.transaction;
  }
}

/** Permanent tables, and what each held since this process started (for FOR SYSTEM_TIME AS OF). */
class VersionedTables extends Map<string, Table> {
  private readonly versions = new Map<string, { since: number; table: Table | undefined }[]>();

  override set(key: string, table: Table): this {
    super.set(key, table);
    this.keep(key, table);
    return this;
  }

  override delete(key: string): boolean {
    this.keep(key, undefined);
    return super.delete(key);
  }

  private keep(key: string, table: Table | undefined): void {
    // The last hundred versions of each table: a dashboard reads as of a few minutes ago.
    this.versions.set(key, [...(this.versions.get(key) ?? []).slice(-99), { since: Date.now(), table }]);
  }

  /** The table as it was at `ms` (milliseconds since the epoch), if it existed then. */
  asOf(key: string, ms: number): Table | undefined {
    return (this.versions.get(key) ?? []).filter((v) => v.since <= ms).pop()?.table;
  }
}

/** One statement: what it names, and how each kind is mapped onto the engine. */
class StatementRun {
  constructor(
    private readonly bigquery: LocalBigQuery,
    private readonly context: JobContext,
    private readonly scope: ScriptScope,
    private readonly sql: string,
    private readonly node: Tree,
    private readonly named: Map<string, Named>,
    /** The text of a part of the statement, as the engine gets it (with the mappings made). */
    private readonly textOf: (range: { start: number; end: number }) => string,
  ) {}

  private get transaction(): Transaction | undefined {
    return this.context.session ? this.context.session.transaction : this.scope.transaction;
  }

  async execute(kind: string): Promise<StatementResult> {
    switch (kind) {
      case 'astQueryStatementNode': {
        const result = await this.query(this.sql, [...this.named.values()]);
        return { statementType: 'SELECT', ...result };
      }
      case 'astCreateTableStatementNode':
        return this.createTable();
      case 'astInsertStatementNode':
      case 'astDeleteStatementNode':
      case 'astUpdateStatementNode':
        return this.modify(kind);
      case 'astAlterTableStatementNode':
        return this.alterTable();
      case 'astDropStatementNode':
        return this.dropTable();
      case 'astBeginStatementNode':
        if (this.transaction) throw new BigQueryError('invalidQuery', 'Transaction is already in progress: transactions cannot be nested');
        if (this.context.session) this.context.session.transaction = this.bigquery.begin(this.scope);
        else this.scope.transaction = this.bigquery.begin(this.scope);
        return nothing('BEGIN_TRANSACTION');
      case 'astCommitStatementNode': {
        const open = this.transaction;
        if (!open) throw new BigQueryError('invalidQuery', 'No transaction is in progress: COMMIT TRANSACTION without BEGIN TRANSACTION');
        this.bigquery.commit(open, this.context, this.scope);
        return nothing('COMMIT_TRANSACTION');
      }
      case 'astRollbackStatementNode': {
        const open = this.transaction;
        if (!open) throw new BigQueryError('invalidQuery', 'No transaction is in progress: ROLLBACK TRANSACTION without BEGIN TRANSACTION');
        this.bigquery.rollback(open, this.context, this.scope);
        return nothing('ROLLBACK_TRANSACTION');
      }
      case 'astCallStatementNode': {
        const procedure = pathOf(this.node.procedureName as Tree).join('.').toUpperCase();
        if (procedure !== 'BQ.ABORT_SESSION') throw new BigQueryError('invalidQuery', `the local BigQuery runs only the system procedure BQ.ABORT_SESSION, not ${procedure}`);
        if (!this.context.session) throw new BigQueryError('invalidQuery', 'BQ.ABORT_SESSION() must run in a session');
        this.bigquery.endSession(this.context.session);
        return nothing('CALL');
      }
      default:
        throw new BigQueryError('invalidQuery', `the local BigQuery does not run ${kind.replace(/^ast|StatementNode$|Node$/g, '')} statements: ZetaSQL's reference engine runs queries, INSERT, UPDATE, DELETE, CREATE/ALTER/DROP TABLE, transactions and BQ.ABORT_SESSION`);
    }
  }

  /** Runs a query on the engine, in chunks when its tables exceed one request and it reads one table row by row. */
  private async query(sql: string, tables: Named[]): Promise<QueryResult> {
    const request = this.request(sql, tables);
    if (this.bigquery.engine.requestBytes(request) <= REQUEST_LIMIT_BYTES) return renamed(await this.bigquery.engine.evaluateQuery(request));
    const resolved = concrete(await this.bigquery.engine.analyze(sql, request.catalog, this.context.parameters));
    const query = resolved.node.query as Tree | undefined;
    const scanned = query && rowByRowScan(query);
    const table = scanned && tables.find((t) => t.written.toLowerCase() === scanned.toLowerCase());
    if (!table) throw tooLarge(this.bigquery.engine.requestBytes(request), tables);
    const results: QueryResult[] = [];
    for (const rows of this.chunks(request, table)) {
      results.push(await this.bigquery.engine.evaluateQuery(this.request(sql, tables.map((t) => (t === table ? { ...t, rows } : t)))));
    }
    return renamed({ columns: results[0]!.columns, rows: results.flatMap((r) => r.rows) });
  }

  /** The rows of `table` in pieces, each of which fits in one request beside the rest of `request`. */
  private *chunks(request: EvaluateRequest, table: Named): Generator<readonly Value[][]> {
    const engine = this.bigquery.engine;
    const without = engine.requestBytes({ ...request, content: { ...request.content, [table.written]: [] } });
    const perRow = (engine.requestBytes(request) - without) / Math.max(1, table.rows.length);
    const size = Math.floor((CHUNK_BYTES - without) / perRow);
    if (size < 1) throw tooLarge(engine.requestBytes(request), [table]);
    for (let start = 0; start < table.rows.length; start += size) yield table.rows.slice(start, start + size);
  }

  private request(sql: string, tables: Named[], target?: { written: string; keyed: boolean; empty: boolean }): EvaluateRequest {
    const listed = tables.map((table) => {
      if (table.written.toLowerCase() !== target?.written.toLowerCase()) return table;
      if (!target.keyed) return target.empty ? { ...table, rows: [] } : table;
      // Each row's index as a primary key: the engine answers which rows it deleted or updated.
      return { ...table, columns: [...table.columns, { name: ROW_KEY, type: T.int64, isPseudoColumn: true }], rows: table.rows.map((row, i) => [...row, { int64Value: String(i) }]), keyed: true };
    });
    return { sql, catalog: catalogOf(listed), content: Object.fromEntries(listed.map((t) => [t.written, t.rows as Value[][]])), parameters: this.context.parameters };
  }

  private async analyzed(): Promise<{ kind: string; node: Tree }> {
    return concrete(await this.bigquery.engine.analyze(this.sql, catalogOf([...this.named.values()]), this.context.parameters));
  }

  private async createTable(): Promise<StatementResult> {
    // CREATE TABLE IF NOT EXISTS of a table that exists does nothing (every run sends the schema).
    const named = pathOf(this.node.name as Tree).join('.');
    if (findFirst(this.node, 'isIfNotExists') === true && this.bigquery.resolve(named, this.context, this.scope)) return nothing('CREATE_TABLE');
    const { node } = await this.analyzed();
    const namePath = findFirst(node, 'namePath') as string[];
    const written = namePath.join('.');
    const temporary = String(findFirst(node, 'createScope')) === 'CREATE_TEMP';
    const mode = String(findFirst(node, 'createMode') ?? 'CREATE_DEFAULT');
    const home = this.home(written, temporary);
    if (!temporary && this.transaction) throw new BigQueryError('invalidQuery', `CREATE TABLE ${written}: DDL statements on permanent tables are not supported in a transaction`);
    const exists = home.tables.has(home.key);
    if (exists && mode === 'CREATE_IF_NOT_EXISTS') return nothing('CREATE_TABLE');
    if (exists && mode !== 'CREATE_OR_REPLACE') throw new BigQueryError('duplicate', `Already Exists: Table ${written}`);
    const now = Date.now();
    const queryNode = this.node.query as Tree | undefined;
    if (queryNode) {
      const result = await this.query(this.textOf(rangeOf(queryNode)), [...this.named.values()]);
      const columns = result.columns.map((c) => ({ name: c.name, type: c.type, required: false }));
      this.createHome(home, { columns, rows: result.rows.map((row) => storedRow(row, columns)), created: now, modified: now });
      return { statementType: 'CREATE_TABLE_AS_SELECT', columns: [], rows: [], affectedRows: result.rows.length };
    }
    const definitions = (findFirst(node, 'columnDefinitionList') as { name: string; type: TypeProto; annotations?: { notNull?: boolean } }[] | undefined) ?? [];
    this.createHome(home, { columns: definitions.map((d) => ({ name: d.name, type: d.type, required: d.annotations?.notNull === true })), rows: [], created: now, modified: now });
    return nothing('CREATE_TABLE');
  }

  /** Where a created table goes: the scope's temporary tables, or `project.dataset.table`. */
  private home(written: string, temporary: boolean): { tables: Map<string, Table>; key: string; dataset?: string[] } {
    const parts = written.split('.');
    if (temporary) {
      if (parts.length > 1) throw new BigQueryError('invalidQuery', `Temporary tables may not be qualified: ${written}`);
      return { tables: this.scope.temporary, key: written };
    }
    if (parts.length < 2 || parts.length > 3) throw new BigQueryError('invalidQuery', `Table name "${written}" missing dataset while no default dataset is set in the request`);
    const full = parts.length === 2 ? [this.context.project, ...parts] : parts;
    return { tables: this.bigquery.tables, key: full.join('.'), dataset: full.slice(0, 2) };
  }

  private createHome(home: { tables: Map<string, Table>; key: string; dataset?: string[] }, table: Table): void {
    if (home.dataset && !this.bigquery.datasets.has(home.dataset.join('.'))) this.bigquery.createDataset(home.dataset[0]!, home.dataset[1]!);
    home.tables.set(home.key, table);
  }

  private async alterTable(): Promise<StatementResult> {
    // ADD COLUMN IF NOT EXISTS of columns that exist does nothing (every run sends the schema).
    const actions = ((findFirst(this.node, 'actionList') as { actions?: Tree[] } | undefined)?.actions ?? []).map((action) => concrete(action));
    const existing = this.bigquery.resolve(pathOf(findFirst(this.node, 'path') as Tree).join('.'), this.context, this.scope);
    const present = (action: { kind: string; node: Tree }) =>
      action.kind === 'astAddColumnActionNode' && action.node.isIfNotExists === true && existing?.columns.some((c) => c.name.toLowerCase() === String(findFirst(action.node.columnDefinition, 'idString')).toLowerCase());
    if (existing && actions.length > 0 && actions.every(present)) return nothing('ALTER_TABLE');
    const { node } = await this.analyzed();
    const written = (findFirst(node, 'namePath') as string[]).join('.');
    const table = this.bigquery.resolve(written, this.context, this.scope);
    if (!table?.home) {
      if (findFirst(node, 'isIfExists') === true) return nothing('ALTER_TABLE');
      throw new BigQueryError('notFound', `Not found: Table ${written}`);
    }
    if (!table.home.temporary && this.transaction) throw new BigQueryError('invalidQuery', `ALTER TABLE ${written}: DDL statements on permanent tables are not supported in a transaction`);
    const current = table.home.table;
    const columns = [...current.columns];
    for (const action of findAll(node, 'alterActionList').flatMap((list) => list as unknown as Tree[])) {
      const { kind, node: change } = concrete(action);
      if (kind !== 'resolvedAddColumnActionNode') throw new BigQueryError('invalidQuery', `the local BigQuery runs ALTER TABLE … ADD COLUMN only, not ${kind}`);
      const definition = change.columnDefinition as { name: string; type: TypeProto; annotations?: { notNull?: boolean } };
      if (columns.some((c) => c.name.toLowerCase() === definition.name.toLowerCase())) {
        if (change.isIfNotExists === true) continue;
        throw new BigQueryError('invalidQuery', `Column already exists: ${definition.name}`);
      }
      if (definition.annotations?.notNull) throw new BigQueryError('invalidQuery', `Cannot add a REQUIRED column ${definition.name} to an existing table`);
      columns.push({ name: definition.name, type: definition.type, required: false });
    }
    const added = columns.length - current.columns.length;
    if (added > 0) {
      const nulls = columns.slice(current.columns.length).map((c) => stored(NULL, c.type));
      table.home.tables.set(table.home.key, { ...current, columns, rows: current.rows.map((row) => [...row, ...nulls]), modified: Date.now() });
    }
    return nothing('ALTER_TABLE');
  }

  private async dropTable(): Promise<StatementResult> {
    const { kind, node } = await this.analyzed();
    if (kind !== 'resolvedDropStmtNode' || String(node.objectType).toUpperCase() !== 'TABLE') throw new BigQueryError('invalidQuery', 'the local BigQuery drops tables only');
    const written = (node.namePath as string[]).join('.');
    const table = this.bigquery.resolve(written, this.context, this.scope);
    if (!table?.home) {
      if (node.isIfExists === true) return nothing('DROP_TABLE');
      throw new BigQueryError('notFound', `Not found: Table ${written}`);
    }
    if (!table.home.temporary && this.transaction) throw new BigQueryError('invalidQuery', `DROP TABLE ${written}: DDL statements on permanent tables are not supported in a transaction`);
    table.home.tables.delete(table.home.key);
    return nothing('DROP_TABLE');
  }

  private async modify(kind: string): Promise<StatementResult> {
    const targetPath = (this.node.targetPath as Tree | undefined) ?? {};
    const written = pathOf(concrete(targetPath).node).join('.');
    const target = this.named.get(written.toLowerCase());
    if (!target?.home) throw new BigQueryError('notFound', `Not found: Table ${written} was not found in location ${this.bigquery.location}`);
    const home = target.home;
    const table = home.table;
    const insert = kind === 'astInsertStatementNode';
    // An INSERT whose rows come from elsewhere needs none of its target's rows.
    const readsTarget = !insert || findAll(this.node.query ?? this.node.rows, 'pathExpr').some((path) => pathOf(path).join('.').toLowerCase() === written.toLowerCase());
    const spec = { written: target.written, keyed: !insert, empty: !readsTarget };
    const tables = [...this.named.values()];
    const request = this.request(this.sql, tables, spec);
    const engine = this.bigquery.engine;
    let touched;
    if (engine.requestBytes(request) <= REQUEST_LIMIT_BYTES) touched = await engine.evaluateModify(request);
    else {
      // DELETE/UPDATE whose conditions read no other table: the target in chunks, keys kept global.
      const others = tables.filter((t) => t !== target);
      const keyed = (request.content[target.written] ?? []) as Value[][];
      if (insert || others.length > 0) throw tooLarge(engine.requestBytes(request), tables);
      touched = [];
      const base = engine.requestBytes({ ...request, content: { ...request.content, [target.written]: [] } });
      const size = Math.floor((CHUNK_BYTES - base) / ((engine.requestBytes(request) - base) / Math.max(1, keyed.length)));
      if (size < 1) throw tooLarge(engine.requestBytes(request), tables);
      for (let start = 0; start < keyed.length; start += size) {
        touched.push(...(await engine.evaluateModify({ ...request, content: { ...request.content, [target.written]: keyed.slice(start, start + size) } })));
      }
    }
    const width = table.columns.length;
    let rows: Value[][];
    if (insert) {
      const added = touched.filter((t) => t.operation === 'INSERT').map((t) => t.cell.slice(0, width));
      checkRequired(table.columns, added, written);
      rows = [...table.rows, ...added.map((row) => storedRow(row, table.columns))];
    } else {
      const key = (t: { oldPrimaryKey: Value[] }) => Number(t.oldPrimaryKey[0]?.int64Value);
      const deleted = new Set(touched.filter((t) => t.operation === 'DELETE').map(key));
      const updated = new Map(touched.filter((t) => t.operation === 'UPDATE').map((t) => [key(t), storedRow(t.cell.slice(0, width), table.columns)]));
      checkRequired(table.columns, [...updated.values()], written);
      rows = table.rows.map((row, i) => updated.get(i) ?? row).filter((_, i) => !deleted.has(i));
    }
    home.tables.set(home.key, { ...table, rows, modified: Date.now() });
    return { statementType: kind.replace(/^ast|StatementNode$/g, '').toUpperCase(), columns: [], rows: [], affectedRows: touched.length };
  }
}

// ---- helpers -------------------------------------------------------------------------------

function nothing(statementType: string): StatementResult {
  return { statementType, columns: [], rows: [] };
}

function micros(ms: number): Value {
  return { timestampValue: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } };
}

function splitDataset(dataset: string): [string, string] {
  const at = dataset.lastIndexOf('.');
  return [dataset.slice(0, at), dataset.slice(at + 1)];
}

function storedRow(row: Value[], columns: Column[]): Value[] {
  return columns.map((column, i) => stored(row[i] ?? NULL, column.type));
}

function tableBytes(columns: { type: TypeProto }[], rows: readonly Value[][]): number {
  let bytes = 0;
  for (const row of rows) columns.forEach((column, i) => (bytes += logicalBytes(row[i] ?? NULL, column.type)));
  return bytes;
}

function checkRequired(columns: Column[], rows: Value[][], table: string): void {
  columns.forEach((column, i) => {
    if (column.required && rows.some((row) => isNull(row[i] ?? NULL))) throw new BigQueryError('invalidQuery', `Required field ${column.name} cannot be null (table ${table})`);
  });
}

function findFirst(tree: unknown, key: string): unknown {
  if (tree === null || typeof tree !== 'object') return undefined;
  const value = (tree as Record<string, unknown>)[key];
  if (value !== undefined && value !== null) return value;
  for (const child of Object.values(tree)) {
    const found = findFirst(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The engine's catalog of the tables a statement names, each under the name it wrote, plus BigQuery's type aliases and `BQ` procedures. */
function catalogOf(tables: (Named & { keyed?: boolean })[]): CatalogProto {
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

/** BigQuery's names for anonymous columns: `f<position>_`. */
function renamed(result: QueryResult): QueryResult {
  return { ...result, columns: result.columns.map((c, i) => ({ ...c, name: c.name === '' || /^\$col\d+$/.test(c.name) ? `f${i}_` : c.name })) };
}

/**
 * The table a resolved query reads row by row — projections and filters over one table scan,
 * nothing across rows — which can therefore run in chunks of rows; undefined otherwise.
 */
function rowByRowScan(query: Tree): string | undefined {
  if (findAll(query, 'resolvedTableScanNode').length !== 1) return undefined;
  for (let scan = query; ; ) {
    const { kind, node } = concrete(scan);
    if (kind === 'resolvedTableScanNode') return (node.table as { name: string }).name;
    if (kind !== 'resolvedProjectScanNode' && kind !== 'resolvedFilterScanNode') return undefined;
    scan = node.inputScan as Tree;
    if (!scan) return undefined;
  }
}

function tooLarge(bytes: number, tables: Named[]): BigQueryError {
  const sizes = tables.map((t) => `${t.written} (${t.rows.length} rows)`).join(', ');
  return new BigQueryError(
    'resourcesExceeded',
    `the statement's tables make a ${(bytes / 2 ** 20).toFixed(1)} MiB request, more than the ${REQUEST_LIMIT_BYTES / 2 ** 20} MiB ZetaSQL's local engine takes: ${sizes}. ` +
      'The local BigQuery is for small runs (docs/google-cloud.md): run fewer dates at a time (cartlens run --date), or smaller days',
  );
}

/**
 * APPROX_QUANTILES(x, n), which ZetaSQL's reference engine lacks, as exact quantiles of the
 * non-NULL values in order (m of them): element i is the value of rank ⌈i·m/n⌉, the first the
 * least and the last the greatest; NULL over no values. BigQuery's approximation equals this on
 * small inputs (docs/google-cloud.md).
 */
function approxQuantiles(statement: Tree, script: Buffer): Edit[] {
  return findAll(statement, 'astFunctionCallNode')
    .filter((call) => pathOf(call.function as Tree).join('.').toUpperCase() === 'APPROX_QUANTILES')
    .map((call) => {
      const args = (call.arguments as Tree[] | undefined) ?? [];
      const modifier = String(call.nullHandlingModifier ?? 0);
      if (args.length !== 2 || call.distinct === true || !['0', 'DEFAULT_NULL_HANDLING', '1', 'IGNORE_NULLS'].includes(modifier)) {
        throw new BigQueryError('invalidQuery', 'the local BigQuery maps APPROX_QUANTILES(expression, n) only (no DISTINCT, RESPECT NULLS or clauses)');
      }
      const text = (arg: Tree) => {
        const { start, end } = rangeOf(concrete(arg).node);
        return script.subarray(start, end).toString('utf8');
      };
      const [x, n] = [text(args[0]!), Number(text(args[1]!))];
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new BigQueryError('invalidQuery', 'the local BigQuery maps APPROX_QUANTILES with a literal number of quantiles (1 to 100) only');
      const sorted = `ARRAY_AGG((${x}) IGNORE NULLS ORDER BY (${x}))`;
      const count = `COUNT(${x})`;
      const elements = Array.from({ length: n + 1 }, (_, i) => {
        const index = i === 0 ? '0' : i === n ? `${count} - 1` : `DIV(${i} * ${count} + ${n - 1}, ${n}) - 1`;
        return `${sorted}[SAFE_OFFSET(${index})]`;
      });
      const { start, end } = rangeOf(call);
      return { start, end, text: `IF(${count} = 0, NULL, [${elements.join(', ')}])` };
    });
}

/**
 * CURRENT_TIMESTAMP() and CURRENT_DATE(zone) as of this process's clock, the one that stamps the
 * table versions time travel reads: the engine is another process, whose clock need not agree
 * (under faketime each process's clock starts anew). One instant per statement, as BigQuery's.
 */
function currentTime(statement: Tree, script: Buffer, nowMs: number): Edit[] {
  return findAll(statement, 'astFunctionCallNode')
    .filter((call) => ['CURRENT_TIMESTAMP', 'CURRENT_DATE'].includes(pathOf(call.function as Tree).join('.').toUpperCase()))
    .map((call) => {
      const name = pathOf(call.function as Tree).join('.').toUpperCase();
      const args = (call.arguments as Tree[] | undefined) ?? [];
      const instant = `TIMESTAMP_MICROS(${nowMs * 1000})`;
      if (name === 'CURRENT_TIMESTAMP' && args.length === 0) return { ...rangeOf(call), text: instant };
      if (name === 'CURRENT_DATE' && args.length <= 1) {
        const zone = args[0] ? `, ${script.subarray(rangeOf(concrete(args[0]).node).start, rangeOf(concrete(args[0]).node).end).toString('utf8')}` : '';
        return { ...rangeOf(call), text: `DATE(${instant}${zone})` };
      }
      throw new BigQueryError('invalidQuery', `the local BigQuery maps ${name} with no argument (or a time zone for CURRENT_DATE) only`);
    });
}

/** A table named by an unquoted path (`ds.t`) as one backquoted name, the form the catalog holds. */
function pathNames(statement: Tree, named: Map<string, Named>): Edit[] {
  return findAll(statement, 'pathExpr')
    .concat(findAll(statement, 'targetPath').map((t) => concrete(t).node))
    .filter((path) => pathOf(path).length > 1 && named.has(pathOf(path).join('.').toLowerCase()))
    .map((path) => ({ ...rangeOf(path), text: `\`${pathOf(path).join('.').replaceAll('`', '\\`')}\`` }));
}

function onlyCommentsLeft(rest: string): boolean {
  return rest.replace(/--[^\n]*|#[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/;/g, '').trim() === '';
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

