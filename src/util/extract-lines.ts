import { createReadStream } from 'node:fs';

/**
 * Returns the text of the given 1-based line numbers of a file (lines end at `\n`), reading it
 * once as a stream. Used to keep the exact text of the few lines that are quarantined.
 */
export async function extractLines(path: string, wanted: readonly number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (wanted.length === 0) return found;
  const sorted = [...new Set(wanted)].sort((a, b) => a - b);
  let next = 0;
  let lineNo = 1;
  let carry: Buffer[] = [];
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    let end = chunk.indexOf(0x0a, start);
    while (end !== -1) {
      // Skip to the next wanted line without decoding the ones in between.
      if (lineNo === sorted[next]) {
        found.set(lineNo, Buffer.concat([...carry, chunk.subarray(start, end)]).toString('utf8'));
        next++;
        if (next === sorted.length) return found;
      }
      carry = [];
      lineNo++;
      start = end + 1;
      end = chunk.indexOf(0x0a, start);
    }
    if (lineNo === sorted[next]) carry.push(Buffer.from(chunk.subarray(start)));
  }
  if (carry.length > 0 && lineNo === sorted[next]) found.set(lineNo, Buffer.concat(carry).toString('utf8'));
  return found;
}
