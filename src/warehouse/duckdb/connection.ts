import type { DuckDBConnection } from '@duckdb/node-api';

/** The slice of @duckdb/node-api that cartlens calls, so tests could hand in a fake. */
export type DuckDbConnectionLike = Pick<DuckDBConnection, 'run' | 'runAndReadAll' | 'stream' | 'createAppender' | 'closeSync'>;
