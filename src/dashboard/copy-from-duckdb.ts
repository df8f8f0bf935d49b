import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbString } from '../warehouse/duckdb/duckdb-dialect.js';
import type { SnapshotReader, SnapshotSource } from './snapshot.js';

/**
 * The DuckDB warehouse file, attached READ_ONLY for the moment of a copy: while attached, a run
 * cannot open the file (it waits), and while a run holds it, the attach fails as a lock conflict.
 */
export function duckdbSnapshotSource(path: string): SnapshotSource {
  return {
    description: `warehouse ${path}`,
    // A stat is free: look every second, in the background.
    checkEveryMs: 1000,
    watch: true,
    version: () => fileVersion(path),
    async open(into: DuckDBConnection): Promise<SnapshotReader> {
      await into.run(`ATTACH ${duckdbString(path)} AS wh (READ_ONLY)`);
      try {
        const present = new Set(
          (await into.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'`)).getRowObjectsJson().map((r) => String(r.table_name)),
        );
        return {
          // A warehouse before its first run has no published table yet: its copy stays empty.
          insert: async (table) => {
            if (present.has(table.from)) await into.run(`INSERT INTO ${table.table} BY NAME ${table.select(`wh.${table.from}`, duckdbString)}`);
          },
          close: async () => {
            await into.run('DETACH wh');
          },
        };
      } catch (error) {
        await into.run('DETACH wh').catch(() => undefined);
        throw error;
      }
    },
  };
}

/** Changes whenever DuckDB writes the file or its write-ahead log. */
async function fileVersion(path: string): Promise<string> {
  const part = async (file: string) => {
    const s = await stat(file).catch(() => null);
    return s ? `${s.mtimeMs}:${s.size}` : '-';
  };
  const main = await part(path);
  return main === '-' ? 'missing' : `${main}|${await part(`${path}.wal`)}`;
}
