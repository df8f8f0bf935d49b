import { DuckDBDateValue } from '@duckdb/node-api';
import { isUtf8 } from 'node:buffer';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { InputError } from '../../util/errors.js';
import { decodeScratchLine } from '../../util/line-ends.js';
import { EARLIEST_DATE } from '../../util/dates.js';
import type { LandedFile } from '../warehouse.js';
import type { DuckDbConnectionLike } from './connection.js';
import { duckdbString } from './duckdb-dialect.js';
import { dateLiteral } from '../sql-literals.js';
import { SqlTemplate } from '../sql-template.js';

const template = (name: string) => SqlTemplate.read(new URL(`./ingest/${name}`, import.meta.url));
const MACROS = template('macros.sql');
const SCAN_LINES = template('scan-lines.sql');
const SCAN_EVENTS = template('scan-events.sql');
const POSITIONS = template('positions.sql').fill({});
const ITEMS = template('items.sql').fill({});
const FINISH = template('finish.sql').fill({});
const INTRADAY = template('intraday.sql').fill({});
const START = template('start.sql').fill({});
const READ_BACK = template('read-back.sql').fill({});
const LINE_BYTES = template('line-bytes.sql').fill({});
const FILE_COUNTS = template('file-counts.sql').fill({});
const LINE_SPANS = template('line-spans.sql');

/** Longest line read; a longer one fails the run with its file and line named. */
export const MAX_LINE_BYTES = 8_000_000;
/**
 * The line reader's buffer per file. DuckDB's default is 16 lines of the longest size (122 MiB
 * here), and one statement reads several files at once: that would not fit a small memory_limit.
 */
const LINE_BUFFER_BYTES = 2 * MAX_LINE_BYTES;

/**
 * Reads the landed files twice, each pass one statement over all of them (exact line hashes;
 * DuckDB's JSON reader), then aligns the two by position, finds duplicates across all files,
 * keeps the text of quarantined lines, and settles each line's reason and date.
 * Between the two scans, every line that is not valid JSON on its own is blanked out in the
 * scratch copy (its text kept first): the JSON reader would otherwise run on from a cut line into
 * the next, losing a valid line or the alignment.
 * `latestEventDate` (`YYYY-MM-DD`) is the last event_date accepted (latestEventDate in warehouse.ts).
 * Result: `_run_settled` (narrow), the view `_run_clean`, and `_run_files`.
 */
export async function stageLandedFiles(
  connection: DuckDbConnectionLike,
  files: LandedFile[],
  latestEventDate: string,
  onStep?: (message: string, step: string) => void,
): Promise<void> {
  await connection.run(MACROS.fill({ earliest_event_date: dateLiteral(EARLIEST_DATE), latest_event_date: dateLiteral(latestEventDate) }));
  await connection.run(START);
  if (files.length === 0) return;
  // file_index in the scans is the position in this list, which must be the file's index.
  files.forEach((file, position) => {
    if (file.index !== position) throw new Error(`landed files out of order: ${file.sourcePath} has index ${file.index} at ${position}`);
  });
  const paths = `[${files.map((file) => duckdbString(file.plainPath)).join(', ')}]`;
  const which = files.length === 1 ? files[0]!.sourcePath : `${files.length} files`;
  onStep?.(`reading lines: ${which}`, 'read_lines');
  await readLines(connection, files, (parallel) => SCAN_LINES.fill({ paths, max_line_bytes: String(MAX_LINE_BYTES), buffer_bytes: String(LINE_BUFFER_BYTES), parallel: String(parallel) }));
  await keepAndBlankOutUnsafeLines(connection, files);
  onStep?.(`parsing events: ${which}`, 'parse_events');
  await runReading(connection, SCAN_EVENTS.fill({ paths, max_line_bytes: String(MAX_LINE_BYTES) }), files);
  await recordFiles(connection, files);
  onStep?.('aligning lines and finding duplicates', 'dedupe');
  await connection.run(POSITIONS);
  onStep?.('checking items', 'items');
  await connection.run(ITEMS);

  // Read back the text of the lines that need it (read-back.sql).
  await connection.run(READ_BACK);
  const wanted = await lineSpans(connection, { table: '_read_back' });
  if (wanted.length > 0) {
    onStep?.(`reading back ${wanted.length} line(s) to check or keep`, 'read_back');
    const appender = await connection.createAppender('_line_text', 'main', 'temp');
    try {
      await readSpans(files, wanted, (span, input) => {
        appender.appendInteger(span.fileIdx);
        appender.appendBigInt(BigInt(span.lineNo));
        appender.appendVarchar(input.toString('utf8'));
        appender.appendNull();
        appender.endRow();
      });
    } finally {
      appender.closeSync();
    }
  }
  onStep?.('settling lines', 'settle');
  await connection.run(FINISH);
  // Only a run with intraday files has a choice to make between the two kinds of input.
  if (files.some((f) => f.named.intraday)) {
    onStep?.('choosing daily or intraday input per date', 'intraday');
    await connection.run(INTRADAY);
  }
  await Promise.all(files.map((f) => rm(f.plainPath, { force: true })));
}

