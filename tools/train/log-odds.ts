// Regression on the CTR's log-odds (`link: 'logit'`, graph/models/config.ts): the target of a row
// and the way back to a CTR.

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
