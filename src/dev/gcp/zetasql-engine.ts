// Google's ZetaSQL reference implementation: the `local_service` server that
// @fivetrandevelopers/zetasql ships, run on 127.0.0.1 and spoken to over gRPC. It parses,
// analyzes and evaluates GoogleSQL (BigQuery's language) over table contents sent with each
// request; it keeps no tables itself. The package loads only when an engine starts: nothing else
// in cartlens needs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { TypeProto } from './types.js';
import type { Value } from './values.js';

/**
 * The most one request may carry: the shipped server keeps gRPC's default receive limit of 4 MiB
 * (the binary is not ours to change). Tables travel in the request of each statement that reads
 * them, so this bounds the tables a statement reads (docs/google-cloud.md).
 */
export const REQUEST_LIMIT_BYTES = 4 * 1024 * 1024;

/** The packaged server binary for this machine, or why there is none. */
export function zetasqlServerBinary(): { path: string } | { unavailable: string } {
  const builds: Record<string, string> = {
    'linux-x64': 'remote_server.so',
    'linux-arm64': 'remote_server_arm.so',
    'darwin-x64': 'remote_server',
    'darwin-arm64': 'remote_server_arm',
  };
  const build = builds[`${process.platform}-${process.arch}`];
  if (!build) return { unavailable: `@fivetrandevelopers/zetasql ships its ZetaSQL server for Linux and macOS on x64 and arm64 only, not ${process.platform}-${process.arch}` };
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve('@fivetrandevelopers/zetasql');
  } catch {
    return { unavailable: '@fivetrandevelopers/zetasql (an optional dependency, left out of the production image) is not installed: run npm ci' };
  }
  const path = join(dirname(main), 'zetasql', build);
  return existsSync(path) ? { path } : { unavailable: `the ZetaSQL server ${path} is missing: run npm ci` };
}

/** A failure the engine reported: gRPC's status code (3: the SQL is invalid; 8: the request is too large…) and its message. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** The engine's `SimpleCatalogProto`, the slice the local BigQuery fills in. */
export interface CatalogProto {
  name: string;
  table?: { name: string; column: { name: string; type: TypeProto; isPseudoColumn?: boolean }[]; primaryKeyColumnIndex?: number[] }[];
  catalog?: CatalogProto[];
  namedType?: { name: string; type: TypeProto }[];
  builtinFunctionOptions?: unknown;
}

export interface Parameter {
  name: string;
  type: TypeProto;
  value: Value;
}

/** One statement to evaluate: its catalog of the tables it names, their rows, its parameters. */
export interface EvaluateRequest {
  sql: string;
  catalog: CatalogProto;
  content: Record<string, Value[][]>;
  parameters: Parameter[];
}

export interface QueryResult {
  columns: { name: string; type: TypeProto }[];
  rows: Value[][];
}

export interface ModifiedRow {
  operation: 'INSERT' | 'DELETE' | 'UPDATE';
  cell: Value[];
  oldPrimaryKey: Value[];
}

/** A parse or resolved tree, as the client returns it: oneof members name themselves in `node`. */
export type Tree = Record<string, unknown>;

type Callback = (error: { code?: number; details?: string; message?: string } | null, response: unknown) => void;
type Service = Record<string, (request: unknown, callback: Callback) => void> & { close(): void };
type Definition = Record<string, { requestSerialize(request: unknown): Buffer }>;

/** What a request holds besides its SQL and rows (options, catalog, parameters), generously. */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

export class ZetaSqlEngine {
  private readonly jsonBytes = new WeakMap<readonly Value[][], number>();
  private readonly encodedBytes = new WeakMap<readonly Value[][], number>();

  private constructor(
    private readonly server: ChildProcess,
    private readonly service: Service,
    private readonly methods: Definition,
    private readonly languageOptions: unknown,
  ) {}

