// Reading a raw impression log (CSV or Parquet) into DuckDB as the view `raw_log`, after checking
// that the file exists and has every required column. Malformed CSV lines (wrong field count,
// broken quoting) do not stop the read: DuckDB records them in its reject table and we count them.
import { existsSync, statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryObjects, sqlString } from './duck.ts';
import { REQUIRED_COLUMNS, USER_COLUMN } from './log-columns.ts';

export interface IngestInfo {
  path: string;
  format: 'csv' | 'parquet';
  columns: Record<string, string>;
  hasUserId: boolean;
  /** CSV lines DuckDB could not parse into a row (they reach no other stage). */
  malformedLines: number;
  malformedExamples: string[];
}

export class LogInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogInputError';
  }
}

export function detectFormat(path: string): 'csv' | 'parquet' {
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(csv|tsv|txt)(\.gz)?$/i.test(path)) return 'csv';
  throw new LogInputError(`${path}: unknown log format (expected a .parquet or .csv file)`);
}

export async function ingestLog(conn: DuckDBConnection, paths: string[]): Promise<IngestInfo> {
  if (paths.length === 0) throw new LogInputError('no log file given');
  for (const p of paths) if (!existsSync(p) || !statSync(p).isFile()) throw new LogInputError(`${p}: log file not found`);
  const formats = new Set(paths.map(detectFormat));
  if (formats.size > 1) throw new LogInputError(`logs mix CSV and Parquet (${paths.join(', ')}); prepare one format at a time`);
  const format = [...formats][0];
  const list = `[${paths.map(sqlString).join(', ')}]`;
  let malformedLines = 0;
  let malformedExamples: string[] = [];
  if (format === 'parquet') {
    try {
      await conn.run(`CREATE OR REPLACE VIEW raw_log AS SELECT * FROM read_parquet(${list}, union_by_name=true)`);
    } catch (e) {
      throw new LogInputError(`${paths.join(', ')}: cannot read as Parquet: ${(e as Error).message}`);
    }
  } else {
    // Every field as text: types are checked by our rules so that a bad value is a counted
    // rejection, not a failed load.
    try {
      await conn.run(`CREATE OR REPLACE TABLE raw_log AS SELECT * FROM read_csv(${list}, header=true, all_varchar=true, store_rejects=true)`);
      const rejects = await queryObjects(conn, `SELECT count(DISTINCT (file_id, line)) AS n FROM reject_errors`);
      malformedLines = Number(rejects[0].n);
      malformedExamples = (await queryObjects(conn, `SELECT line, error_type, error_message FROM reject_errors ORDER BY line LIMIT 5`)).map(
        (r) => `line ${r.line}: ${r.error_type}: ${String(r.error_message).split('\n')[0]}`,
      );
    } catch (e) {
      throw new LogInputError(`${paths.join(', ')}: cannot read as CSV: ${(e as Error).message}`);
    }
  }
  const described = await queryObjects(conn, `DESCRIBE raw_log`);
  const columns: Record<string, string> = {};
  for (const r of described) columns[String(r.column_name)] = String(r.column_type);
  const missing = REQUIRED_COLUMNS.map((c) => c.name).filter((c) => !(c in columns));
  if (missing.length)
    throw new LogInputError(`${paths.join(', ')}: log lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (required: ${REQUIRED_COLUMNS.map((c) => c.name).join(', ')}; found: ${Object.keys(columns).join(', ')})`);
  return { path: paths.join(', '), format, columns, hasUserId: USER_COLUMN in columns, malformedLines, malformedExamples };
}
