// Reading a raw impression log (CSV or Parquet) into DuckDB as the view `raw_log`, after checking
// that the file exists and has every required column. Malformed CSV lines (wrong field count,
// broken quoting) do not stop the read: DuckDB records them in its reject table and we count them.
// The CSV dialect is always given to DuckDB, never sniffed: its sniffer samples the first rows,
// and a file whose quoting starts later was read with no quoting at all (rows lost or changed).
import { existsSync, statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryObjects, sqlString } from './duck.ts';
import { REQUIRED_COLUMNS, USER_COLUMN } from './log-columns.ts';
import { M2fnInputError } from '../../runtime/errors.ts';

/** How a CSV log is quoted. RFC 4180 by default: comma (tab for .tsv), `"` quotes, `""` inside. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
}

export const RFC4180: CsvDialect = { delimiter: ',', quote: '"', escape: '"' };

/** The dialect for `paths`: `given` fields over the default (tab-separated for .tsv files). */
export function csvDialect(paths: string[], given: Partial<CsvDialect> = {}): CsvDialect {
  const d = { ...RFC4180, ...(paths.every((p) => /\.tsv(\.gz)?$/i.test(p)) ? { delimiter: '\t' } : {}), ...given };
  for (const k of ['delimiter', 'quote', 'escape'] as const) {
    if (typeof d[k] !== 'string' || [...d[k]].length !== 1 || d[k] === '\n' || d[k] === '\r') {
      throw new LogInputError(`CSV ${k} must be one character other than a line break (got ${JSON.stringify(d[k])})`);
    }
  }
  if (d.delimiter === d.quote) throw new LogInputError(`CSV delimiter and quote are both ${JSON.stringify(d.quote)}`);
  return d;
}

export interface IngestInfo {
  path: string;
  format: 'csv' | 'parquet';
  columns: Record<string, string>;
  hasUserId: boolean;
  /** CSV lines DuckDB could not parse into a row (they reach no other stage). */
  malformedLines: number;
  malformedExamples: string[];
}

/** A problem with prepare's input (logs, images, options): the one input-error type, specialised. */
export class LogInputError extends M2fnInputError {
  override name = 'LogInputError';
}

export function detectFormat(path: string): 'csv' | 'parquet' {
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(csv|tsv|txt)(\.gz)?$/i.test(path)) return 'csv';
  throw new LogInputError(`${path}: unknown log format (expected a .parquet or .csv file)`);
}

export async function ingestLog(conn: DuckDBConnection, paths: string[], dialect: Partial<CsvDialect> = {}): Promise<IngestInfo> {
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
    const d = csvDialect(paths, dialect);
    const dialectSql = `delim=${sqlString(d.delimiter)}, quote=${sqlString(d.quote)}, escape=${sqlString(d.escape)}`;
    try {
      await conn.run(`CREATE OR REPLACE TABLE raw_log AS SELECT * FROM read_csv(${list}, header=true, all_varchar=true, store_rejects=true, ${dialectSql})`);
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
