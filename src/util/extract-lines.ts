import { createReadStream } from 'node:fs';
import { decodeScratchLine } from './line-ends.js';

/**
 * Calls `found` with the text of each given 1-based line number of a scratch copy (lines end at
 * `\n`; see NormalizeLineEnds), in order, reading the file once as a stream and decoding only the
 * wanted lines to their input bytes. Used to keep the exact text of quarantined lines; nothing is
 * held beyond the current line.
 */
export async function forEachLine(path: string, wanted: readonly number[], found: (lineNo: number, text: string) => void): Promise<void> {
  if (wanted.length === 0) return;
  const sorted = [...new Set(wanted)].sort((a, b) => a - b);
  let next = 0;
  let lineNo = 1;
  let carry: Buffer[] = [];
  const emit = (parts: Buffer[]) => found(lineNo, decodeScratchLine(Buffer.concat(parts)).toString('utf8'));
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    let end = chunk.indexOf(0x0a, start);
    while (end !== -1) {
      if (lineNo === sorted[next]) {
        emit([...carry, chunk.subarray(start, end)]);
        if (++next === sorted.length) return;
      }
      carry = [];
      lineNo++;
      start = end + 1;
      end = chunk.indexOf(0x0a, start);
    }
    if (lineNo === sorted[next]) carry.push(Buffer.from(chunk.subarray(start)));
  }
  if (carry.length > 0 && lineNo === sorted[next]) emit(carry);
}
