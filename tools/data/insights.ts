// The "ad insights" report (paper Fig. 4a): CTR by age, hour, weekday, month, position and
// dominant colour over all valid impressions, with 95% Wilson intervals, as JSON and bar charts.
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DOMINANT_COLOURS, REAL_AD_SCHEMA } from '../../runtime/schema.ts';
import { levelCounts } from './level-counts.ts';
import { barChartSvg, svgToPng } from './bar-chart.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';

export const INSIGHT_ATTRIBUTES = ['age', 'hour', 'weekday', 'month', 'position', 'domcol'] as const;
export type InsightAttribute = (typeof INSIGHT_ATTRIBUTES)[number];

export interface InsightLevel {
  level: string;
  impressions: number;
  clicks: number;
  ctr: number;
  low: number;
  high: number;
}

export type Insights = Record<InsightAttribute, InsightLevel[]>;

/** 95% Wilson score interval for a binomial proportion. */
export function wilson(clicks: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 0];
  const p = clicks / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

function levelsOf(a: InsightAttribute): string[] {
  if (a === 'domcol') return [...DOMINANT_COLOURS];
  const attr = REAL_AD_SCHEMA.attributes.find((x) => x.name === a);
  return attr && attr.kind === 'categorical' ? attr.levels : [];
}

/** Computes the insights from an instance table with columns per attribute, impressions, clicks. */
export async function computeInsights(conn: DuckDBConnection, table: string): Promise<Insights> {
  const out = {} as Insights;
  for (const a of INSIGHT_ATTRIBUTES) {
    const counts = await levelCounts(conn, table, a, levelsOf(a));
    out[a] = counts.map((c) => {
      const [low, high] = wilson(c.clicks, c.impressions);
      return { ...c, ctr: c.impressions ? c.clicks / c.impressions : 0, low, high };
    });
  }
  return out;
}

const TITLES: Record<InsightAttribute, string> = {
  age: 'CTR by age group', hour: 'CTR by hour of day', weekday: 'CTR by weekday (1 = Monday)',
  month: 'CTR by month', position: 'CTR by ad position', domcol: 'CTR by dominant colour',
};

/** Writes insights.json and one PNG chart per attribute into `dir`; returns the files. */
export async function writeInsights(dir: string, insights: Insights): Promise<string[]> {
  const files: string[] = [];
  const json = join(dir, 'insights.json');
  writeFileAtomic(json, JSON.stringify(insights, null, 1) + '\n');
  files.push(json);
  for (const a of INSIGHT_ATTRIBUTES) {
    const bars = insights[a].filter((l) => l.impressions > 0).map((l) => ({ label: l.level, value: l.ctr, low: l.low, high: l.high }));
    const png = join(dir, `insights-${a}.png`);
    writeFileAtomic(png, await svgToPng(barChartSvg(TITLES[a], bars, { yLabel: 'CTR', percent: true })));
    files.push(png);
  }
  return files;
}
