import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { open, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { forEachLine } from '../../util/extract-lines.js';
import { decodeScratchLine } from '../../util/line-ends.js';
import type { LandedFile } from '../../pipeline/landing.js';
import type { DuckDbConnectionLike } from './duckdb-warehouse.js';
import { duckdbString } from './duckdb-dialect.js';

const sqlFile = (name: string) => readFileSync(fileURLToPath(new URL(`./ingest/${name}`, import.meta.url)), 'utf8');
const MACROS = sqlFile('macros.sql');
const SCAN_LINES = sqlFile('scan-lines.sql');
const SCAN_EVENTS = sqlFile('scan-events.sql');
const POSITIONS = sqlFile('positions.sql');
const ITEMS = sqlFile('items.sql');
const FINISH = sqlFile('finish.sql');

/** Longest line read; a longer one fails the run with its file and line named. */
export const MAX_LINE_BYTES = 8_000_000;

/**
 * Reads each landed file twice in parallel scans (exact line hashes; DuckDB's JSON reader),
 * appending to run-wide tables, then aligns the two by position, finds duplicates across all
 * files, keeps the text of quarantined lines, and settles each line's reason and date.
 * Between the two scans, every line that is not valid JSON on its own is blanked out in the
 * scratch copy (its text kept first): the JSON reader would otherwise run on from a cut line into
 * the next, losing a valid line or the alignment.
 * Result: `_run_settled` (narrow), the view `_run_clean`, and `_run_files`.
 */
export async function stageLandedFiles(
  connection: DuckDbConnectionLike,
  files: LandedFile[],
  onStep?: (message: string) => void,
): Promise<void> {
  await connection.run(MACROS);
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE _run_files (
      file_idx INTEGER, source_file VARCHAR, landed_sha256 VARCHAR, lines BIGINT, blank_lines BIGINT,
      first_line_rowid BIGINT, first_event_rowid BIGINT);
    CREATE OR REPLACE TEMP TABLE _line_text (file_idx INTEGER, line_no BIGINT, raw_line VARCHAR, raw_bytes BLOB);
    DROP VIEW IF EXISTS _run_clean; DROP TABLE IF EXISTS _run_lines; DROP TABLE IF EXISTS _run_events;`);
  let lineRows = 0;
  let eventRows = 0;
  for (const file of files) {
    const render = (sql: string, table: string) =>
      sql
        .replaceAll('{{into}}', () => file.index === 0 ? `CREATE TEMP TABLE ${table} AS` : `INSERT INTO ${table}`)
        .replaceAll('{{file_idx}}', () => String(file.index))
        .replaceAll('{{path}}', () => duckdbString(file.plainPath))
        .replaceAll('{{max_line_bytes}}', () => String(MAX_LINE_BYTES));
    onStep?.(`reading lines: ${file.sourcePath}`);
    await runReading(connection, render(SCAN_LINES, '_run_lines'), file);
    await keepAndBlankOutUnsafeLines(connection, file, lineRows);
    onStep?.(`parsing events: ${file.sourcePath}`);
    await runReading(connection, render(SCAN_EVENTS, '_run_events'), file);
    const [counts] = (await connection.runAndReadAll(`
      SELECT (SELECT count(*) FROM _run_lines)::BIGINT AS lines, (SELECT count(*) FROM _run_events)::BIGINT AS events,
             (SELECT count(*) FROM _run_lines WHERE file_idx = ${file.index} AND is_blank)::BIGINT AS blank`)).getRowObjectsJson() as { lines: string; events: string; blank: string }[];
    const physical = Number(counts!.lines) - lineRows;
    const nonBlank = physical - Number(counts!.blank);
    const events = Number(counts!.events) - eventRows;
    if (nonBlank !== events) {
      // Cannot happen once unsafe lines are blanked out; if it does, refuse rather than misalign.
      throw new InputError(
        `${file.sourcePath}: the line reader found ${nonBlank} non-blank lines and the JSON reader ${events}`,
        'this is a cartlens bug: report it with the file; removing the file from source.path lets the other files run',
      );
    }
    await connection.run(
      `INSERT INTO _run_files VALUES (${file.index}, ${duckdbString(file.sourcePath)}, '${file.sha256}', ${physical}, ${Number(counts!.blank)}, ${lineRows}, ${eventRows})`,
    );
    lineRows += physical;
    eventRows += events;
  }
  if (files.length === 0) return;
  onStep?.('aligning lines and finding duplicates');
  await connection.run(POSITIONS);
  onStep?.('checking items');
  await connection.run(ITEMS);

  // Read back the text of the lines that need it (first copies only): every line a rule
  // quarantines, and the ones whose items or event_params the JSON reader could not read as arrays.
  const wanted = (await connection.runAndReadAll(`
    SELECT p.file_idx, list(p.line_no ORDER BY p.line_no) AS line_nos
    FROM _line_positions AS p JOIN _run_events AS e ON e.rowid = p.event_rowid
    LEFT JOIN _item_reasons AS ir ON ir.event_rowid = p.event_rowid
    WHERE NOT p.is_duplicate
      AND NOT EXISTS (SELECT 1 FROM _line_text AS t WHERE t.file_idx = p.file_idx AND t.line_no = p.line_no)
      AND (e.no_fields OR e.early_reason IS NOT NULL OR ir.late_reason IS NOT NULL OR e.items IS NULL OR e.params_missing)
    GROUP BY p.file_idx`)).getRowObjectsJson() as { file_idx: number; line_nos: string[] }[];
  if (wanted.length > 0) {
    const appender = await connection.createAppender('_line_text', 'main', 'temp');
    for (const { file_idx, line_nos } of wanted) {
      const file = files[file_idx]!;
      onStep?.(`reading back ${line_nos.length} line(s) to check or keep: ${file.sourcePath}`);
      await forEachLine(file.plainPath, line_nos.map(Number), (lineNo, text) => {
        appender.appendInteger(file_idx);
        appender.appendBigInt(BigInt(lineNo));
        appender.appendVarchar(text);
        appender.appendNull();
        appender.endRow();
      });
    }
    appender.closeSync();
  }
  await connection.run(FINISH);
  await Promise.all(files.map((f) => rm(f.plainPath, { force: true })));
}

/**
 * For the lines of the file just scanned (from `firstRowid` in _run_lines) that the JSON reader
 * must not read as they are (`fix`, see scan-lines.sql): keeps their input text in _line_text, then
 * overwrites them in the scratch copy, byte for byte so that offsets hold — with `0` and spaces
 * (valid JSON on its own, not an object: the line settles as invalid_json from its kept text), or
 * with their lone-CR stand-ins as spaces (the JSON whitespace a lone CR was).
 */
async function keepAndBlankOutUnsafeLines(connection: DuckDbConnectionLike, file: LandedFile, firstRowid: number): Promise<void> {
  const unsafe = (await connection.runAndReadAll(`
    SELECT line_no, byte_offset, line_len, fix FROM (
      SELECT rowid - ${firstRowid} + 1 AS line_no, (sum(line_len + 1) OVER (ORDER BY rowid) - line_len - 1)::BIGINT AS byte_offset, line_len, fix
      FROM _run_lines WHERE rowid >= ${firstRowid})
    WHERE fix > 0 ORDER BY line_no`)).getRowObjectsJson() as { line_no: string; byte_offset: string; line_len: string; fix: number }[];
  if (unsafe.length === 0) return;
  const appender = await connection.createAppender('_line_text', 'main', 'temp');
  const handle = await open(file.plainPath, 'r+');
  try {
    for (const line of unsafe) {
      const length = Number(line.line_len);
      const offset = Number(line.byte_offset);
      const scratch = Buffer.alloc(length);
      await handle.read(scratch, 0, length, offset);
      const input = decodeScratchLine(scratch);
      appender.appendInteger(file.index);
      appender.appendBigInt(BigInt(line.line_no));
      appender.appendVarchar(input.toString('utf8'));
      // Bytes that are not UTF-8 cannot be text: the exact bytes are kept beside it.
      if (isUtf8(input)) appender.appendNull();
      else appender.appendBlob(input);
      appender.endRow();
      const replacement = line.fix === 1 ? Buffer.from(`0${' '.repeat(length - 1)}`) : scratch.map((byte) => (byte === 0x01 ? 0x20 : byte));
      await handle.write(replacement, 0, length, offset);
    }
  } finally {
    await handle.close();
    appender.closeSync();
  }
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
