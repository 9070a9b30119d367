// The replication report: REPORT.md with PNG charts beside it and results.json, from a
// ReplicateRun. Every variant gets its seed-averaged SPRC/LCC with bootstrap intervals next to
// the paper's figure; the headline section tests full M2FN against image-only and the
// attribute-only baselines with paired intervals; ablation sections say where our order differs
// from the paper's; the noise ceiling and M2FN's fraction of it are stated per dataset.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { writeFileAtomic } from '../../../runtime/atomic-write.ts';
import { readDatasetJson, readManifest } from '../../data/manifest.ts';
import { ci } from '../eval-markdown.ts';
import { bootstrapCI, spearman, type BootstrapInterval } from '../metrics.ts';
import { targetsOf } from '../evaluate.ts';
import { targetStdFn } from '../score-model.ts';
import { compareOrder, fractionOfCeilingCI, noiseCeilingCI, pairedDifference, variantStats, type Targets, type VariantStats } from './aggregate.ts';
import { comparisonChartPng, type ChartRow } from './chart.ts';
import { worldOracles, type Oracles } from './oracle.ts';
import type { DatasetKey } from './paper.ts';
import type { TableKey } from './protocol.ts';
import type { ReplicateRun } from './run.ts';

export const GOAL_FRACTION = 0.8;

