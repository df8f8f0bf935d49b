import { Transform, type TransformCallback } from 'node:stream';

/**
 * Stands for a CR that does not end a line in the scratch copy. DuckDB's line reader would split a
 * line at it while its JSON reader would not, so it is replaced by a control byte that JSON never
 * allows (such a line is quarantined as invalid JSON); the text kept for quarantine turns it back
 * into CR.
 */
export const LONE_CR_STANDIN = '\u0001';

/**
 * Normalizes line ends for the scratch copy: CRLF becomes LF (a line's bytes exclude its line
 * end, as the contract's dedupe wants, and line numbers count real lines); a lone CR becomes
 * LONE_CR_STANDIN.
 */
export class NormalizeLineEnds extends Transform {
  private pendingCr = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let input = chunk;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (input[0] !== 0x0a) this.push(Buffer.from(LONE_CR_STANDIN));
    }
    if (input.length > 0 && input[input.length - 1] === 0x0d) {
      this.pendingCr = true;
      input = input.subarray(0, input.length - 1);
    }
    done(null, normalizeCrs(input));
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingCr) this.push(Buffer.from(LONE_CR_STANDIN));
    done();
  }
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
