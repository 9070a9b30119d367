// Attribute-selection report (paper §6.3.1): for each attribute, a one-way ANOVA of the per-
// impression click outcome across its levels and a logistic-regression likelihood-ratio test;
// an attribute is selected when both are significant at the chosen level (default p < 0.05).
import type { DuckDBConnection } from '@duckdb/node-api';
import { anovaBinary, logisticLrt } from './stats.ts';
import { levelCounts } from './level-counts.ts';

export interface SelectionEntry {
  attribute: string;
  levels: number;
  anova: { f: number; df1: number; df2: number; p: number };
  logistic: { chi2: number; df: number; p: number };
  selected: boolean;
}

export async function attributeSelection(conn: DuckDBConnection, table: string, attributes: string[], alpha = 0.05): Promise<SelectionEntry[]> {
  const out: SelectionEntry[] = [];
  for (const attribute of attributes) {
    const counts = await levelCounts(conn, table, attribute);
    const anova = anovaBinary(counts);
    const logistic = logisticLrt(counts);
    out.push({ attribute, levels: counts.length, anova, logistic, selected: anova.p < alpha && logistic.p < alpha });
  }
  return out;
}
