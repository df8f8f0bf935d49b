import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { extractLines } from '../../util/extract-lines.js';
import type { LandedFile } from '../../pipeline/landing.js';
import type { DuckDbConnectionLike } from './duckdb-warehouse.js';

const sqlFile = (name: string) => readFileSync(fileURLToPath(new URL(`./ingest/${name}`, import.meta.url)), 'utf8');
const MACROS = sqlFile('macros.sql');
const SCAN_LINES = sqlFile('scan-lines.sql');
const SCAN_EVENTS = sqlFile('scan-events.sql');
const FINISH = sqlFile('finish.sql');

/** Longest line read; a longer one fails the run with its file and line named. */
export const MAX_LINE_BYTES = 8_000_000;

/**
 * Reads each landed file twice in parallel-friendly passes (exact line hashes; DuckDB's JSON
 * reader), aligns the two by position, then removes duplicates across all files, keeps the text
 * of quarantined lines, and settles each line's reason. Result: `_run_lines` and `_run_files`.
 */
export async function stageLandedFiles(
  connection: DuckDbConnectionLike,
  files: LandedFile[],
  onFile?: (file: LandedFile, step: string) => void,
): Promise<void> {
  await connection.run(MACROS);
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE _run_files (file_idx INTEGER, source_file VARCHAR, landed_sha256 VARCHAR, lines BIGINT, blank_lines BIGINT);
    CREATE OR REPLACE TEMP TABLE _line_text (file_idx INTEGER, line_no BIGINT, raw_line VARCHAR);
    DROP TABLE IF EXISTS _run_lines;`);
  for (const file of files) {
    const render = (sql: string) => sql.replaceAll('{{path}}', sqlString(file.plainPath)).replaceAll('{{max_line_bytes}}', String(MAX_LINE_BYTES));
    onFile?.(file, 'reading lines');
    await runReading(connection, render(SCAN_LINES), file);
    onFile?.(file, 'parsing events');
    await runReading(connection, render(SCAN_EVENTS), file);
    const [counts] = (await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM _scan_lines WHERE NOT is_blank)::BIGINT AS lines, (SELECT count(*) FROM _scan_events)::BIGINT AS events,
              (SELECT count(*) FROM _scan_lines)::BIGINT AS physical`,
    )).getRowObjectsJson() as { lines: string; events: string; physical: string }[];
    if (counts!.lines !== counts!.events) {
      throw new InputError(
        `${file.sourcePath}: the line reader found ${counts!.lines} non-blank lines and the JSON reader ${counts!.events}`,
        'the file has carriage returns inside lines; convert them to \\n line ends',
      );
    }
    // Line i of the file is row i of _scan_lines; non-blank line k is row k of _scan_events.
    await connection.run(`
      ${(await tableExists(connection, '_run_lines')) ? 'INSERT INTO _run_lines' : 'CREATE TEMP TABLE _run_lines AS'}
      SELECT ${file.index}::INTEGER AS file_idx, l.line_no, l.line_hash, l.line_len,
             CASE WHEN l.items_type NOT IN ('ARRAY', 'NULL') THEN 'items_not_array'
                  WHEN l.params_type NOT IN ('ARRAY', 'NULL') THEN 'event_params_not_array' END AS shape_reason,
             e.* EXCLUDE (pos)
      FROM (SELECT rowid + 1 AS line_no, row_number() OVER (ORDER BY rowid) - 1 AS pos, * FROM _scan_lines WHERE NOT is_blank) AS l
      JOIN (SELECT rowid AS pos, * FROM _scan_events) AS e USING (pos);
      INSERT INTO _run_files VALUES (${file.index}, ${sqlString(file.sourcePath)}, '${file.sha256}', ${counts!.physical}, ${Number(counts!.physical) - Number(counts!.lines)});
      DROP TABLE _scan_lines; DROP TABLE _scan_events;`);
  }
  if (files.length === 0) return;

  // Dedupe over all files before any other check: the first of identical lines is kept.
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE _duplicate_lines AS
    SELECT file_idx, line_no, kept_file_idx, kept_line_no FROM (
      SELECT file_idx, line_no, row_number() OVER copies AS copy,
             first_value(file_idx) OVER copies AS kept_file_idx, first_value(line_no) OVER copies AS kept_line_no
      FROM _run_lines
      WINDOW copies AS (PARTITION BY line_hash, line_len ORDER BY file_idx, line_no)) WHERE copy > 1;`);

  // Keep the exact text of every quarantined line (not of its duplicates).
  const wanted = (await connection.runAndReadAll(`
    SELECT file_idx, list(line_no ORDER BY line_no) AS line_nos FROM _run_lines
    WHERE (no_fields OR early_reason IS NOT NULL OR shape_reason IS NOT NULL OR late_reason IS NOT NULL)
      AND (file_idx, line_no) NOT IN (SELECT (file_idx, line_no) FROM _duplicate_lines)
    GROUP BY file_idx`)).getRowObjectsJson() as { file_idx: number; line_nos: string[] }[];
  if (wanted.length > 0) {
    const appender = await connection.createAppender('_line_text', 'main', 'temp');
    for (const { file_idx, line_nos } of wanted) {
      const file = files[file_idx]!;
      onFile?.(file, 'keeping quarantined lines');
      for (const [lineNo, text] of await extractLines(file.plainPath, line_nos.map(Number))) {
        appender.appendInteger(file_idx);
        appender.appendBigInt(BigInt(lineNo));
        appender.appendVarchar(text);
        appender.endRow();
      }
    }
    appender.closeSync();
  }
  await connection.run(FINISH);
  await Promise.all(files.map((f) => rm(f.plainPath, { force: true })));
}

async function runReading(connection: DuckDbConnectionLike, sql: string, file: LandedFile): Promise<void> {
  try {
    await connection.run(sql);
  } catch (error) {
    const message = (error as Error).message;
    const line = /on Line: (\d+)/i.exec(message)?.[1] ?? /line (\d+)/i.exec(message)?.[1];
    const at = `${file.sourcePath}${line ? `:${line}` : ''}`;
    if (/unicode|utf-?8|encoding/i.test(message)) {
      throw new InputError(`${at}: not valid UTF-8`, 'GA4 exports are UTF-8: re-export the file or fix its encoding', false, { cause: error });
    }
    if (/maximum line size|line size/i.test(message)) {
      throw new InputError(`${at}: a line is longer than ${MAX_LINE_BYTES} bytes`, 'this is not a GA4 export line: remove it or split the file', false, { cause: error });
    }
    throw new InputError(`${at}: cannot read: ${message.split('\n')[0]}`, 'check that the file is newline-delimited JSON', false, { cause: error });
  }
}

async function tableExists(connection: DuckDbConnectionLike, name: string): Promise<boolean> {
  const rows = (await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = '${name}' AND temporary`)).getRowObjectsJson();
  return Number(rows[0]!.n) > 0;
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
