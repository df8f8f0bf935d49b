import { DuckDBDateValue } from '@duckdb/node-api';
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError, isOutOfMemory } from '../../util/errors.js';
import { decodeScratchLine } from '../../util/line-ends.js';
import { EARLIEST_DATE } from '../../util/dates.js';
import type { LandedFile } from '../warehouse.js';
import type { DuckDbConnectionLike } from './connection.js';
import { duckdbString } from './duckdb-dialect.js';
import { dateLiteral } from '../sql-literals.js';
import { SqlTemplate } from '../sql-template.js';

const template = (name: string) => SqlTemplate.read(new URL(`./ingest/${name}`, import.meta.url));
const MACROS = template('macros.sql');
const LINES = template('lines.sql');
const SUSPECT_FIX = template('suspect-fix.sql').fill({});
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
 * Reads the landed files' line indexes (exact line hashes, made while landing) and the files
 * themselves with DuckDB's JSON reader, each in one statement over all files, then aligns the two
 * by position, finds duplicates across all files, keeps the text of quarantined lines, and settles
 * each line's reason and date.
 * A file is read as landed (its .gz directly) unless its index found a suspect line; such a file
 * was decompressed into a scratch copy, where every line that is not valid JSON on its own is
 * blanked out before the JSON reader runs (its text kept first): the JSON reader would otherwise
 * run on from a cut line into the next, losing a valid line or the alignment.
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
  const listOf = (path: (file: LandedFile) => string) => `[${files.map((file) => duckdbString(path(file))).join(', ')}]`;
  const which = files.length === 1 ? files[0]!.sourcePath : `${files.length} files`;
  onStep?.(`reading lines: ${which}`, 'read_lines');
  await connection.run(LINES.fill({ paths: listOf((file) => file.lineIndexPath) }));
  await refuseLongLines(connection, files);
  const copied = files.filter((file) => file.readPath !== file.landedPath && !file.refused);
  if (copied.length > 0) {
    await checkScratchCopies(connection, copied);
    const blanked = await keepAndBlankOutUnsafeLines(connection, files, copied);
    // Seen by the user: which files needed their scratch copy (all others were read as landed).
    const names = copied.length === 1 ? copied[0]!.sourcePath : `${copied.length} of ${files.length} files (${copied.map((f) => f.sourcePath).join(', ')})`;
    onStep?.(`read from a scratch copy, ${blanked} line(s) blanked out for the JSON reader: ${names}`, 'read_lines');
  }
  onStep?.(`parsing events: ${which}`, 'parse_events');
  await runReading(connection, SCAN_EVENTS.fill({ paths: listOf((file) => file.readPath), max_line_bytes: String(MAX_LINE_BYTES) }), files);
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
    const keep = (span: { fileIdx: number; lineNo: number }, input: Buffer) => {
      appender.appendInteger(span.fileIdx);
      appender.appendBigInt(BigInt(span.lineNo));
      appender.appendVarchar(input.toString('utf8'));
      appender.appendNull();
      appender.endRow();
    };
    try {
      const fromCopies = wanted.filter((span) => files[span.fileIdx]!.readPath === files[span.fileIdx]!.plainPath);
      await readSpans(files, fromCopies, keep);
      // A file read as landed has no scratch copy: its wanted lines come from one more read of it.
      const fromLanded = wanted.filter((span) => files[span.fileIdx]!.readPath !== files[span.fileIdx]!.plainPath);
      for (const file of files) {
        const lineNos = fromLanded.filter((span) => span.fileIdx === file.index).map((span) => span.lineNo);
        if (lineNos.length > 0) await readLandedLines(file.readPath, lineNos, (lineNo, input) => keep({ fileIdx: file.index, lineNo }, input));
      }
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
  await Promise.all(files.flatMap((f) => [rm(f.plainPath, { force: true }), rm(f.lineIndexPath, { force: true })]));
}

/** A line longer than MAX_LINE_BYTES fails the run, naming its file and line. */
async function refuseLongLines(connection: DuckDbConnectionLike, files: LandedFile[]): Promise<void> {
  const rows = (await connection.runAndReadAll(`SELECT file_idx, min(line_no)::BIGINT AS line_no FROM _run_lines WHERE line_len > ${MAX_LINE_BYTES} GROUP BY file_idx ORDER BY file_idx LIMIT 1`)).getRowObjectsJson() as { file_idx: number; line_no: string }[];
  const [long] = rows;
  if (long) throw new InputError(`${files[long.file_idx]!.sourcePath}:${long.line_no}: a line is longer than ${MAX_LINE_BYTES} bytes`, 'this is not a GA4 export line: remove it or split the file');
}

/**
 * The lines `lineNos` (ascending) of a file read as landed, by one streaming read of it (gunzip
 * when it is a .gz): such a file has no lone CR, byte-order mark or byte that is not UTF-8, so a
 * line's input bytes are its bytes without the line end.
 */
