// Google's ZetaSQL analyzer (the front end BigQuery's GoogleSQL is built on), run as the
// `local_service` gRPC server that @fivetrandevelopers/zetasql ships, on 127.0.0.1. It resolves
// every name, type and function signature as BigQuery does, without running anything. It does not
// cover scripting (DECLARE, SET, IF, BEGIN…END blocks), what is allowed inside a transaction,
// runtime errors, quotas or cost: docs/google-cloud.md says what that leaves to a live run.
import type { ChildProcess } from 'node:child_process';
import { LanguageOptions, ZetaSQLClient } from '@fivetrandevelopers/zetasql';
import { startServer, zetasqlServerBinary } from '../../../src/dev/gcp/zetasql-engine.js';
import { BigQueryCatalog, findKey } from './catalog.js';
import type { TypeProto } from './types.js';

export interface AnalyzedStatement {
  /** Where the statement came from (a job id) and its position in the job's script. */
  name: string;
  sql: string;
  /** The resolved statement, as the analyzer returns it (enums as numbers). */
  resolved: ResolvedStatement;
}

/** The parts of a resolved statement the checks read; the rest is kept opaque. */
export interface ResolvedStatement {
  node: string;
  [node: string]: unknown;
}

export interface OutputColumn {
  name: string;
  type: TypeProto;
}

export class AnalyzerError extends Error {}

/** Parameters of a statement: the named query parameters the job passes, with their BigQuery types. */
export type ParameterTypes = Record<string, string>;

/**
 * A running analyzer with a catalog that grows as statements go by: a `CREATE TABLE` or
 * `CREATE TEMP TABLE … AS` registers its table for the statements after it, as BigQuery's
 * session would.
 */
export class ZetaSqlAnalyzer {
  /** The catalog as registered with the server (building the built-in functions once, not per statement). */
  private registered: { id: unknown; version: number } | undefined;

  private constructor(
    private readonly server: ChildProcess,
    private readonly client: ZetaSQLClient,
    private readonly languageOptions: unknown,
    readonly catalog: BigQueryCatalog,
  ) {}

  static async start(catalog = new BigQueryCatalog()): Promise<ZetaSqlAnalyzer> {
    // The same server binary as the local BigQuery's reference engine (tests needing it use guard.ts).
    const binary = zetasqlServerBinary();
    if ('unavailable' in binary) throw new AnalyzerError(binary.unavailable);
    // The engine's own start (src/dev/gcp/zetasql-engine.ts): its failure is the analyzer's.
    const { server, port } = await startServer(binary.path).catch((error: Error) => {
      throw new AnalyzerError(error.message);
    });
    // The package's client dials `localhost`, which may resolve to ::1 while the server listens on
    // 127.0.0.1: pin the address it dials.
    (ZetaSQLClient as unknown as { HOST: string }).HOST = '127.0.0.1';
    ZetaSQLClient.init(port);
    const client = ZetaSQLClient.getInstance();
    const maximum = await LanguageOptions.getMaxFeatures();
    // BigQuery is an external product; an empty list of statement kinds allows every kind
    // (otherwise only queries: no DDL, DML, transactions or CALL).
    const languageOptions = { ...maximum, productMode: 'PRODUCT_EXTERNAL', supportedStatementKinds: [] };
    catalog.languageOptions = languageOptions;
    return new ZetaSqlAnalyzer(server, client, languageOptions, catalog);
  }

  /**
   * Analyzes every statement of a script (a job's query text) in order, registering the tables it
   * creates. Throws an AnalyzerError naming the statement and giving the analyzer's message with
   * its caret.
   */
  async analyzeScript(sql: string, name: string, parameters: ParameterTypes = {}): Promise<AnalyzedStatement[]> {
    const analyzed: AnalyzedStatement[] = [];
    const input = Buffer.from(sql, 'utf8');
    let position = 0;
    for (let index = 1; !onlyCommentsLeft(input.subarray(position).toString('utf8')); index++) {
      const statementName = `${name} #${index} (${firstLine(input.subarray(position).toString('utf8'))})`;
      let response;
      try {
        response = await this.client.analyze({
          parseResumeLocation: { input: sql, bytePosition: position, allowResume: true },
          registeredCatalogId: (await this.registeredCatalog()) as never,
          options: {
            languageOptions: this.languageOptions as never,
            errorMessageMode: 'ERROR_MESSAGE_MULTI_LINE_WITH_CARET',
            queryParameters: Object.entries(parameters).map(([parameter, type]) => ({ name: parameter, type: typeOf(type) })) as never,
            // BigQuery's session default; every cartlens timestamp is UTC anyway.
            defaultTimezone: 'UTC',
          },
        });
      } catch (error) {
        throw new AnalyzerError(`ZetaSQL rejects ${statementName}:\n${(error as { details?: string }).details ?? (error as Error).message}`);
      }
      const resolved = response!.resolvedStatement as unknown as ResolvedStatement;
      const end = response!.resumeBytePosition;
      if (end <= position) throw new AnalyzerError(`ZetaSQL did not advance past ${statementName}`);
      analyzed.push({ name: statementName, sql: withoutLeadingComments(input.subarray(position, end).toString('utf8')), resolved });
      this.catalog.registerCreatedTable(resolved);
      position = end;
    }
    return analyzed;
  }

  private async registeredCatalog(): Promise<unknown> {
    if (this.registered?.version === this.catalog.version) return this.registered.id;
    if (this.registered) await this.client.unRegisterCatalog({ registeredId: this.registered.id as never });
    const response = await this.client.registerCatalog({ simpleCatalog: this.catalog.proto() as never });
    this.registered = { id: response!.registeredId, version: this.catalog.version };
    return this.registered.id;
  }

  async stop(): Promise<void> {
    if (this.server.exitCode !== null) return;
    const exited = new Promise((resolve) => this.server.once('exit', resolve));
    this.server.kill('SIGKILL');
    await exited;
  }
}

/** The output columns of an analyzed query (names and types, in order). */
export function outputColumns(statement: ResolvedStatement): OutputColumn[] {
  const list = findKey(statement, 'outputColumnList') as { name: string; column: { type: TypeProto } }[] | undefined;
  if (!list) throw new AnalyzerError(`not a query: ${statement.node}`);
  return list.map((c) => ({ name: c.name, type: c.column.type }));
}

/** A TypeProto for a BigQuery type name (`BYTES`, `INT64`, `STRING`…). */
function typeOf(name: string): TypeProto {
  return { typeKind: `TYPE_${name}` };
}

function onlyCommentsLeft(rest: string): boolean {
  return rest.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').replace(/;/g, '').trim() === '';
}

function withoutLeadingComments(text: string): string {
  return text.replace(/^(\s*--[^\n]*\n)*/, '').trim();
}

function firstLine(rest: string): string {
  const line = withoutLeadingComments(rest).split('\n')[0]!;
  return line.length > 90 ? `${line.slice(0, 90)}…` : line;
}

