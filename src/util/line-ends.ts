import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Stands for a CR that does not end a line in the scratch copy. DuckDB's line reader would split a
 * line at it while its JSON reader would not, so it is replaced by a control byte that a JSON
 * string never holds; the text kept for quarantine turns it back into CR.
 */
export const LONE_CR_STANDIN = '\u0001';
const LONE_CR = 0x01;
/**
 * Starts an escaped byte in the scratch copy: ESCAPE, then the byte as two hex digits. Used for
 * each byte that is not part of valid UTF-8 (DuckDB reads only UTF-8) and for the two control
 * bytes the scratch copy gives a meaning to, so that the scratch copy maps back to the input
 * exactly. A line holding one is never valid JSON, as the input line was not either.
 */
const ESCAPE = 0x02;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const HEX = Buffer.from('0123456789abcdef');

/**
 * Writes the scratch copy the warehouse reads: every line of the input, valid UTF-8 throughout,
 * with the same line numbers.
 * - CRLF becomes LF (a line's bytes exclude its line end, as the contract's dedupe wants); a lone
 *   CR becomes LONE_CR_STANDIN.
 * - A UTF-8 byte-order mark at the start of the file is dropped: it is not part of the first line.
 * - A byte that is not valid UTF-8, and a 0x01 or 0x02 byte of the input, is escaped (ESCAPE).
 * `decodeScratchLine` gives back a line's input bytes.
 */
export class NormalizeLineEnds extends Transform {
  /** Bytes held back until the next chunk: a CR (is an LF next?) or a UTF-8 character cut in two. */
  private held: Buffer = Buffer.alloc(0);
  private atStart: boolean;

  /** `fromFileStart`: false for input that starts at a line of the file other than its first (no byte-order mark there). */
  constructor(fromFileStart = true) {
    super();
    this.atStart = fromFileStart;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let input = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    if (this.atStart) {
      // Wait for three bytes before deciding whether the file starts with a byte-order mark.
      if (input.length < BOM.length && BOM.subarray(0, input.length).equals(input)) {
        this.held = Buffer.from(input);
        return done();
      }
      this.atStart = false;
      if (input.subarray(0, BOM.length).equals(BOM)) input = input.subarray(BOM.length);
    }
    const keep = heldBackLength(input);
    this.held = keep > 0 ? Buffer.from(input.subarray(input.length - keep)) : Buffer.alloc(0);
    done(null, toScratch(input.subarray(0, input.length - keep)));
  }

  override _flush(done: TransformCallback): void {
    // At the end of input a held CR is a lone CR, and a cut character is bytes that are not UTF-8.
    if (this.held.length > 0) this.push(toScratch(this.held));
    done();
  }
}

/** The input bytes of a line of the scratch copy (LONE_CR_STANDIN and escapes undone). */
export function decodeScratchLine(line: Buffer): Buffer {
  if (line.indexOf(LONE_CR) === -1 && line.indexOf(ESCAPE) === -1) return line;
  const out = Buffer.alloc(line.length);
  let length = 0;
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte === LONE_CR) out[length++] = 0x0d;
    else if (byte === ESCAPE && i + 2 < line.length) {
      out[length++] = Number.parseInt(line.toString('latin1', i + 1, i + 3), 16);
      i += 2;
    } else out[length++] = byte;
  }
  return out.subarray(0, length);
}

/** The length of a line (its bytes without line end) in the scratch copy: its escapes counted. */
export function scratchLength(line: Buffer): number {
  return toScratch(line).length;
}

/** How many bytes at the end of `input` must wait for the next chunk: a final CR, or a cut character. */
function heldBackLength(input: Buffer): number {
  const last = input.length - 1;
  if (last < 0) return 0;
  if (input[last] === 0x0d) return 1;
  // Look back at most 3 bytes for the lead byte of a multi-byte character that is not complete.
  for (let back = 0; back < 3 && last - back >= 0; back++) {
    const byte = input[last - back]!;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) return sequenceLength(byte) > back + 1 ? back + 1 : 0;
  }
  return 0;
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/** The scratch form of a chunk. Fast path: valid UTF-8 without 0x01 or 0x02 needs only its CRs seen to. */
function toScratch(chunk: Buffer): Buffer {
  if (chunk.indexOf(LONE_CR) === -1 && chunk.indexOf(ESCAPE) === -1 && isUtf8(chunk)) return normalizeCrs(chunk);
  const parts: Buffer[] = [];
  let from = 0;
  const flushPlain = (to: number) => {
    if (to > from) parts.push(chunk.subarray(from, to));
  };
  const emit = (bytes: number[]) => {
    parts.push(Buffer.from(bytes));
  };
  let i = 0;
  while (i < chunk.length) {
    const byte = chunk[i]!;
    if (byte === 0x0d) {
      flushPlain(i);
      // A CR right before LF is part of the line end (a chunk's final CR was held back).
      if (chunk[i + 1] !== 0x0a) emit([LONE_CR]);
      from = ++i;
    } else if (byte === LONE_CR || byte === ESCAPE) {
      flushPlain(i);
      emit(escaped(byte));
      from = ++i;
    } else if (byte < 0x80) {
      i++;
    } else {
      const length = validSequenceLength(chunk, i);
      if (length > 0) {
        i += length;
      } else {
        flushPlain(i);
        emit(escaped(byte));
        from = ++i;
      }
    }
  }
  flushPlain(chunk.length);
  return Buffer.concat(parts);
}

function normalizeCrs(chunk: Buffer): Buffer {
  let at = chunk.indexOf(0x0d);
  if (at === -1) return chunk;
  const parts: Buffer[] = [];
  let from = 0;
  while (at !== -1) {
    parts.push(chunk.subarray(from, at));
    if (chunk[at + 1] !== 0x0a) parts.push(Buffer.from(LONE_CR_STANDIN));
    from = at + 1;
    at = chunk.indexOf(0x0d, from);
  }
  parts.push(chunk.subarray(from));
  return Buffer.concat(parts);
}

function escaped(byte: number): number[] {
  return [ESCAPE, HEX[byte >> 4]!, HEX[byte & 0x0f]!];
}

/** The length of the valid UTF-8 character starting at `at`, or 0 when the bytes there are not one. */
function validSequenceLength(buffer: Buffer, at: number): number {
  const lead = buffer[at]!;
  const length = sequenceLength(lead);
  if (length === 1 || at + length > buffer.length) return 0;
  const second = buffer[at + 1]!;
  // The second byte's range excludes overlong forms and UTF-16 surrogates (RFC 3629).
  const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
  if (second < low || second > high) return 0;
  for (let k = 2; k < length; k++) {
    const next = buffer[at + k]!;
    if (next < 0x80 || next > 0xbf) return 0;
  }
  return length;
}