/**
 * Pass 1 (scan-lines.sql), on every thread. DuckDB's parallel line reader passes over a line
 * longer than its buffer (LINE_BUFFER_BYTES) without a word, or fails with a message that names
 * no line. So when it fails, or its lines do not account for every byte of a scratch copy (each
 * byte is in a line or ends one), pass 1 runs again on one thread: that reads every line, or
 * fails naming the file and line that is too long.
 */
async function readLines(connection: DuckDbConnectionLike, files: LandedFile[], sql: (parallel: boolean) => string): Promise<void> {
  const readWhole = await connection.run(sql(true)).then(
    async () => (await filesReadShort(connection, files)).length === 0,
    () => false,
  );
  if (readWhole) return;
  await runReading(connection, sql(false), files);
  const [short] = await filesReadShort(connection, files);
  if (short) {
    throw new InputError(
      `${short.file.sourcePath}: the line reader accounted for ${short.read} of its ${short.size} bytes`,
      'this is a cartlens bug: report it with the file; removing the file from source.path lets the other files run',
    );
  }
}

/** The files whose lines in _run_lines, with their line ends, fall short of their scratch copy's size. */
async function filesReadShort(connection: DuckDbConnectionLike, files: LandedFile[]): Promise<{ file: LandedFile; read: number; size: number }[]> {
  const rows = (await connection.runAndReadAll(LINE_BYTES)).getRowObjectsJson() as { file_idx: number; bytes: string }[];
  const read = new Map(rows.map((row) => [row.file_idx, Number(row.bytes)]));
  const sizes = await Promise.all(files.map(async (file) => (await stat(file.plainPath)).size));
  // The last line may end without a line end: then the lines account for one byte more than there is.
  return files.map((file, i) => ({ file, read: read.get(file.index) ?? 0, size: sizes[i]! })).filter((f) => f.read < f.size);
}

/** Counts each file's lines and events, checks that the two scans agree, and records the file. */
async function recordFiles(connection: DuckDbConnectionLike, files: LandedFile[]): Promise<void> {
  const rows = (await connection.runAndReadAll(FILE_COUNTS)).getRowObjectsJson() as { file_idx: number; lines: string; blank: string; first_line_rowid: string; events: string; first_event_rowid: string }[];
  const byFile = new Map(rows.map((row) => [row.file_idx, row]));
  const appender = await connection.createAppender('_run_files', 'main', 'temp');
  try {
    for (const file of files) {
      const row = byFile.get(file.index);
      const lines = Number(row?.lines ?? 0);
      const blank = Number(row?.blank ?? 0);
      const events = Number(row?.events ?? 0);
      if (lines - blank !== events) {
        // Cannot happen once unsafe lines are blanked out; if it does, refuse rather than misalign.
        throw new InputError(
          `${file.sourcePath}: the line reader found ${lines - blank} non-blank lines and the JSON reader ${events}`,
          'this is a cartlens bug: report it with the file; removing the file from source.path lets the other files run',
        );
      }
      appender.appendInteger(file.index);
      appender.appendVarchar(file.sourcePath);
      appender.appendVarchar(file.sha256);
      appender.appendBigInt(BigInt(lines));
      appender.appendBigInt(BigInt(blank));
      appender.appendBigInt(BigInt(row?.first_line_rowid ?? 0));
      appender.appendBigInt(BigInt(row?.first_event_rowid ?? 0));
      appender.appendBoolean(file.named.intraday);
      if (file.named.date === undefined) appender.appendNull();
      else appender.appendDate(DuckDBDateValue.fromParts(dateParts(file.named.date)));
      appender.endRow();
    }
  } finally {
    appender.closeSync();
  }
}

/** Where a line lies in its file's scratch copy. */
interface LineSpan {
  fileIdx: number;
  lineNo: number;
  byteOffset: number;
  length: number;
  fix: number;
}

/**
 * The byte spans in the scratch copies of some lines, from the line lengths of pass 1: each line
 * is then read with one positioned read, never by scanning the file again. `unsafe`: the lines
 * pass 1 marked (fix > 0); `table`: the lines a table of (file_idx, line_no) names. Only the files
 * holding such a line are walked.
 */