async function readLandedLines(path: string, lineNos: number[], found: (lineNo: number, input: Buffer) => void): Promise<void> {
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = path.endsWith('.gz') ? input.pipe(createGunzip({ chunkSize: 1 << 20 })) : input;
  let lineNo = 1;
  let next = 0;
  let held: Buffer[] = [];
  const emit = (line: Buffer) => found(lineNo, line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let at = chunk.indexOf(0x0a); at !== -1 && next < lineNos.length; at = chunk.indexOf(0x0a, from)) {
        if (lineNo === lineNos[next]) {
          emit(held.length > 0 ? Buffer.concat([...held, chunk.subarray(from, at)]) : chunk.subarray(from, at));
          next++;
        }
        held = [];
        lineNo++;
        from = at + 1;
      }
      if (next >= lineNos.length) return;
      if (lineNo === lineNos[next]) held.push(Buffer.from(chunk.subarray(from)));
    }
    // The last line, without a line end.
    if (next < lineNos.length && lineNo === lineNos[next] && held.length > 0) found(lineNo, Buffer.concat(held));
  } finally {
    input.destroy();
    if (stream !== input) stream.destroy();
  }
}

/**
 * The scratch copies must hold exactly the bytes their line indexes account for (each byte is in a
 * line or ends one): the spans read and blanked out are summed from the index's line lengths.
 */
async function checkScratchCopies(connection: DuckDbConnectionLike, copied: LandedFile[]): Promise<void> {
  const rows = (await connection.runAndReadAll(LINE_BYTES)).getRowObjectsJson() as { file_idx: number; bytes: string }[];
  const read = new Map(rows.map((row) => [row.file_idx, Number(row.bytes)]));
  for (const file of copied) {
    const size = (await stat(file.plainPath)).size;
    const bytes = read.get(file.index) ?? 0;
    // The last line may end without a line end: then the lines account for one byte more than there is.
    if (bytes !== size && bytes !== size + 1) {
      throw new InputError(
        `${file.sourcePath}: the line index accounted for ${bytes} of its ${size} bytes`,
        'this is a cartlens bug: report it with the file; removing the file from source.path lets the other files run',
      );
    }
  }
}

/** Counts each file's lines and events, checks that the two scans agree, and records the file. */
async function recordFiles(connection: DuckDbConnectionLike, files: LandedFile[]): Promise<void> {
  const rows = (await connection.runAndReadAll(FILE_COUNTS)).getRowObjectsJson() as { file_idx: number; lines: string; blank: string; events: string; first_event_rowid: string }[];
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
 * The byte spans in the scratch copies of some lines, from the line index's offsets and lengths:
 * each line is then read with one positioned read, never by scanning the file again. `suspect`:
 * the lines the index marked suspect; `unsafe`: the lines to blank out (fix > 0); `table`: the
 * lines a table of (file_idx, line_no) names.
 */
async function lineSpans(connection: DuckDbConnectionLike, lines: 'suspect' | 'unsafe' | { table: string }): Promise<LineSpan[]> {
  const [files, keep] =
    lines === 'suspect'
      ? ['SELECT file_idx FROM _run_lines WHERE suspect', 's.suspect']
      : lines === 'unsafe'
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
 * Decides for the suspect lines of the scratch copies whether the JSON reader may read them as
 * they are (`fix`, see lines.sql and suspect-fix.sql), and for those it must not: keeps their
 * input text in _line_text, then overwrites them in the scratch copy, byte for byte so that
 * offsets hold — with `0` and spaces (valid JSON on its own, not an object: the line settles as
 * invalid_json from its kept text), or with their lone-CR stand-ins as spaces (the JSON whitespace
 * a lone CR was). Returns how many lines were overwritten.
 */
async function keepAndBlankOutUnsafeLines(connection: DuckDbConnectionLike, files: LandedFile[], copied: LandedFile[]): Promise<number> {
  const suspect = await lineSpans(connection, 'suspect');
  const copiedIdx = new Set(copied.map((file) => file.index));
  const texts = await connection.createAppender('_suspect_text', 'main', 'temp');
  try {
    await readSpans(files, suspect.filter((span) => copiedIdx.has(span.fileIdx)), (span, _input, scratch) => {
      texts.appendInteger(span.fileIdx);
      texts.appendBigInt(BigInt(span.lineNo));
      // The scratch copy is UTF-8 throughout (NormalizeLineEnds escapes every other byte).
      texts.appendVarchar(scratch.toString('utf8'));
      texts.endRow();
    });
  } finally {
    texts.closeSync();
  }
  await connection.run(SUSPECT_FIX);
  const unsafe = await lineSpans(connection, 'unsafe');
  if (unsafe.length === 0) return 0;
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
  return unsafe.length;
}

async function runReading(connection: DuckDbConnectionLike, sql: string, files: LandedFile[]): Promise<void> {
  try {
    await connection.run(sql);
  } catch (error) {
    const message = (error as Error).message;
    // Not the input's fault: the run names the step and the memory settings (describeOutOfMemory).
    if (isOutOfMemory(error)) throw error;
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
