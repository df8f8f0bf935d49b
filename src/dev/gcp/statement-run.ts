// One statement of a job's script, mapped onto ZetaSQL's reference engine by its kind: a query's
// rows, the rows an INSERT/UPDATE/DELETE touched, the columns of a CREATE or ALTER, a transaction's
// begin and end (LocalBigQuery finds the tables it names and runs it).
import { concrete, findAll, findFirst, pathOf, rangeOf } from './trees.js';
import { T, type TypeProto } from './types.js';
import { NULL, stored, type Value } from './values.js';
import { REQUEST_LIMIT_BYTES, type EvaluateRequest, type QueryResult, type Tree } from './zetasql-engine.js';
import { BigQueryError, catalogOf, checkRequired, storedRow, type JobContext, type Named, type ScriptScope, type StatementHost, type StatementResult, type Table, type Transaction } from './bigquery-tables.js';

/** The column every DML target gets as its primary key, so that the engine says which rows an UPDATE or DELETE touched. */
const ROW_KEY = '_local_bigquery_row';
/** Each chunk of a statement run in chunks stays this far under the request limit. */
const CHUNK_BYTES = Math.floor(REQUEST_LIMIT_BYTES * 0.85);

/** One statement: what it names, and how each kind is mapped onto the engine. */
export class StatementRun {
  constructor(
    private readonly bigquery: StatementHost,
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

function nothing(statementType: string): StatementResult {
  return { statementType, columns: [], rows: [] };
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