async function lineSpans(connection: DuckDbConnectionLike, lines: 'unsafe' | { table: string }): Promise<LineSpan[]> {
  const [files, keep] =
    lines === 'unsafe'
      ? ['SELECT file_idx FROM _run_lines WHERE fix > 0', 's.fix > 0']
      : [`SELECT file_idx FROM ${lines.table}`, `(s.file_idx, s.line_no) IN (SELECT (file_idx, line_no) FROM ${lines.table})`];
  const rows = (await connection.runAndReadAll(LINE_SPANS.fill({ files, keep }))).getRowObjectsJson() as { file_idx: number; line_no: string; byte_offset: string; line_len: string; fix: number }[];
  return rows.map((row) => ({ fileIdx: row.file_idx, lineNo: Number(row.line_no), byteOffset: Number(row.byte_offset), length: Number(row.line_len), fix: row.fix }));
}

/** Reads each span's input bytes (scratch escapes undone) from its file's scratch copy, in order. */
async function readSpans(files: LandedFile[], spans: LineSpan[], found: (span: LineSpan, input: Buffer, scratch: Buffer, handle: FileHandle) => Promise<void> | void): Promise<void> {
  let handle: FileHandle | undefined;
  let openIdx = -1;
  try {
    for (const span of spans) {
      if (span.fileIdx !== openIdx) {
        await handle?.close();
        handle = undefined;
        handle = await open(files[span.fileIdx]!.plainPath, 'r+');
        openIdx = span.fileIdx;
      }
      const scratch = Buffer.alloc(span.length);
      await handle!.read(scratch, 0, span.length, span.byteOffset);
      await found(span, decodeScratchLine(scratch), scratch, handle!);
    }
  } finally {
    await handle?.close();
  }
}

/**
 * For the lines just scanned that the JSON reader must not read as they are (`fix`, see
 * scan-lines.sql): keeps their input text in _line_text, then overwrites them in the scratch copy,
 * byte for byte so that offsets hold — with `0` and spaces (valid JSON on its own, not an object:
 * the line settles as invalid_json from its kept text), or with their lone-CR stand-ins as spaces
 * (the JSON whitespace a lone CR was).
 */
async function keepAndBlankOutUnsafeLines(connection: DuckDbConnectionLike, files: LandedFile[]): Promise<void> {
  const unsafe = await lineSpans(connection, 'unsafe');
  if (unsafe.length === 0) return;
  const appender = await connection.createAppender('_line_text', 'main', 'temp');
  try {
    await readSpans(files, unsafe, async (span, input, scratch, handle) => {
      appender.appendInteger(span.fileIdx);
      appender.appendBigInt(BigInt(span.lineNo));
      appender.appendVarchar(input.toString('utf8'));
      // Bytes that are not UTF-8 cannot be text: the exact bytes are kept beside it.
      if (isUtf8(input)) appender.appendNull();
      else appender.appendBlob(input);
      appender.endRow();
      const replacement = span.fix === 1 ? Buffer.from(`0${' '.repeat(span.length - 1)}`) : scratch.map((byte) => (byte === 0x01 ? 0x20 : byte));
      await handle.write(replacement, 0, span.length, span.byteOffset);
    });
  } finally {
    appender.closeSync();
  }
}

async function runReading(connection: DuckDbConnectionLike, sql: string, files: LandedFile[]): Promise<void> {
  try {
    await connection.run(sql);
  } catch (error) {
    const message = (error as Error).message;
    const line = /on Line: (\d+)/i.exec(message)?.[1] ?? /line (\d+)/i.exec(message)?.[1];
    // One statement reads every file: DuckDB's message names the scratch copy at fault.
    const file = files.find((f) => message.includes(f.plainPath)) ?? (files.length === 1 ? files[0] : undefined);
    const at = `${file?.sourcePath ?? `one of ${files.length} files (${files.map((f) => f.sourcePath).join(', ')})`}${line ? `:${line}` : ''}`;
    if (/unicode|utf-?8|encoding/i.test(message)) {
      throw new InputError(`${at}: not valid UTF-8`, 'GA4 exports are UTF-8: re-export the file or fix its encoding', false, { cause: error });
    }
    if (/maximum line size|line size/i.test(message)) {
      throw new InputError(`${at}: a line is longer than ${MAX_LINE_BYTES} bytes`, 'this is not a GA4 export line: remove it or split the file', false, { cause: error });
    }
    throw new InputError(`${at}: cannot read: ${message.split('\n')[0]}`, 'check that the file is newline-delimited JSON', false, { cause: error });
  }
}

/** `YYYY-MM-DD` as DuckDB's date parts. */
function dateParts(date: string): { year: number; month: number; day: number } {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}
