import { isUtf8 } from 'node:buffer';
import xxhash from 'xxhash-wasm';
import { scratchLength } from './line-ends.js';

/**
 * The line index of one input file, made in landing's single read of it (after gunzip): per
 * physical line, what dedupe needs and whether the JSON reader may read the line where it lies.
 * A line's bytes exclude its line end (LF, or CRLF) and, on the first line, a UTF-8 byte-order
 * mark, as the scratch copy's do (NormalizeLineEnds).
 *
 * Written as CSV (`line_no,line_hash,line_len,flags,byte_offset,event_no`, one row per line, no
 * header) for the warehouse to read in parallel:
 * - line_hash: xxhash64 of the line's bytes; with line_len, the dedupe key (as exact as any hash);
 * - line_len: the line's length in the scratch copy (NormalizeLineEnds escapes a few bytes), so
 *   that byte offsets into a scratch copy can be summed from the index;
 * - flags: LINE_BLANK, LINE_SUSPECT;
 * - byte_offset: where the line starts in the scratch copy (the sum of the lengths before it, each
 *   with its LF);
 * - event_no: the line's position among the file's lines that are not blank (0 for a blank line):
 *   the JSON reader gives one row per such line, so this is the row of its parsed event.
 * The last two are what window functions over every line of the day found before, in memory that
 * grew with the day.
 */
export const LINE_BLANK = 1;
/**
 * The line is not plainly valid JSON, or holds bytes the scratch copy rewrites (a lone CR, a byte
 * that is not UTF-8, 0x01 or 0x02, a byte-order mark): DuckDB's JSON reader may not read it where
 * it lies (a line cut short runs on into the next). Only a file without one is read as landed.
 * Plainly valid (`isPlainJson`) is stricter than DuckDB's `json_valid`, so a line not flagged is
 * one the scratch path would read unchanged too.
 */
export const LINE_SUSPECT = 2;

/** What the index found in a file, for the run to decide how the warehouse reads it. */
export interface LineIndexSummary {
  lines: number;
  suspect: number;
}

let hasher: Promise<(bytes: Uint8Array) => bigint> | undefined;
/** xxhash64, once its WebAssembly module is compiled. */
export function lineHasher(): Promise<(bytes: Uint8Array) => bigint> {
  hasher ??= xxhash().then(({ h64Raw }) => (bytes: Uint8Array) => h64Raw(bytes, 0n));
  return hasher;
}

/**
 * A line longer than this is not kept whole for its hash (a file with no line end must not fill
 * the memory): it is indexed by its length alone, suspect, and the run fails on it as too long
 * (MAX_LINE_BYTES in src/warehouse/duckdb/ingest.ts is far below).
 */
export const HELD_LINE_LIMIT = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const FLUSH_BYTES = 1 << 20;
/** Room for one more row past FLUSH_BYTES: six numbers of at most 20 digits, their commas and LF. */
const ROW_ROOM = 6 * 20 + 6;

/**
 * Splits a stream of input chunks into lines and gives their index rows as CSV bytes (in pieces of
 * about a MiB; `flush` at the end gives the rest). Rows are written straight into a Buffer: text
 * built up per line lives long enough to be promoted to the old generation, and grew the heap by
 * tens of MiB per file landed.
 */
export class LineIndexer {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The line being read is past HELD_LINE_LIMIT: its bytes are counted, not kept. */
  private overlong = false;
  private lineNo = 0;
  private eventNo = 0;
  private atStart = true;
  private rows = Buffer.allocUnsafeSlow(FLUSH_BYTES + ROW_ROOM);
  private rowsEnd = 0;
  /** The scratch copy's bytes up to the end of the last whole line (each line's length and its LF). */
  scratchBytes = 0;
  readonly summary: LineIndexSummary = { lines: 0, suspect: 0 };

  constructor(private readonly hash: (bytes: Uint8Array) => bigint) {}

  /** Whether bytes of a line not yet ended are held (the last chunk did not end with a line end). */
  get midLine(): boolean {
    return this.heldBytes > 0;
  }