const f3 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : '—');
export const minutes = (s: number) => `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
/** A fraction as a percentage to one decimal, as the goal is stated. */
export const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

const TABLE_TITLES: Record<TableKey, string> = {
  headline: 'Headline: M2FN against image-only and attribute-only baselines (paper Table 7 rows)',
  table7: 'Module ablation (paper Table 7): Aux / Low (CBN) / Att / High, and M2FN without image',
  table4: 'Output and loss (paper Table 4): NIMA (EMD), NIMA* (KLD), distribution M2FN, regression NIMA',
  table5: 'CBN placement over the five VGG blocks (paper Table 5, AVA figures)',
  table8: 'Attribute ablation (paper Table 8): M2FN without some attributes, or with only some',
};

export interface ReportOutput {
  markdown: string;
  files: string[];
  headline: Record<string, { m2fn: VariantStats; ceiling: { sprc: BootstrapInterval; lcc: BootstrapInterval } | null; fraction: { sprc: number; lcc: number } | null; fractionInterval: BootstrapInterval | null; oracles: Record<keyof Oracles, BootstrapInterval> | null }>;
  /** Seconds spent writing this report (intervals, oracles, charts), counted in its total run time. */
  reportSeconds: number;
  /** Data, variants (this invocation and the earlier ones it kept) and this report. */
  totalSeconds: number;
}

function targetsFor(run: ReplicateRun, key: DatasetKey, needStd: boolean): Targets {
  const dir = run.datasets[key].dir;
  const test = readManifest(dir, 'test');
  const std = needStd ? targetStdFn(dir, test).fn : undefined;
  const t = targetsOf(test, std);
  return { observed: t.observed, truth: t.truth, targetStd: t.targetStd };
}

function statsFor(run: ReplicateRun): Map<string, VariantStats> {
  const out = new Map<string, VariantStats>();
  const targets = new Map<DatasetKey, Targets>();
  for (const v of run.protocol.variants) {
    const rs = run.results.filter((r) => r.variant === v.id && r.dataset === v.dataset && v.seeds.includes(r.seed));
    if (!rs.length) continue;
    const needStd = rs.some((r) => r.predictedStd);
    const tkey = v.dataset;
    let t = targets.get(tkey);
    if (!t || (needStd && !t.targetStd)) {
      t = targetsFor(run, tkey, needStd || !!t?.targetStd);
      targets.set(tkey, t);
    }
    out.set(`${v.dataset}/${v.id}`, variantStats(v, rs.map((r) => ({ seed: r.seed, predicted: r.predicted, predictedStd: r.predictedStd, imageSensitivity: r.imageSensitivity?.ratio, seconds: r.seconds.fit + r.seconds.eval })), t, run.protocol.resamples));
  }
  return out;
}

function tableMarkdown(rows: VariantStats[], withStd: boolean): string[] {
  const head = withStd
    ? ['| variant | seeds | SPRC [95% CI] | LCC [95% CI] | SPRC(std) | LCC(std) | vs truth SPRC | image sensitivity | paper SPRC | paper LCC | paper SPRC(std) | paper LCC(std) | time |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    : ['| variant | seeds | SPRC [95% CI] | LCC [95% CI] | seed sd (SPRC) | vs truth SPRC | image sensitivity | paper SPRC | paper LCC | time |', '|---|---|---|---|---|---|---|---|---|---|'];
  const lines = [...head];
  for (const s of rows) {
    const common = [`| ${s.variant.label} | ${s.seeds.length} | ${ci(s.sprc)} | ${ci(s.lcc)}`];
    if (withStd) {
      lines.push(`${common} | ${s.sprcStd ? ci(s.sprcStd) : '—'} | ${s.lccStd ? ci(s.lccStd) : '—'} | ${f3(s.truthSprc)} | ${f3(s.imageSensitivity)} | ${f3(s.paper?.sprc)} | ${f3(s.paper?.lcc)} | ${f3(s.paper?.sprcStd)} | ${f3(s.paper?.lccStd)} | ${Math.round(s.seconds)} s |`);
    } else {
      lines.push(`${common} | ${s.seeds.length > 1 ? s.sprcSeedSd.toFixed(3) : '—'} | ${f3(s.truthSprc)} | ${f3(s.imageSensitivity)} | ${f3(s.paper?.sprc)} | ${f3(s.paper?.lcc)} | ${Math.round(s.seconds)} s |`);
    }
  }
  return lines;
}

function orderMarkdown(rows: VariantStats[], what: string): string[] {
  const c = compareOrder(rows);
  if (c.pairs === 0) return [];
  const lines = [`**Order against the paper (${what}).** Kendall's τ between our SPRCs and the paper's over ${c.pairs} pairs: ${c.tau.toFixed(2)} (1 = same order).`];
  if (!c.discordant.length) lines.push('Our order is the paper’s.');
  else {
    lines.push(`Our order differs from the paper's in ${c.discordant.length} of ${c.pairs} pairs:`, '');
    for (const d of c.discordant) lines.push(`- paper: ${d.higherInPaper} (${f3(d.paper[0])}) > ${d.lowerInPaper} (${f3(d.paper[1])}); ours: ${f3(d.ours[0])} vs ${f3(d.ours[1])}`);
  }
  return [...lines, ''];
}

