// Issue 24: where DuckDB runs out of memory, the run's error names the step it was in and the
// config keys that bound its memory, not only DuckDB's own text.
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { WarehouseMemoryError } from '../src/util/errors.js';
import { ev, tempDir, writeConfig, writeInput } from './support/pipeline.js';

/** A run of a small day at `memoryLimit`; what it threw. */
async function errorAtMemoryLimit(memoryLimit: string): Promise<unknown> {
  const dir = await tempDir();
  await writeInput(dir, { 'a.json': Array.from({ length: 50 }, (_, i) => ev('page_view', { at: i, user: `u${i}` })) });
  const configFile = await writeConfig(dir);
  await writeFile(configFile, (await readFile(configFile, 'utf8')).replace('memory_limit: "256MB"', `memory_limit: "${memoryLimit}"`));
  return runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile), dates: ['2026-11-01'] }).then(() => undefined, (e: unknown) => e);
}

describe('DuckDB out of memory', () => {
  it('fails the run naming the step and warehouse.memory_limit, warehouse.threads', async () => {
    // Far below what any step needs: the first statement that allocates fails.
    const error = await errorAtMemoryLimit('1MB');
    expect(error).toBeInstanceOf(WarehouseMemoryError);
    expect((error as WarehouseMemoryError).oneLine).toMatch(
      /^DuckDB ran out of memory while ".+" \(warehouse\.memory_limit: 1MB, warehouse\.threads: 2\): Out of Memory Error: .+ — raise warehouse\.memory_limit .*, or lower warehouse\.threads .*, then run again$/,
    );
  });

  it('while parsing the files, is a memory error naming the step, not a file it cannot read', async () => {
    // Enough for the line index (read with a 1 MiB buffer), not for the JSON reader's buffers (32 MiB).
    const error = await errorAtMemoryLimit('16MB');
    expect(error).toBeInstanceOf(WarehouseMemoryError);
    expect((error as WarehouseMemoryError).oneLine).toMatch(/^DuckDB ran out of memory while "parsing events: .*a\.json" \(warehouse\.memory_limit: 16MB/);
  });
});
