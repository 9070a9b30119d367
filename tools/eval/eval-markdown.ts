// Markdown rendering of one evaluation (`m2fn eval`): overall metrics with intervals, the std
// metrics for distribution models, ground truth and noise ceiling, and the per-level tables.
import type { EvalReport, MetricSet } from './evaluate.ts';
import type { BootstrapInterval } from '../metrics/metrics.ts';
import { IMAGE_BLIND_RATIO } from '../metrics/sensitivity.ts';

const num = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const sci = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : '—');

/** "0.512 [0.431, 0.580]" */
export function ci(b: BootstrapInterval, fmt: (v: number) => string = num): string {
  return `${fmt(b.estimate)} [${fmt(b.lo)}, ${fmt(b.hi)}]`;
}

function metricRows(label: string, m: MetricSet): string {
  return `| ${label} | ${m.n} | ${ci(m.sprc)} | ${ci(m.lcc)} | ${ci(m.mse, sci)} | ${ci(m.mae, sci)} |`;
}

export function evalMarkdown(r: EvalReport): string {
  const lines: string[] = [];
  const pct = Math.round(r.bootstrap.level * 100);
  lines.push(`# Evaluation: ${r.model.name} on ${r.data.dir} (${r.data.split})`, '');
  lines.push(`Model \`${r.model.dir}\` (${r.model.output} output); ${r.n} rows; ${pct}% percentile-bootstrap intervals over ${r.bootstrap.resamples} resamples (seed ${r.bootstrap.seed}) in brackets.`, '');
  lines.push('## Overall', '');
  lines.push('| against | rows | SPRC | LCC | MSE | MAE |', '|---|---|---|---|---|---|');
  lines.push(metricRows(r.data.target === 'ctr' ? 'observed CTR' : 'mean rating', r.overall));
  if (r.truth) lines.push(metricRows('ground-truth CTR', r.truth));
  lines.push('');
  if (r.std) {
    lines.push('## Distribution std', '', 'SPRC/LCC of the predicted distribution’s std against the target distribution’s std.', '');
    lines.push('| SPRC(std) | LCC(std) |', '|---|---|', `| ${ci(r.std.sprc)} | ${ci(r.std.lcc)} |`, '');
  }
  if (r.noiseCeiling) {
    lines.push('## Noise ceiling', '');
    lines.push(`The ground-truth CTR scored against the observed CTR: SPRC ${ci(r.noiseCeiling.sprc)}, LCC ${ci(r.noiseCeiling.lcc)}.`);
    lines.push(`The model reaches ${num(r.fractionOfCeiling!.sprc, 2)} of the SPRC ceiling and ${num(r.fractionOfCeiling!.lcc, 2)} of the LCC ceiling.`, '');
  }
  if (r.imageSensitivity) {
    const s = r.imageSensitivity;
    lines.push('## Image sensitivity', '');
    lines.push(`With each row's attributes fixed and its image swapped for ${s.rounds - 1} other test images (${s.images} distinct), predictions spread by ${sci(s.swapSpread)} on average (sd), against ${sci(s.overallSpread)} over the rows as they are: **ratio ${num(s.ratio)}**${s.ratio < IMAGE_BLIND_RATIO ? ' — the model is image-blind' : ''}.`);
    if (s.sprcLoss !== undefined) lines.push(`SPRC ${num(s.sprc!)} falls to ${num(s.sprcPermuted!)} when the images are permuted across the rows (lost: ${num(s.sprcLoss)}).`);
    lines.push('');
  }
  if (r.byAttribute.length) {
    lines.push('## By attribute level', '', 'Metrics within the rows of each level (— where a level has under 2 rows or a constant target).', '');
    for (const a of r.byAttribute) {
      lines.push(`### ${a.attribute}`, '', '| level | rows | SPRC | LCC | MSE | MAE | mean predicted | mean observed |', '|---|---|---|---|---|---|---|---|');
      for (const l of a.levels) lines.push(`| ${l.level} | ${l.n} | ${num(l.sprc)} | ${num(l.lcc)} | ${sci(l.mse)} | ${sci(l.mae)} | ${num(l.meanPredicted, 4)} | ${num(l.meanObserved, 4)} |`);
      lines.push('');
    }
  }
  if (r.notes.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  lines.push(`Evaluated in ${r.seconds.toFixed(1)} s.`, '');
  return lines.join('\n');
}