/** Writes REPORT.md, the charts and results.json into `dir`; returns the Markdown and the headline numbers. */
export async function writeReport(run: ReplicateRun, dir: string, o: { command?: string } = {}): Promise<ReportOutput> {
  const started = performance.now();
  mkdirSync(dir, { recursive: true });
  const p = run.protocol;
  const stats = statsFor(run);
  const files: string[] = [];
  const md: string[] = [];
  const headline: ReportOutput['headline'] = {};
  md.push(`# M2FN replication report — protocol \`${p.name}\``, '');
  md.push(`${p.description}.`, '');
  // The run-time lines need the report's own time, so they are filled in last.
  const totalLine = md.length;
  md.push('', '');
  if (o.command) md.push('Command:', '', '```', o.command, '```', '');
  md.push('## Setup', '');
  for (const k of p.datasets) {
    const w = p.worlds[k];
    md.push(`- ${k} world: ${w.images} synthetic ads, ${w.impressions.toLocaleString('en')} impressions (seed ${w.seed}); levels merged below ${w.mergeBelow.toLocaleString('en')} impressions; images stored at ${w.imageSize}²; dataset ${run.datasets[k].source}.`);
  }
  md.push(`- Model: input ${p.model.size}², VGG19${p.model.backboneNorm === 'batch' ? '-BN (batch norm after every conv without CBN)' : ''} width ×${p.model.width}, head [${p.model.headHidden}] with dropout ${p.model.dropout} before the output (NIMA: 0.75), fusion ${p.model.fuseDim}, attention hidden ${p.model.attHidden}, CBN hidden ${p.model.cbnHidden}; text attributes hashed to ${p.textDim}-d.`);
  if (p.model.auxCross > 0) md.push(`- Beyond the paper: every variant with attributes crosses them (${p.model.auxCross} cross layer${p.model.auxCross > 1 ? 's' : ''}, Deep & Cross Network style, before any fusion step)${p.model.notCrossed.length ? `, all but ${p.model.notCrossed.join(' and ')}` : ''}; the paper's module ablations below are on top of it.`);
  for (const k of p.datasets) {
    const s = p.schedule[k];
    const d = run.datasets[k];
    md.push(`- ${k}: ${d.trainRows} training rows, ${d.testRows} test rows on ${d.testImages} unseen images; ${s.epochs} epochs, batch ${s.batchSize}, AdamW lr ${s.lr} with cosine decay (warm-up ${s.warmupSteps} steps), ${s.standardizeTargets ? 'z-scored' : 'raw'} ${p.model.link === 'logit' ? 'log-odds of the CTR as' : 'CTR'} targets, ${s.weighting === 'impressions' ? 'impression-weighted MSE (the paper\'s)' : 'unweighted MSE'}, no validation split (the last epoch is evaluated).`);
  }
  const fewerSeeds = p.variants.filter((v) => v.seeds.length > 1 && v.seeds.join() !== p.seeds.join()).map((v) => `${v.dataset} ${v.id} [${v.seeds}]`);
  md.push(`- Headline variants use seeds [${p.seeds}]${fewerSeeds.length ? ` (${fewerSeeds.join(', ')})` : ''}; the others seed ${p.seeds[0]}. Intervals: 95% percentile bootstrap over test rows (${p.resamples} resamples) of the seed-averaged metric; "seed sd" is the spread across seeds. Paired differences resample the same rows for both variants.`);
  if (p.model.link === 'logit') md.push('- Beyond the paper: regression variants regress the empirical log-odds of the CTR, ln((clicks + ½) / (misses + ½)), on which the effects of an ad\'s context add up, and output its sigmoid, a CTR; the attribute-only baselines fit the same target.');
  md.push('- Attribute-only baselines, weighted as their dataset\'s training loss: linear regression (ridge chosen on a 10% hold-out of the training rows), ε-SVR with RBF and polynomial kernels (libsvm-js defaults, C = 1, always unweighted), MLP (ReLU, [256, 64], AdamW, best epoch on a 10% hold-out) on the aux vectors.', '');

  md.push('## Noise ceiling and headline', '');
  for (const k of p.datasets) {
    const m = stats.get(`${k}/m2fn`);
    if (!m) continue;
    const t = targetsFor(run, k, false);
    const ceiling = noiseCeilingCI(t, p.resamples);
    const fraction = ceiling ? { sprc: m.sprc.estimate / ceiling.sprc.estimate, lcc: m.lcc.estimate / ceiling.lcc.estimate } : null;
    const oracles = oracleIntervals(run, k, t, p.resamples);
    const preds = (id: string) => run.results.filter((r) => r.dataset === k && r.variant === id).map((r) => r.predicted);
    const m2fnPreds = preds('m2fn');
    const fractionInterval = fractionOfCeilingCI(m2fnPreds, t, p.resamples);
    headline[k] = { m2fn: m, ceiling, fraction, fractionInterval, oracles: 'reason' in oracles ? null : oracles.sprc };
    md.push(`### ${k}`, '');
    if (ceiling && fraction) {
      md.push(`Noise ceiling (ground-truth CTR against observed CTR on the test rows): SPRC ${ci(ceiling.sprc)}, LCC ${ci(ceiling.lcc)}.`);
      const fi = fractionInterval!;
      const includes = fi.lo <= GOAL_FRACTION && GOAL_FRACTION <= fi.hi ? `, which includes ${GOAL_FRACTION * 100}%` : '';
      const within = `; the 95% interval of the fraction is [${percent(fi.lo)}, ${percent(fi.hi)}]${includes}`;
      md.push(`Full M2FN: SPRC ${ci(m.sprc)}, LCC ${ci(m.lcc)} — **${percent(fraction.sprc)} of the SPRC ceiling** and ${percent(fraction.lcc)} of the LCC ceiling (goal ≥ ${GOAL_FRACTION * 100}%: ${fraction.sprc >= GOAL_FRACTION ? 'met' : 'not met'}${within}).`, '');
      if ('reason' in oracles) md.push(`No oracles: ${oracles.reason}.`, '');
      else {
        const pct = (x: number) => `${((x / ceiling.sprc.estimate) * 100).toFixed(0)}%`;
        md.push(`Oracles — the world's own logit without the per-image appeal and per-instance noise, which nothing shows for an unseen image: with every learnable effect SPRC ${ci(oracles.sprc.learnable)} (${pct(oracles.sprc.learnable.estimate)} of the ceiling: the most a model can expect); with only what the attributes carry SPRC ${ci(oracles.sprc.attributes)} (${pct(oracles.sprc.attributes.estimate)}: the most an attribute-only model can expect). M2FN reaches ${((m.sprc.estimate / oracles.sprc.learnable.estimate) * 100).toFixed(0)}% of the learnable oracle.`, '');
        md.push(`Fitted oracles — the world's factors and interactions as indicators, coefficients fitted by weighted least squares on the training rows' observed logits, so they know which effects exist but not their sizes: with every factor SPRC ${ci(oracles.sprc.fittedLearnable)} (${pct(oracles.sprc.fittedLearnable.estimate)}); with the attribute factors only SPRC ${ci(oracles.sprc.fittedAttributes)} (${pct(oracles.sprc.fittedAttributes.estimate)}).${fittedVerdict(oracles.sprc.fittedLearnable.estimate, oracles.sprc.learnable.estimate, m.sprc.estimate)}`, '');
      }
    } else md.push(`Full M2FN: SPRC ${ci(m.sprc)}, LCC ${ci(m.lcc)}. The rows carry no ground truth, so there is no noise ceiling.`, '');
    if (m2fnPreds.length > 1) {
      const avg = Float64Array.from(m2fnPreds[0], (_, i) => m2fnPreds.reduce((s, p) => s + p[i], 0) / m2fnPreds.length);
      const e = bootstrapCI(spearman, avg, t.observed, { resamples: p.resamples });
      md.push(`The ${m2fnPreds.length}-seed ensemble of M2FN (mean of the seeds' predictions): SPRC ${ci(e)}${ceiling ? `, ${percent(e.estimate / ceiling.sprc.estimate)} of the SPRC ceiling` : ''}. The table below compares single models (seed-averaged metrics).`, '');
    }
    md.push('| M2FN against | their SPRC [CI] | ΔSPRC (paired) [CI] | intervals overlap? | paired Δ excludes 0? |', '|---|---|---|---|---|');
    for (const other of ['image-only', 'linear', 'svr-rbf', 'svr-poly', 'mlp', 'no-image']) {
      const s = stats.get(`${k}/${other}`);
      if (!s) continue;
      const d = pairedDifference(m2fnPreds, preds(other), t.observed, spearman, p.resamples);
      md.push(comparisonRow(s.variant.label, m.sprc, s.sprc, d));
    }
    if (!('reason' in oracles)) {
      const d = pairedDifference(m2fnPreds, [oracles.predictions.attributes], t.observed, spearman, p.resamples);
      md.push(comparisonRow('oracle: everything the attributes carry (not a model)', m.sprc, oracles.sprc.attributes, d));
    }
    md.push('');
  }

  for (const table of ['headline', 'table7', 'table4', 'table5', 'table8'] as TableKey[]) {
    const inTable = [...stats.values()].filter((s) => s.variant.table === table);
    if (!inTable.length) continue;
    md.push(`## ${TABLE_TITLES[table]}`, '');
    for (const k of p.datasets) {
      let rows = inTable.filter((s) => s.dataset === k);
      if (!rows.length) continue;
      // Ablations read against the full model and image-only, as the paper's tables do.
      if (table === 'table7' || table === 'table5' || table === 'table8') {
        const extra = ['m2fn', 'image-only'].map((id) => stats.get(`${k}/${id}`)).filter((s): s is VariantStats => !!s);
        rows = [...extra.map((s) => withPaper(s, table)), ...rows];
      }
      md.push(`### ${k}`, '');
      md.push(...tableMarkdown(rows, table === 'table4'), '');
      if (table !== 'headline') md.push(...orderMarkdown(rows, table === 'table5' ? 'the paper’s figures are on AVA' : `${k}`));
      const ceiling = headline[k]?.ceiling;
      const file = `${table}-${k === '100+' ? 100 : 500}.png`;
      const chartRows: ChartRow[] = rows.map((s) => ({ label: s.variant.label, ours: s.sprc.estimate, lo: s.sprc.lo, hi: s.sprc.hi, paper: s.paper?.sprc }));
      const png = await comparisonChartPng(chartRows, { title: `${TABLE_TITLES[table].split(':')[0]} — ${k}`, xLabel: 'SPRC on the test rows', reference: ceiling ? { value: ceiling.sprc.estimate, label: 'noise ceiling' } : undefined });
      writeFileAtomic(join(dir, file), png);
      files.push(join(dir, file));
      md.push(`![${table} ${k}](${file})`, '');
    }
  }

  if (run.failures.length) {
    md.push('## Failed runs', '', ...run.failures.map((f) => `- ${f.dataset} ${f.variant} seed ${f.seed}: ${f.error}`), '');
  }
  md.push('## Time per variant', '', '| dataset | variant | seeds | seconds |', '|---|---|---|---|');
  for (const s of stats.values()) md.push(`| ${s.dataset} | ${s.variant.id} | ${s.seeds.length} | ${Math.round(s.seconds)} |`);
  const totalAt = md.length;
  md.push('', '');
  const secs = run.seconds;
  const reportSeconds = (performance.now() - started) / 1000;
  const total = secs.total + secs.earlier.seconds + reportSeconds;
  const parts = `data ${minutes(secs.data)}, variants ${minutes(secs.variants)}, this report ${minutes(reportSeconds)}`;
  if (secs.earlier.seconds > 0) {
    const kept = secs.earlier.results ? ` and the ${secs.earlier.results} results this one kept` : '';
    md[totalLine] = `**Total run time: ${minutes(total)}** on ${osLine()}: this invocation ${minutes(secs.total + reportSeconds)} (${parts}), plus ${minutes(secs.earlier.seconds)} recorded by earlier invocations for the data${kept}.`;
  } else md[totalLine] = `**Total run time: ${minutes(total)}** (${parts}) on ${osLine()}.`;
  md[totalAt] = `Total: ${minutes(total)}, this report's intervals, oracles and charts included.`;
  const markdown = md.join('\n');
  writeFileAtomic(join(dir, 'REPORT.md'), markdown);
  files.push(join(dir, 'REPORT.md'));
  const compact = [...stats.values()].map((s) => ({
    dataset: s.dataset, variant: s.variant.id, label: s.variant.label, table: s.variant.table, seeds: s.seeds,
    sprc: s.sprc, lcc: s.lcc, mse: s.mse, mae: s.mae, sprcSeedSd: s.sprcSeedSd, perSeed: s.perSeed, truthSprc: s.truthSprc, truthLcc: s.truthLcc,
    sprcStd: s.sprcStd, lccStd: s.lccStd, imageSensitivity: s.imageSensitivity, seconds: s.seconds, paper: s.paper,
  }));
  writeFileAtomic(join(dir, 'results.json'), JSON.stringify({ protocol: { ...p, variants: undefined }, seconds: { ...run.seconds, report: reportSeconds, totalWithEarlier: total }, datasets: Object.fromEntries(Object.entries(run.datasets).map(([k, d]) => [k, { ...d, testIds: undefined }])), headline: Object.fromEntries(Object.entries(headline).map(([k, h]) => [k, { sprc: h.m2fn.sprc, lcc: h.m2fn.lcc, ceiling: h.ceiling, fraction: h.fraction, fractionInterval: h.fractionInterval, oracles: h.oracles }])), variants: compact, failures: run.failures }, null, 1) + '\n');
  files.push(join(dir, 'results.json'));
  return { markdown, files, headline, reportSeconds, totalSeconds: total };
}