  /** Indexes the whole lines in `chunk` (with what earlier chunks left); returns CSV bytes to write, if a MiB is ready. */
  push(chunk: Buffer): Buffer | undefined {
    let from = 0;
    let at = chunk.indexOf(LF);
    while (at !== -1) {
      if (this.overlong) {
        this.overlongLine(this.heldBytes + at - from);
      } else if (this.heldBytes > 0) {
        this.held.push(chunk.subarray(0, at));
        const line = Buffer.concat(this.held);
        this.held = [];
        this.heldBytes = 0;
        this.line(line, 0, line.length, true);
      } else {
        this.line(chunk, from, at, true);
      }
      from = at + 1;
      at = chunk.indexOf(LF, from);
    }
    if (from < chunk.length) {
      this.heldBytes += chunk.length - from;
      if (this.heldBytes > HELD_LINE_LIMIT) {
        this.overlong = true;
        this.held = [];
      }
      // Copied: the chunk's memory may be reused by the stream.
      if (!this.overlong) this.held.push(Buffer.from(chunk.subarray(from)));
    }
    return this.rowsEnd >= FLUSH_BYTES ? this.take() : undefined;
  }

  /** The last line (when the input does not end with a line end), and the CSV bytes not yet given. */
  flush(): Buffer {
    if (this.overlong) {
      this.overlongLine(this.heldBytes);
    } else if (this.heldBytes > 0) {
      const line = Buffer.concat(this.held);
      this.held = [];
      this.heldBytes = 0;
      this.line(line, 0, line.length, false);
    }
    return this.rows.subarray(0, this.rowsEnd);
  }

  /** The rows written so far; a new Buffer takes the next ones (the stream may hold this one until it is written). */
  private take(): Buffer {
    const rows = this.rows.subarray(0, this.rowsEnd);
    this.rows = Buffer.allocUnsafeSlow(FLUSH_BYTES + ROW_ROOM);
    this.rowsEnd = 0;
    return rows;
  }

  private row(lineNo: number, hash: bigint, length: number, flags: number): void {
    // One chunk of many short lines can hold more than a MiB of rows.
    if (this.rowsEnd + ROW_ROOM > this.rows.length) {
      const more = Buffer.allocUnsafeSlow(this.rows.length * 2);
      this.rows.copy(more, 0, 0, this.rowsEnd);
      this.rows = more;
    }
    let at = this.digits(lineNo, this.rowsEnd);
    this.rows[at++] = 0x2c;
    at += this.rows.write(hash.toString(), at, 'latin1');
    this.rows[at++] = 0x2c;
    at = this.digits(length, at);
    this.rows[at++] = 0x2c;
    this.rows[at++] = 0x30 + flags;
    this.rows[at++] = 0x2c;
    at = this.digits(this.scratchBytes, at);
    this.rows[at++] = 0x2c;
    at = this.digits((flags & LINE_BLANK) === 0 ? ++this.eventNo : 0, at);
    this.rows[at++] = LF;
    this.rowsEnd = at;
  }

  /** Writes the decimal digits of `value` (a safe integer, not negative) at `at`; the position after them. */
  private digits(value: number, at: number): number {
    let end = at;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) end++;
    for (let i = end, rest = value; i >= at; i--, rest = Math.floor(rest / 10)) this.rows[i] = 0x30 + (rest % 10);
    return end + 1;
  }

  private overlongLine(length: number): void {
    this.overlong = false;
    this.held = [];
    this.heldBytes = 0;
    this.atStart = false;
    this.lineNo++;
    this.summary.lines++;
    this.summary.suspect++;
    this.row(this.lineNo, 0n, length, LINE_SUSPECT);
    this.scratchBytes += length + 1;
  }

  private line(buffer: Buffer, start: number, end: number, endsWithLf: boolean): void {
    let suspect = false;
    if (this.atStart) {
      this.atStart = false;
      if (end - start >= 3 && buffer[start] === 0xef && buffer[start + 1] === 0xbb && buffer[start + 2] === 0xbf) {
        start += 3;
        suspect = true;
      }
    }
    if (endsWithLf && end > start && buffer[end - 1] === CR) end--;
    const bytes = buffer.subarray(start, end);
    let flags = 0;
    let length = bytes.length;
    if (isBlank(bytes)) {
      flags = LINE_BLANK;
      // A form feed is blank to the line reader but not JSON whitespace to the JSON reader.
      if (bytes.indexOf(0x0c) !== -1) suspect = true;
    } else if (!isPlainJson(bytes)) {
      suspect = true;
    }
    if (suspect) {
      flags |= LINE_SUSPECT;
      length = scratchLength(bytes);
      this.summary.suspect++;
    }
    this.lineNo++;
    this.summary.lines++;
    this.row(this.lineNo, this.hash(bytes), length, flags);
    this.scratchBytes += length + 1;
  }
}

/** Empty, or only spaces, tabs and form feeds (the line reader's `\s*`, without CR and LF, which a line never holds). */
function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0c) return false;
  }
  return true;
}

const MAX_DEPTH = 512;

