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
        // Each table's columns: a table (or a column) a later release added is missing until that release runs on the file.
        const present = new Map<string, Set<string>>();
        for (const row of (await into.runAndReadAll(`SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'wh'`)).getRowObjectsJson()) {
          const name = String(row.table_name);
          if (!present.has(name)) present.set(name, new Set());
          present.get(name)!.add(String(row.column_name));
        }
        return {
          // A warehouse before its first run has no published table yet: its copy stays empty.
          insert: async (table) => {
            const columns = present.get(table.from);
            if (!columns) return;
            const missing = new Set((table.added?.columns ?? []).filter((c) => !columns.has(c)));
            await into.run(`INSERT INTO ${table.table} BY NAME ${table.select(`wh.${table.from}`, duckdbString, missing)}`);
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
