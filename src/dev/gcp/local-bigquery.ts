// The local BigQuery's tables and statements. ZetaSQL's reference engine decides what every
// statement means and computes every row; this file only keeps the tables (in memory), finds the
// tables a statement names, sends them with it, and applies what the engine answers: rows of a
// query, rows an INSERT/UPDATE/DELETE touched, the columns of a CREATE or ALTER. Scripts are
// split into statements by ZetaSQL's parser. What is not emulated is listed in NOT_EMULATED. A
// statement runs in statement-run.ts; the types it shares with it are in bigquery-tables.ts.
import { randomUUID } from 'node:crypto';
import { applyEdits, concrete, findAll, findFirst, pathOf, rangeOf, type Edit } from './trees.js';
import { sqlTypeName, T, type Column, type TypeProto } from './types.js';
import { NULL, type Value } from './values.js';
import { REQUEST_LIMIT_BYTES, type Tree, type ZetaSqlEngine } from './zetasql-engine.js';
import { asBigQueryError, BigQueryError, catalogOf, checkRequired, storedRow, tableBytes, type Dataset, type JobContext, type Named, type ScriptScope, type Session, type StatementHost, type StatementResult, type Table, type Transaction } from './bigquery-tables.js';
import { textMappings } from './statement-mappings.js';
import { StatementRun } from './statement-run.js';

/** What the local BigQuery does not emulate: said once, here (and in docs/google-cloud.md). */
export const NOT_EMULATED = [
  'bytes billed and the cost guard (maximumBytesBilled): nothing is billed; a dry run answers an upper-bound estimate from table sizes',
  'partitions and clustering: PARTITION BY is accepted and ignored, every statement reads whole tables',
  'slots, quotas, concurrency: statements run one at a time, in arrival order',
  'IAM, locations and credentials: every request is allowed; datasets appear when a table is created in them',
  'scripting (DECLARE, SET, IF, loops), MERGE, routines and EXPORT DATA; time travel reads the versions this process kept, not 7 days of them',
  `statements whose tables exceed ${REQUEST_LIMIT_BYTES / 2 ** 20} MiB: the engine's request limit (a statement that reads one table row by row runs in chunks)`,
];

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

export class LocalBigQuery implements StatementHost {
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
    const edits = [...textMappings(node, script, named, Date.now()), ...(await this.timeTravel(node, script, named, context, scope))];
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

function micros(ms: number): Value {
  return { timestampValue: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } };
}

function splitDataset(dataset: string): [string, string] {
  const at = dataset.lastIndexOf('.');
  return [dataset.slice(0, at), dataset.slice(at + 1)];
}

function onlyCommentsLeft(rest: string): boolean {
  return rest.replace(/--[^\n]*|#[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/;/g, '').trim() === '';
}