/** What the fitted oracle says about where M2FN's shortfall comes from. */
function fittedVerdict(fitted: number, learnable: number, m2fn: number): string {
  if (fitted >= 0.95 * learnable && m2fn < fitted) return ' The fit comes within 5% of the learnable oracle, so this many training rows suffice for a learner that knows the structure: what M2FN lacks is finding which effects exist.';
  if (m2fn < fitted) return ' Even knowing the structure, this many training rows fall short of the learnable oracle by more than 5%.';
  return ' M2FN reaches the fitted oracle.';
}

function comparisonRow(label: string, m2fn: BootstrapInterval, other: BootstrapInterval, d: BootstrapInterval): string {
  const overlap = !(m2fn.lo > other.hi || other.lo > m2fn.hi);
  return `| ${label} | ${ci(other)} | ${ci(d)} | ${overlap ? 'yes' : '**no**'} | ${d.lo > 0 || d.hi < 0 ? `**yes** (${d.estimate > 0 ? 'M2FN higher' : 'M2FN lower'})` : 'no'} |`;
}

function oracleIntervals(run: ReplicateRun, k: DatasetKey, t: Targets, resamples: number) {
  const o = worldOracles(readDatasetJson(run.datasets[k].source), readManifest(run.datasets[k].dir, 'test').rows, readManifest(run.datasets[k].dir, 'train').rows);
  if ('reason' in o) return o;
  const opts = { resamples, seed: 0 };
  const sprc = Object.fromEntries(Object.entries(o.oracles).map(([name, pred]) => [name, bootstrapCI(spearman, pred, t.observed, opts)]));
  return { predictions: o.oracles, sprc: sprc as Record<keyof Oracles, BootstrapInterval> };
}

/** The full model and image-only rows of an ablation table carry that table's paper figure. */
function withPaper(s: VariantStats, table: TableKey): VariantStats {
  const v = s.variant;
  let paper = s.paper;
  if (table === 'table5') paper = v.id === 'm2fn' ? { sprc: 0.63, lcc: 0.64, source: 'Table 5, AVA, {1,0,0,0,0}' } : { sprc: 0.617, lcc: 0.622, source: 'Table 5, AVA, VGG19' };
  if (table === 'table8') paper = v.id === 'm2fn' ? { sprc: 0.561, lcc: 0.53, source: 'Table 8 (ALL)' } : { sprc: 0.456, lcc: 0.435, source: 'Table 8 (None)' };
  return { ...s, paper };
}

function osLine(): string {
  return `${process.platform} ${process.arch}, ${availableParallelism()} cores, Node ${process.versions.node}, onnxruntime-node CPU execution provider`;
}
