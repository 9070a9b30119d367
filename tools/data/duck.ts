// One place that opens DuckDB and quotes values for SQL, so every stage runs with the same settings.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { cpus } from 'node:os';

export interface Duck {
  conn: DuckDBConnection;
  close(): void;
}

export async function openDuck(options: { threads?: number; memoryLimit?: string; tempDir?: string } = {}): Promise<Duck> {
  const config: Record<string, string> = { threads: String(options.threads ?? Math.max(1, cpus().length)) };
  if (options.memoryLimit) config.memory_limit = options.memoryLimit;
  if (options.tempDir) config.temp_directory = options.tempDir;
  const instance = await DuckDBInstance.create(':memory:', config);
  const conn = await instance.connect();
  // Insertion order is irrelevant to every result we produce; dropping it lets DuckDB stream.
  await conn.run('SET preserve_insertion_order = false');
  return {
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A quoted identifier (column names such as "desc" are SQL keywords). */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Rows of a query as plain JS objects (BIGINT → number; our counts stay far below 2^53). */
export async function queryObjects(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v;
    return out;
  });
}
