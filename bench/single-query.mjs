// Runs bench/single-query.sql over the given files in a fresh in-memory DuckDB: the yardstick
// cartlens is measured against. Plain JavaScript, so that its start costs no compilation.
// Usage: node bench/single-query.mjs OUT.csv FILE...
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [out, ...files] = process.argv.slice(2);
const quote = (text) => `'${text.replaceAll("'", "''")}'`;
const sql = readFileSync(new URL('./single-query.sql', import.meta.url), 'utf8')
  .replace('{{files}}', `[${files.map(quote).join(', ')}]`)
  .replace('{{out}}', quote(out));
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(sql);
connection.closeSync();
instance.closeSync();