/**
 * Whether `bytes` is one JSON value (RFC 8259) with only spaces and tabs around it, valid UTF-8,
 * no escape of a UTF-16 surrogate and nesting of at most MAX_DEPTH. Stricter than DuckDB's
 * `json_valid` (which also takes NaN, Infinity and trailing commas): a line that passes is valid
 * for it too.
 */
export function isPlainJson(bytes: Buffer): boolean {
  const n = bytes.length;
  // Containers open: 1 for an object, 2 for an array.
  const stack = STACK;
  let depth = 0;
  let i = skipSpace(bytes, 0);
  // Expecting a value (true) or, after one, a comma or a close (false).
  for (;;) {
    if (i >= n) return false;
    let c = bytes[i]!;
    // A value.
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_DEPTH) return false;
      stack[depth++] = c === 0x7b ? 1 : 2;
      i = skipSpace(bytes, i + 1);
      if (i >= n) return false;
      c = bytes[i]!;
      if (c === 0x7d || c === 0x5d) {
        if ((c === 0x7d) !== (stack[depth - 1] === 1)) return false;
        depth--;
        i++;
      } else if (stack[depth - 1] === 1) {
        i = key(bytes, i);
        if (i < 0) return false;
        continue;
      } else {
        continue;
      }
    } else if (c === 0x22) {
      const after = string(bytes, i);
      if (after < 0) return false;
      i = after;
    } else if (c === 0x74) {
      if (!literal(bytes, i, 'true')) return false;
      i += 4;
    } else if (c === 0x66) {
      if (!literal(bytes, i, 'false')) return false;
      i += 5;
    } else if (c === 0x6e) {
      if (!literal(bytes, i, 'null')) return false;
      i += 4;
    } else {
      i = number(bytes, i);
      if (i < 0) return false;
    }
    // After a value: closes, then a comma or the end.
    for (;;) {
      i = skipSpace(bytes, i);
      if (depth === 0) return i === n && isUtf8(bytes);
      if (i >= n) return false;
      c = bytes[i]!;
      if (c === 0x2c) {
        i = skipSpace(bytes, i + 1);
        if (stack[depth - 1] === 1) {
          i = key(bytes, i);
          if (i < 0) return false;
        }
        break;
      }
      if (c === 0x7d && stack[depth - 1] === 1) {
        depth--;
        i++;
      } else if (c === 0x5d && stack[depth - 1] === 2) {
        depth--;
        i++;
      } else {
        return false;
      }
    }
  }

  /** A key and its colon at `at`; the position of the value after, or -1. */
  function key(b: Buffer, at: number): number {
    if (at >= n || b[at] !== 0x22) return -1;
    const after = string(b, at);
    if (after < 0) return -1;
    const colon = skipSpace(b, after);
    if (colon >= n || b[colon] !== 0x3a) return -1;
    return skipSpace(b, colon + 1);
  }
}

const STACK = new Uint8Array(MAX_DEPTH);

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09)) i++;
  return i;
}

/** Bytes a string's walk must stop at: the quote, the backslash, control bytes. */
const STRING_STOP = new Uint8Array(256);
STRING_STOP[0x22] = 1;
STRING_STOP[0x5c] = 1;
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;

/** The string at `at` (its opening quote): the position after its closing quote, or -1 when it is not a valid string. */
function string(b: Buffer, at: number): number {
  const n = b.length;
  for (let i = at + 1; i < n; i++) {
    const c = b[i]!;
    if (STRING_STOP[c] === 0) continue;
    if (c === 0x22) return i + 1;
    if (c !== 0x5c) return -1;
    const e = b[++i];
    if (e === 0x75) {
      if (i + 4 >= n) return -1;
      let code = 0;
      for (let k = 1; k <= 4; k++) {
        const h = hexValue(b[i + k]!);
        if (h < 0) return -1;
        code = code * 16 + h;
      }
      // A surrogate escape, paired or not: DuckDB's reader rejects a lone one; left to it.
      if (code >= 0xd800 && code <= 0xdfff) return -1;
      i += 4;
    } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
      return -1;
    }
  }
  return -1;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function literal(b: Buffer, at: number, word: string): boolean {
  if (at + word.length > b.length) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** A number at `at` (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`): the position after it, or -1. */
function number(b: Buffer, at: number): number {
  const n = b.length;
  let i = at;
  if (b[i] === 0x2d) i++;
  if (i >= n) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i]! >= 0x31 && b[i]! <= 0x39) while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  else return -1;
  if (b[i] === 0x2e) {
    const digits = ++i;
    while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    if (i === digits) return -1;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    const digits = i;
    while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    if (i === digits) return -1;
  }
  return i;
}