  /** Starts the server on a free loopback port; throws with the reason when this machine cannot run it. */
  static async start(): Promise<ZetaSqlEngine> {
    const binary = zetasqlServerBinary();
    if ('unavailable' in binary) throw new EngineError(`the local BigQuery cannot start: ${binary.unavailable}`, 12);
    const main = createRequire(import.meta.url).resolve('@fivetrandevelopers/zetasql');
    // The package's own gRPC libraries, with int64 as strings and enums as names (its bundled
    // client turns int64 into Long objects).
    const packageRequire = createRequire(main);
    const grpc = packageRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
    const protoLoader = packageRequire('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
    const definition = protoLoader.loadSync('local_service.proto', { includeDirs: [join(dirname(main), 'zetasql', 'protos')], longs: String, enums: String, defaults: false, oneofs: true });
    const { server, port } = await startServer(binary.path);
    const packages = grpc.loadPackageDefinition(definition) as unknown as { zetasql: { local_service: { ZetaSqlLocalService: new (address: string, credentials: unknown, options: Record<string, number>) => Service } } };
    const service = new packages.zetasql.local_service.ZetaSqlLocalService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
    });
    const methods = definition['zetasql.local_service.ZetaSqlLocalService'] as unknown as Definition;
    const call = (method: string, request: unknown) => new Promise<unknown>((resolve, reject) => service[method]!(request, (error, response) => (error ? reject(error) : resolve(response))));
    const maximum = (await call('getLanguageOptions', { maximumFeatures: true }).catch((error: Error) => {
      server.kill('SIGKILL');
      throw error;
    })) as Record<string, unknown>;
    // BigQuery is an external product; an empty list of statement kinds allows every kind.
    const languageOptions = { ...maximum, productMode: 'PRODUCT_EXTERNAL', supportedStatementKinds: [] };
    return new ZetaSqlEngine(server, service, methods, languageOptions);
  }

  /** The statement at byte `position` of `sql`: its parse tree and where the next one starts. */
  async parseNext(sql: string, position: number): Promise<{ statement: Tree; resume: number }> {
    const response = (await this.call('parse', { parseResumeLocation: { input: sql, bytePosition: position, allowResume: true }, options: this.languageOptions })) as { parsedStatement: Tree; resumeBytePosition: number };
    return { statement: response.parsedStatement, resume: response.resumeBytePosition };
  }

  /** The tables the statement at byte `position` names (each as its path's segments), not those it defines (WITH). */
  async tableNamesOfNext(sql: string, position: number): Promise<string[][]> {
    const response = (await this.call('extractTableNamesFromNextStatement', { parseResumeLocation: { input: sql, bytePosition: position, allowResume: true }, options: this.languageOptions })) as {
      tableName?: { tableNameSegment?: string[] }[];
    };
    return (response.tableName ?? []).map((name) => name.tableNameSegment ?? []);
  }

  /** The resolved statement (names, types and functions resolved as BigQuery does), without running it. */
  async analyze(sql: string, catalog: CatalogProto, parameters: Parameter[]): Promise<Tree> {
    const response = (await this.call('analyze', { sqlStatement: sql, simpleCatalog: this.withFunctions(catalog), options: this.analyzerOptions(parameters) })) as { resolvedStatement: Tree };
    return response.resolvedStatement;
  }

  async evaluateQuery(request: EvaluateRequest): Promise<QueryResult> {
    const response = (await this.call('evaluateQuery', this.evaluation(request))) as {
      content?: { tableData?: { row?: { cell?: Value[] }[] } };
      prepared?: { columns?: { name: string; type: TypeProto }[] };
    };
    const columns = (response.prepared?.columns ?? []).map((c) => ({ name: c.name, type: c.type }));
    return { columns, rows: (response.content?.tableData?.row ?? []).map((row) => row.cell ?? []) };
  }

  /** Runs an INSERT, UPDATE or DELETE on the given contents and returns the rows it touched (it changes nothing itself). */
  async evaluateModify(request: EvaluateRequest): Promise<ModifiedRow[]> {
    const response = (await this.call('evaluateModify', this.evaluation(request))) as { content?: { operation: ModifiedRow['operation']; cell?: Value[]; oldPrimaryKey?: Value[] }[] };
    return (response.content ?? []).map((row) => ({ operation: row.operation, cell: row.cell ?? [], oldPrimaryKey: row.oldPrimaryKey ?? [] }));
  }

  /**
   * The size of the request that would evaluate `request`, bounded from above, against
   * REQUEST_LIMIT_BYTES: the rows' JSON text (never shorter than their protobuf encoding) while
   * that fits, else their encoding, measured once per rows array (tables never change in place).
   */
  requestBytes(request: EvaluateRequest): number {
    const bytes = (exact: boolean) =>
      Object.entries(request.content).reduce((sum, [name, rows]) => sum + this.rowsBytes(name, rows, exact), Buffer.byteLength(request.sql) + REQUEST_OVERHEAD_BYTES);
    const bound = bytes(false);
    return bound <= REQUEST_LIMIT_BYTES ? bound : bytes(true);
  }

  private rowsBytes(name: string, rows: Value[][], exact: boolean): number {
    const cache = exact ? this.encodedBytes : this.jsonBytes;
    let size = cache.get(rows);
    if (size === undefined) {
      size = exact ? this.methods.EvaluateQuery!.requestSerialize({ tableContent: { [name]: { tableData: { row: rows.map((cell) => ({ cell })) } } } }).length : Buffer.byteLength(JSON.stringify(rows));
      cache.set(rows, size);
    }
    return size;
  }

  async stop(): Promise<void> {
    this.service.close();
    if (this.server.exitCode !== null || this.server.signalCode !== null) return;
    const exited = new Promise((resolve) => this.server.once('exit', resolve));
    this.server.kill('SIGKILL');
    await exited;
  }

  private evaluation(request: EvaluateRequest): unknown {
    return {
      sql: request.sql,
      options: this.analyzerOptions(request.parameters),
      simpleCatalog: this.withFunctions(request.catalog),
      tableContent: Object.fromEntries(Object.entries(request.content).map(([name, rows]) => [name, { tableData: { row: rows.map((cell) => ({ cell })) } }])),
      params: request.parameters.map((p) => ({ name: p.name, value: p.value })),
    };
  }

  private analyzerOptions(parameters: Parameter[]): unknown {
    return {
      languageOptions: this.languageOptions,
      errorMessageMode: 'ERROR_MESSAGE_ONE_LINE',
      // BigQuery's default time zone (ZetaSQL's own default is America/Los_Angeles).
      defaultTimezone: 'UTC',
      queryParameters: parameters.map((p) => ({ name: p.name, type: p.type })),
    };
  }

  private withFunctions(catalog: CatalogProto): CatalogProto {
    return { ...catalog, builtinFunctionOptions: { languageOptions: this.languageOptions } };
  }

  private call(method: string, request: unknown): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.service[method]!(request, (error, response) => {
        if (!error) return resolve(response);
        reject(new EngineError(error.details || error.message || String(error), error.code ?? 2));
      }),
    );
  }
}

/** Starts the server on a free loopback port and waits for its "Server listening" line (the tests' analyzer starts it so too). */
export async function startServer(path: string): Promise<{ server: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = spawn(path, ['127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome = await new Promise<'listening' | string>((resolve) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Server listening')) resolve('listening');
      };
      server.stdout!.on('data', onData);
      server.stderr!.on('data', onData);
      server.once('error', (error) => resolve(`could not start ${path}: ${error.message}`));
      server.once('exit', (code) => resolve(`the ZetaSQL server exited (${code}) before listening: ${output.trim()}`));
    });
    if (outcome === 'listening') {
      server.stdout!.resume();
      server.stderr!.resume();
      // The engine is a helper of this process: it must not outlive it.
      const killServer = () => server.kill('SIGKILL');
      process.once('exit', killServer);
      server.once('exit', () => process.off('exit', killServer));
      return { server, port };
    }
    server.kill('SIGKILL');
    // The port was free a moment ago; another process may have taken it since. Try another.
    if (attempt === 3) throw new EngineError(outcome, 14);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
