import { createHmac } from 'node:crypto';
import { mkdtemp, mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseConfig } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { eventRunReport, type EventRunReport, type RunReport } from '../../src/pipeline/report.js';

export const SECRET = 'test-secret-key-0123456789';

export function userKey(userPseudoId: string): string {
  return createHmac('sha256', SECRET).update(userPseudoId, 'utf8').digest('hex');
}

export async function tempDir(prefix = 'cartlens-test-'): Promise<string> {
  // Under the test file's own folder (test/support/setup.ts), deleted when the file is done.
  return mkdtemp(join(process.env.CARTLENS_TEST_TMP ?? tmpdir(), prefix));
}

/** Writes a config for a folder of input files and returns its path. */
export async function writeConfig(dir: string, extra = ''): Promise<string> {
  const file = join(dir, 'cartlens.yaml');
  await writeFile(
    file,
    `source: { type: ga4-export-files, path: "input/*.json*" }
warehouse: { type: duckdb, path: "state/warehouse.duckdb", memory_limit: "256MB", threads: 2 }
export: { type: local, dir: "exports" }
landing: { dir: "state/landing" }
privacy: { user_key_secret: "${SECRET}" }
${extra}`,
  );
  return file;
}

export type Line = string | Record<string, unknown>;

/** Writes input files: each entry is a file name and its lines (objects are JSON-encoded). */
export async function writeInput(dir: string, files: Record<string, Line[]>): Promise<void> {
  await mkdir(join(dir, 'input'), { recursive: true });
  for (const [name, lines] of Object.entries(files)) {
    const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
    await writeFile(join(dir, 'input', name), name.endsWith('.gz') ? gzipSync(text) : text);
  }
}

export interface RunResult {
  dir: string;
  report: EventRunReport;
  /** Parsed CSV rows of a published table for a date (header → value). */
  csv(table: string, date: string): Promise<Record<string, string>[]>;
  csvText(table: string, date: string): Promise<string>;
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Runs the pipeline in-process on the given input files. */
export async function runOn(files: Record<string, Line[]>, options: { dates?: string[]; dir?: string; acceptShrink?: boolean } = {}): Promise<RunResult> {
  const dir = options.dir ?? (await tempDir());
  await writeInput(dir, files);
  const configFile = await writeConfig(dir);
  const loaded = parseConfig(await readFile(configFile, 'utf8'), configFile);
  const report = await runPipeline({ loaded, ...(options.dates ? { dates: options.dates } : {}), acceptShrink: options.acceptShrink === true });
  return resultFor(dir, report);
}

export function resultFor(dir: string, report: RunReport): RunResult {
  const csvText = (table: string, date: string) => readFile(join(dir, 'exports', table, `dt=${date}`, `${table}_${date.replaceAll('-', '')}.csv`), 'utf8');
  return {
    dir,
    report: eventRunReport(report),
    csvText,
    csv: async (table, date) => parse(await csvText(table, date), { columns: true, skip_empty_lines: false }) as Record<string, string>[],
    query: (sql) => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), sql),
  };
}

/** A day of `sessions` sessions, each a view and a cart of one item (quantity 2); the first `buyers` buy it. */
export function cartDay(date: string, sessions: number, buyers = 0): Line[] {
  return Array.from({ length: sessions }, (_, s) => [
    ev('view_item', { date, session: s + 1, user: `u${s}`, at: s * 10, items: [item('A')] }),
    ev('add_to_cart', { date, session: s + 1, user: `u${s}`, at: s * 10 + 1, items: [item('A', { quantity: 2 })] }),
    ...(s < buyers ? [ev('purchase', { date, session: s + 1, user: `u${s}`, at: s * 10 + 2, items: [item('A', { quantity: 2 })], ecommerce: { transaction_id: `T${s}`, purchase_revenue: 20 } })] : []),
  ]).flat();
}

/** Changes a DuckDB warehouse by hand (a run_state row, an older warehouse's schema). */
export async function executeOnWarehouse(path: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function queryWarehouse(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

const BASE_TS = 1_793_502_000_000_000; // 2026-11-01T03:00:00Z, midnight in São Paulo

/** Whole days from 2026-11-01 to a `YYYYMMDD` date (calendar arithmetic; a malformed date counts as 0). */
function daysFromBase(date: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  if (!match) return 0;
  return (Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) - Date.UTC(2026, 10, 1)) / 86_400_000;
}

/** A GA4-export event with sensible defaults; `at` is seconds after the day's start. */
export function ev(name: string, fields: { user?: string; session?: unknown; at?: number; date?: string; items?: unknown; ecommerce?: unknown; [key: string]: unknown } = {}): Record<string, unknown> {
  const { user = 'u1', session = 100, at = 0, date = '20261101', items, ecommerce, ...rest } = fields;
  const event: Record<string, unknown> = {
    event_date: date,
    event_timestamp: String(BASE_TS + at * 1_000_000 + daysFromBase(date) * 86_400_000_000),
    event_name: name,
    // `session: undefined` given explicitly means an event without ga_session_id.
    event_params: 'session' in fields && fields.session === undefined ? [] : [{ key: 'ga_session_id', value: { int_value: session } }],
    user_pseudo_id: user,
    device: { category: 'mobile' },
    geo: { country: 'Brazil' },
    traffic_source: { source: 'google', medium: 'organic' },
    ...rest,
  };
  if (items !== undefined) event.items = items;
  if (ecommerce !== undefined) event.ecommerce = ecommerce;
  return event;
}

export const item = (id: string, fields: Record<string, unknown> = {}) => ({ item_id: id, item_name: `Item ${id}`, item_category: 'Cat', price: 10, quantity: 1, ...fields });
