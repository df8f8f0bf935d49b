import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { forEachLine } from '../../util/extract-lines.js';
import type { LandedFile, Segment } from '../../pipeline/landing.js';
import type { DuckDbConnectionLike } from './duckdb-warehouse.js';

const sqlFile = (name: string) => readFileSync(fileURLToPath(new URL(`./ingest/${name}`, import.meta.url)), 'utf8');
const MACROS = sqlFile('macros.sql');
const SCAN_LINES = sqlFile('scan-lines.sql');
const SCAN_EVENTS = sqlFile('scan-events.sql');
const ITEMS = sqlFile('items.sql');
const POSITIONS = sqlFile('positions.sql');
const FINISH = sqlFile('finish.sql');

/** Longest line read; a longer one fails the run with its file and line named. */
export const MAX_LINE_BYTES = 8_000_000;

/**
 * Scans each segment as it arrives, twice with all cores (exact line hashes; DuckDB's JSON
 * reader), appending to run-wide tables, checks its items, reads back the text of the lines that
 * need it, then deletes the segment. Rows keep input order, so a row's rowid within its
 * segment's range is its position. See stageSettle for the rest.
 */
export async function stageSegments(connection: DuckDbConnectionLike, segments: AsyncIterable<Segment>, onStep?: (message: string) => void): Promise<void> {
  await connection.run(MACROS);
  await connection.run(`
    CREATE OR REPLACE TEMP TABLE _run_segments (
      file_idx INTEGER, segment_idx INTEGER, first_line_no BIGINT, lines BIGINT, blank_lines BIGINT,
      first_line_rowid BIGINT, first_event_rowid BIGINT);
    CREATE OR REPLACE TEMP TABLE _line_text (line_rowid BIGINT, raw_line VARCHAR);
    DROP VIEW IF EXISTS _run_clean;
    DROP TABLE IF EXISTS _run_lines; DROP TABLE IF EXISTS _run_events; DROP TABLE IF EXISTS _run_items;`);
  let lineRows = 0;
  let eventRows = 0;
  let first = true;
  const nextLineOf = new Map<number, number>();
  for await (const segment of segments) {
    const firstLineNo = nextLineOf.get(segment.fileIndex) ?? 1;
    const render = (sql: string, table: string) =>
      sql
        .replaceAll('{{into}}', first ? `CREATE TEMP TABLE ${table} AS` : `INSERT INTO ${table}`)
        .replaceAll('{{file_idx}}', String(segment.fileIndex))
        .replaceAll('{{path}}', sqlString(segment.path))
        .replaceAll('{{first_event_rowid}}', String(eventRows))
        .replaceAll('{{max_line_bytes}}', String(MAX_LINE_BYTES));
    const where = segment.segmentIndex === 0 ? segment.sourcePath : `${segment.sourcePath} from line ${firstLineNo}`;
    onStep?.(`reading ${where}`);
    await runReading(connection, render(SCAN_LINES, '_run_lines'), segment, firstLineNo);
    await runReading(connection, render(SCAN_EVENTS, '_run_events'), segment, firstLineNo);
    const [counts] = (await connection.runAndReadAll(`
      SELECT (SELECT count(*) FROM _run_lines WHERE rowid >= ${lineRows})::BIGINT AS lines,
             (SELECT count(*) FROM _run_lines WHERE rowid >= ${lineRows} AND is_blank)::BIGINT AS blank,
             (SELECT count(*) FROM _run_events WHERE rowid >= ${eventRows})::BIGINT AS events`)).getRowObjectsJson() as Record<string, string>[];
    const lines = Number(counts!.lines);
    const blank = Number(counts!.blank);
    const events = Number(counts!.events);
    if (lines - blank !== events) {
      throw new InputError(
        `${where}: the line reader found ${lines - blank} non-blank lines and the JSON reader ${events}`,
        'the file is not newline-delimited JSON as DuckDB reads it; report this with the file',
      );
    }
    await connection.run(render(ITEMS, '_run_items'));
    await readBack(connection, segment, lineRows, eventRows);
    await connection.run(
      `INSERT INTO _run_segments VALUES (${segment.fileIndex}, ${segment.segmentIndex}, ${firstLineNo}, ${lines}, ${blank}, ${lineRows}, ${eventRows})`,
    );
    await rm(segment.path, { force: true });
    nextLineOf.set(segment.fileIndex, firstLineNo + lines);
    lineRows += lines;
    eventRows += events;
    first = false;
  }
}

