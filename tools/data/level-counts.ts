// Impressions and clicks per level of one attribute, from an aggregated instance table.
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryObjects, sqlIdent } from './duck.ts';
import type { LevelCount } from './stats.ts';

/** Counts per observed value, with `levels` (if given) listed first in their order, zeros included. */
export async function levelCounts(conn: DuckDBConnection, table: string, attribute: string, levels?: readonly string[]): Promise<LevelCount[]> {
  const rows = await queryObjects(conn, `SELECT ${sqlIdent(attribute)}::VARCHAR AS level, sum(impressions)::DOUBLE AS impressions, sum(clicks)::DOUBLE AS clicks FROM ${table} GROUP BY 1 ORDER BY 1`);
  const byLevel = new Map(rows.map((r) => [String(r.level), { level: String(r.level), impressions: Number(r.impressions), clicks: Number(r.clicks) }]));
  if (!levels) return [...byLevel.values()];
  const out = levels.map((l) => byLevel.get(l) ?? { level: l, impressions: 0, clicks: 0 });
  for (const [l, c] of byLevel) if (!levels.includes(l)) out.push(c);
  return out;
}
