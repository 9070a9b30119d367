// Regression on the CTR's log-odds (`link: 'logit'`, graph/models/config.ts): the target of a row
// and the way back to a CTR, for the trainer and for the replication's attribute-only baselines.
import type { Link } from '../../graph/models/config.ts';

/**
 * Empirical logit ln((clicks + ½) / (impressions − clicks + ½)), clicks = ctr · impressions. The
 * half click on either side keeps rows with no clicks, or only clicks, finite, and makes it a
 * nearly unbiased estimate of the log-odds (Cox, "The analysis of binary data").
 */
export function empiricalLogit(ctr: number, impressions: number): number {
  const clicks = ctr * impressions;
  return Math.log((clicks + 0.5) / (impressions - clicks + 0.5));
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A CTR row's regression target under `link`; `where` names the row in the error. */
export function linkTarget(link: Link, r: { ctr: number; impressions?: number }, where: string): number {
  if (link === 'identity') return r.ctr;
  if (r.impressions === undefined) throw new Error(`${where}: link logit needs the row's impressions to form its log-odds, and it has none`);
  return empiricalLogit(r.ctr, r.impressions);
}

/** The CTR a prediction on the `link` scale stands for. */
export const linkToCtr = (link: Link, z: number) => (link === 'logit' ? sigmoid(z) : z);