/**
 * Once every segment is in: aligns lines and events, finds duplicates across all files, and
 * settles each line's reason and date. Result: `_run_settled` (narrow), the view `_run_clean`,
 * and `_run_files`.
 */
export async function stageSettle(connection: DuckDbConnectionLike, files: LandedFile[], onStep?: (message: string) => void): Promise<void> {
  await connection.run(`CREATE OR REPLACE TEMP TABLE _run_files (file_idx INTEGER, source_file VARCHAR, landed_sha256 VARCHAR, lines BIGINT, blank_lines BIGINT)`);
  for (const file of files) {
    await connection.run(`
      INSERT INTO _run_files
      SELECT ${file.index}, ${sqlString(file.sourcePath)}, '${file.sha256}', coalesce(sum(lines), 0), coalesce(sum(blank_lines), 0)
      FROM _run_segments WHERE file_idx = ${file.index}`);
  }
  if ((await connection.runAndReadAll('SELECT 1 FROM _run_segments LIMIT 1')).currentRowCount === 0) {
    throw new InputError(`the input files hold no line (${files.map((f) => f.sourcePath).join(', ')})`, 'check that the export files are not empty');
  }
  onStep?.('aligning lines and finding duplicates');
  await connection.run(POSITIONS);
  await connection.run(FINISH);
}

/**
 * Reads back, from the segment before it is deleted, the text of its lines that need it: every
 * line a rule may quarantine, and those whose items or event_params the JSON reader could not
 * read as arrays (finish.sql checks them). Duplicates are not known yet, so all copies are read.
 */
async function readBack(connection: DuckDbConnectionLike, segment: Segment, lineRows: number, eventRows: number): Promise<void> {
  const rows = (await connection.runAndReadAll(`
    WITH lines AS (
      SELECT rowid AS line_rowid, rowid - ${lineRows} + 1 AS segment_line,
             ${eventRows} + row_number() OVER (ORDER BY rowid) - 1 AS event_rowid
      FROM _run_lines WHERE rowid >= ${lineRows} AND NOT is_blank
    ),
    problems AS (SELECT DISTINCT event_rowid FROM _run_items WHERE event_rowid >= ${eventRows} AND problem IS NOT NULL)
    SELECT l.line_rowid, l.segment_line
    FROM lines AS l
    JOIN _run_events AS e ON e.rowid = l.event_rowid
    LEFT JOIN problems AS p ON p.event_rowid = l.event_rowid
    WHERE e.no_fields OR e.early_reason IS NOT NULL OR p.event_rowid IS NOT NULL OR e.items IS NULL OR e.params_missing
    ORDER BY l.segment_line`)).getRowsJson() as [string, string][];
  if (rows.length === 0) return;
  const rowidOf = new Map(rows.map(([rowid, line]) => [Number(line), BigInt(rowid)]));
  const appender = await connection.createAppender('_line_text', 'main', 'temp');
  await forEachLine(segment.path, [...rowidOf.keys()], (line, text) => {
    appender.appendBigInt(rowidOf.get(line)!);
    appender.appendVarchar(text);
    appender.endRow();
  });
  appender.closeSync();
}

async function runReading(connection: DuckDbConnectionLike, sql: string, segment: Segment, firstLineNo: number): Promise<void> {
  try {
    await connection.run(sql);
  } catch (error) {
    const message = (error as Error).message;
    const line = /on Line: (\d+)/i.exec(message)?.[1] ?? /line (\d+)/i.exec(message)?.[1];
    const at = `${segment.sourcePath}${line ? `:${firstLineNo + Number(line) - 1}` : ''}`;
    if (/unicode|utf-?8|encoding/i.test(message)) {
      throw new InputError(`${at}: not valid UTF-8`, 'GA4 exports are UTF-8: re-export the file or fix its encoding', false, { cause: error });
    }
    if (/maximum line size|line size/i.test(message)) {
      throw new InputError(`${at}: a line is longer than ${MAX_LINE_BYTES} bytes`, 'this is not a GA4 export line: remove it or split the file', false, { cause: error });
    }
    throw new InputError(`${at}: cannot read: ${message.split('\n')[0]}`, 'check that the file is newline-delimited JSON', false, { cause: error });
  }
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
