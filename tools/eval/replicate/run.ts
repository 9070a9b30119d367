// The replication runner: builds the protocol's datasets (or takes prepared ones), then trains
// and evaluates every variant on every seed, one job at a time, keeping each result as JSON so
// an interrupted run resumes where it stopped. The report is written by report.ts from these.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultConfig, type ModelConfig } from '../../../graph/models/config.ts';
import { DEFAULT_OPTIMIZER } from '../../../graph/training/optimizers.ts';
import { encodeAttributesBatch } from '../../../runtime/attributes.ts';
import { HashingTextEncoder } from '../../../runtime/hashing-text-encoder.ts';
import { auxDim, type AuxSchema } from '../../../runtime/schema.ts';
import { writeFileAtomic } from '../../../runtime/atomic-write.ts';
import { readDatasetJson, readManifest, type LoadedSplit } from '../../data/manifest.ts';
import { prepare, DEFAULT_PREPARE } from '../../data/prepare.ts';
import { synthesize, DEFAULT_SYNTH } from '../../data/synth.ts';
import { linkTarget, linkToCtr } from '../../train/log-odds.ts';
import { train } from '../../train/train.ts';
import { fitLinear } from '../baselines/linear.ts';
import { fitMlp } from '../baselines/mlp.ts';
import { fitSvrPoly, fitSvrRbf } from '../baselines/svr.ts';
import type { Regressor } from '../baselines/types.ts';
import { deriveDataset } from '../derive.ts';
import { summarize, targetsOf, type EvalSummary } from '../evaluate.ts';
import { mse } from '../metrics.ts';
import { evaluateModel } from '../score-model.ts';
import type { ImageSensitivity } from '../sensitivity.ts';
import type { DatasetKey } from './paper.ts';
import { rowWeights, variantLoss, type Protocol, type Variant } from './protocol.ts';

export interface SeedResult {
  variant: string;
  dataset: DatasetKey;
  seed: number;
  fingerprint: string;
  /** Test-row predictions in the order of the dataset's test split. */
  predicted: number[];
  predictedStd?: number[];
  summary: EvalSummary;
  /** Trained variants (they see images, blank or not): the image sensitivity on the test split (sensitivity.ts). */
  imageSensitivity?: ImageSensitivity;
  seconds: { fit: number; eval: number };
  /** Free-form facts, e.g. the ridge a linear baseline chose, or steps trained. */
  info: Record<string, unknown>;
}

export interface DatasetInfo {
  key: DatasetKey;
  /** The dataset every variant of this key trains on (text dims already at the protocol's). */
  dir: string;
  /** The prepared dataset it was derived from. */
  source: string;
  trainRows: number;
  testRows: number;
  testImages: number;
  testIds: string[];
}

export interface ReplicateOptions {
  protocol: Protocol;
  /** Work directory: datasets, runs, per-seed results. */
  work: string;
  /** Prepared datasets to use instead of synthesizing the protocol's world. */
  data?: Partial<Record<DatasetKey, string>>;
  threads?: number;
  /** Execution provider for training and scoring (default cpu). */
  ep?: 'cpu' | 'webgpu' | 'cuda';
  /** Keep each run's checkpoints and image cache (default: only inference.onnx and logs stay). */
  keepRuns?: boolean;
  log?: (line: string) => void;
}

export interface ReplicateRun {
  protocol: Protocol;
  datasets: Record<string, DatasetInfo>;
  results: SeedResult[];
  /** This invocation's wall time; `earlier`: the results it kept from earlier invocations and the seconds they took then. */
  seconds: { data: number; variants: number; total: number; earlier: { results: number; seconds: number } };
  /** Variants that failed, with the error; the report lists them. */
  failures: { variant: string; dataset: DatasetKey; seed: number; error: string }[];
}

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** What a result depends on: the variant, the seed, the model size, the schedule, the dataset. */
function fingerprint(p: Protocol, v: Variant, seed: number, data: DatasetInfo): string {
  return hash({ v: { ...v, paper: undefined, label: undefined, seeds: undefined }, seed, model: p.model, schedule: p.schedule[v.dataset], textDim: p.textDim, data: data.source, resamples: p.resamples });
}

async function buildDatasets(o: ReplicateOptions, say: (s: string) => void): Promise<Record<string, DatasetInfo>> {
  const p = o.protocol;
  const out: Record<string, DatasetInfo> = {};
  const prepared: Partial<Record<DatasetKey, string>> = { ...o.data };
  for (const k of p.datasets.filter((d) => !prepared[d])) {
    const w = p.worlds[k];
    const world = join(o.work, `world-${w.images}-${w.impressions}-${w.seed}`);
    if (!existsSync(join(world, 'truth.parquet'))) {
      say(`synthesizing a world (${w.images} ads, ${w.impressions.toLocaleString('en')} impressions) in ${world}`);
      await synthesize({ ...DEFAULT_SYNTH, out: world, seed: w.seed, images: w.images, impressions: w.impressions });
    }
    const dir = join(o.work, `data-${k === '100+' ? 100 : 500}`);
    if (!existsSync(join(dir, 'dataset.json'))) {
      say(`preparing ${k} in ${dir}`);
      await prepare({
        ...DEFAULT_PREPARE, logs: [join(world, 'impressions.parquet')], images: join(world, 'images'), truth: join(world, 'truth.parquet'), out: dir,
        minImpressions: k === '100+' ? 100 : 500, mergeBelow: w.mergeBelow, seed: w.seed, imageSize: w.imageSize,
      });
    }
    prepared[k] = dir;
  }
  for (const k of p.datasets) {
    const src = resolve(prepared[k]!);
    const ds = readDatasetJson(src);
    const needsDim = ds.auxSchema.attributes.some((a) => a.kind === 'text' && a.dim !== p.textDim);
    let dir = src;
    if (needsDim) {
      dir = join(o.work, 'derived', `${k === '100+' ? 100 : 500}-t${p.textDim}`);
      if (!existsSync(join(dir, 'dataset.json')) || readDatasetJson(dir).source.derivedFrom !== src) await deriveDataset(src, dir, { textDim: p.textDim, note: 'protocol text dim' });
    }
    const train = readManifest(dir, 'train');
    const test = readManifest(dir, 'test');
    out[k] = { key: k, dir, source: src, trainRows: train.rows.length, testRows: test.rows.length, testImages: new Set(test.rows.map((r) => r.image)).size, testIds: test.rows.map((r) => r.id) };
    say(`${k}: ${train.rows.length} training rows, ${test.rows.length} test rows (${out[k].testImages} unseen images) from ${src}`);
  }
  return out;
}

function textEncoderFor(schema: AuxSchema): HashingTextEncoder {
  const t = schema.attributes.find((a) => a.kind === 'text');
  return new HashingTextEncoder({ dim: t && t.kind === 'text' ? t.dim : 768 });
}

async function auxRows(split: LoadedSplit): Promise<Float32Array[]> {
  const schema = split.dataset.auxSchema;
  const D = auxDim(schema);
  const flat = await encodeAttributesBatch(schema, split.rows.map((r) => r.attributes), textEncoderFor(schema));
  return split.rows.map((_, i) => flat.subarray(i * D, (i + 1) * D));
}

/** Linear regression with its ridge picked on a seeded 10% hold-out of the training rows (weighted MSE). */
function fitLinearTuned(X: Float32Array[], y: number[], w: number[], seed: number): { model: Regressor; ridge: number } {
  const n = X.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ((a * 2654435761 + seed) >>> 0) % 1000003 - (((b * 2654435761 + seed) >>> 0) % 1000003));
  const held = new Set(order.slice(0, Math.max(2, Math.round(n * 0.1))));
  const tr = [...Array(n).keys()].filter((i) => !held.has(i));
  const va = [...held];
  let best = { ridge: 1e-6, loss: Infinity };
  for (const ridge of [1e-6, 1e-3, 1e-2, 1e-1, 1, 10]) {
    const m = fitLinear(tr.map((i) => X[i]), tr.map((i) => y[i]), tr.map((i) => w[i]), { ridge });
    const p = m.predict(va.map((i) => X[i]));
    let s = 0;
    let ws = 0;
    va.forEach((i, k) => {
      s += w[i] * (p[k] - y[i]) ** 2;
      ws += w[i];
    });
    if (s / ws < best.loss) best = { ridge, loss: s / ws };
  }
  return { model: fitLinear(X, y, w, { ridge: best.ridge }), ridge: best.ridge };
}

async function runBaseline(p: Protocol, v: Variant, seed: number, data: DatasetInfo, cache: Map<string, { X: Float32Array[]; Xt: Float32Array[]; train: LoadedSplit; test: LoadedSplit }>) {
  let c = cache.get(data.dir);
  if (!c) {
    const train = readManifest(data.dir, 'train');
    const test = readManifest(data.dir, 'test');
    c = { X: await auxRows(train), Xt: await auxRows(test), train, test };
    cache.set(data.dir, c);
  }
  // The baselines fit what the trained variants regress (the CTR or its log-odds) and predict CTRs.
  const ctr = c.train.rows.map((r) => r.ctr!);
  const y = c.train.rows.map((r) => linkTarget(p.model.link, { ctr: r.ctr!, impressions: r.impressions }, `${data.dir} row ${r.id}`));
  const toCtr = (pred: Float64Array) => pred.map((z) => linkToCtr(p.model.link, z));
  const w = rowWeights(p.schedule[v.dataset], c.train.rows);
  const info: Record<string, unknown> = {};
  let model: Regressor;
  switch (v.baseline) {
    case 'linear': {
      const f = fitLinearTuned(c.X, y, w, seed);
      model = f.model;
      info.ridge = f.ridge;
      break;
    }
    case 'svr-rbf':
      model = fitSvrRbf(c.X, y); // libsvm has no sample weights
      break;
    case 'svr-poly':
      model = fitSvrPoly(c.X, y);
      break;
    case 'mlp': {
      const m = await fitMlp(c.X, y, w, { seed });
      info.bestEpoch = m.bestEpoch;
      info.epochs = m.log.length;
      model = m;
      break;
    }
    default:
      throw new Error(`unknown baseline ${v.baseline}`);
  }
  const predicted = toCtr(model.predict(c.Xt));
  info.trainMse = mse(toCtr(model.predict(c.X)), ctr);
  (model as { free?: () => void }).free?.();
  return { predicted, predictedStd: undefined as Float64Array | undefined, info, test: c.test };
}

export function configFor(p: Protocol, v: Variant, schema: AuxSchema, seed: number): ModelConfig {
  const base = defaultConfig(v.model ?? 'm2fn');
  const modules = v.modules ?? base.modules;
  return {
    ...base,
    size: p.model.size,
    width: p.model.width,
    backboneNorm: p.model.backboneNorm,
    headHidden: p.model.headHidden,
    fuseDim: p.model.fuseDim,
    attHidden: p.model.attHidden,
    cbnHidden: p.model.cbnHidden,
    modules,
    cbnPlacement: v.cbnPlacement ?? base.cbnPlacement,
    output: v.output ?? base.output,
    link: (v.output ?? base.output) === 'regression' ? p.model.link : 'identity',
    dropout: base.model === 'nima' ? base.dropout : p.model.dropout,
    auxSchema: modules.aux ? schema : null,
    auxCross: modules.aux ? p.model.auxCross : 0,
    auxCrossAttributes: modules.aux && p.model.auxCross > 0 ? schema.attributes.map((a) => a.name).filter((n) => !p.model.notCrossed.includes(n)) : null,
    seed,
  };
}

async function runTrained(o: ReplicateOptions, v: Variant, seed: number, data: DatasetInfo) {
  const p = o.protocol;
  let dir = data.dir;
  if (v.drop?.length || v.blankImage) {
    dir = join(o.work, 'derived', `${v.dataset === '100+' ? 100 : 500}-${v.id}`);
    if (!existsSync(join(dir, 'dataset.json'))) await deriveDataset(data.dir, dir, { drop: v.drop, blankImage: v.blankImage, note: v.label });
  }
  const ds = readDatasetJson(dir);
  const config = configFor(p, v, ds.auxSchema, seed);
  const s = p.schedule[v.dataset];
  const runDir = join(o.work, 'runs', v.dataset === '100+' ? '100' : '500', v.id, `seed-${seed}`);
  const loss = variantLoss(v, s, config.output);
  const t0 = performance.now();
  const n = readManifest(dir, 'train').rows.length;
  const steps = Math.ceil(n / s.batchSize) * s.epochs;
  const result = await train({
    data: dir, out: runDir, config, loss, optimizer: { ...DEFAULT_OPTIMIZER }, lr: s.lr,
    schedule: { kind: 'cosine', warmup: Math.min(s.warmupSteps, Math.floor(steps / 4)) },
    epochs: s.epochs, batchSize: s.batchSize, seed, ep: o.ep ?? 'cpu', threads: o.threads, mode: 'fused',
    validation: { kind: 'none' }, patience: 0, selectBy: 'loss', resume: false, force: true, checkpointEvery: 0,
    standardizeTargets: s.standardizeTargets,
    freezeBackboneEpochs: 0, textEncoder: textEncoderFor(ds.auxSchema), quiet: true,
  });
  const fit = (performance.now() - t0) / 1000;
  if (!o.keepRuns) {
    rmSync(join(runDir, 'checkpoints'), { recursive: true, force: true });
    rmSync(join(runDir, 'cache'), { recursive: true, force: true });
  }
  const { predictions, report } = await evaluateModel(runDir, dir, { split: 'test', resamples: 1, load: { ep: o.ep ?? 'cpu', threads: o.threads } });
  const test = readManifest(dir, 'test');
  return { predicted: predictions.predicted, predictedStd: predictions.predictedStd, imageSensitivity: report.imageSensitivity, info: { steps: result.steps, finalTrainLoss: result.log.at(-1)?.trainLoss, fitSeconds: fit }, test };
}

/** Runs (or resumes) every variant × seed of the protocol. */
export async function replicate(o: ReplicateOptions): Promise<ReplicateRun> {
  const say = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const t0 = performance.now();
  mkdirSync(o.work, { recursive: true });
  const datasets = await buildDatasets(o, say);
  const tData = performance.now();
  // Data-stage time accumulates in the work directory, so a resumed run can still state the whole cost.
  const dataTimeFile = join(o.work, 'data-seconds.json');
  const earlierData = existsSync(dataTimeFile) ? (JSON.parse(readFileSync(dataTimeFile, 'utf8')) as { seconds: number }).seconds : 0;
  writeFileAtomic(dataTimeFile, JSON.stringify({ seconds: earlierData + (tData - t0) / 1000 }) + '\n');
  const earlier = { results: 0, seconds: earlierData };
  const p = o.protocol;
  const results: SeedResult[] = [];
  const failures: ReplicateRun['failures'] = [];
  const cache = new Map();
  const jobs = p.variants.flatMap((v) => v.seeds.map((seed) => ({ v, seed })));
  let done = 0;
  for (const { v, seed } of jobs) {
    done++;
    const data = datasets[v.dataset];
    const file = join(o.work, 'results', v.dataset === '100+' ? '100' : '500', v.id, `seed-${seed}.json`);
    const fp = fingerprint(p, v, seed, data);
    if (existsSync(file)) {
      const r = JSON.parse(readFileSync(file, 'utf8')) as SeedResult;
      if (r.fingerprint === fp) {
        results.push(r);
        earlier.results++;
        earlier.seconds += r.seconds.fit + r.seconds.eval;
        say(`[${done}/${jobs.length}] ${v.dataset} ${v.id} seed ${seed}: kept from an earlier run (SPRC ${r.summary.overall.sprc.estimate.toFixed(3)})`);
        continue;
      }
    }
    const started = performance.now();
    try {
      const r = v.kind === 'baseline' ? await runBaseline(o.protocol, v, seed, data, cache) : await runTrained(o, v, seed, data);
      const fitSeconds = (performance.now() - started) / 1000;
      const ids = r.test.rows.map((x) => x.id);
      if (ids.length !== data.testIds.length || ids.some((id, i) => id !== data.testIds[i])) throw new Error(`test rows of ${v.id} differ from the dataset's`);
      const te = performance.now();
      const targets = targetsOf(readManifest(data.dir, 'test'));
      const summary = summarize({ ...targets, predicted: r.predicted }, readDatasetJson(data.dir).auxSchema, { resamples: p.resamples, seed: 0 });
      const res: SeedResult = {
        variant: v.id, dataset: v.dataset, seed, fingerprint: fp,
        predicted: Array.from(r.predicted), predictedStd: r.predictedStd ? Array.from(r.predictedStd) : undefined,
        summary, ...('imageSensitivity' in r && r.imageSensitivity ? { imageSensitivity: r.imageSensitivity } : {}), seconds: { fit: fitSeconds, eval: (performance.now() - te) / 1000 }, info: r.info,
      };
      writeFileAtomic(file, JSON.stringify(res) + '\n');
      results.push(res);
      const elapsed = (performance.now() - t0) / 1000;
      say(`[${done}/${jobs.length}] ${v.dataset} ${v.id} seed ${seed}: SPRC ${summary.overall.sprc.estimate.toFixed(3)}, LCC ${summary.overall.lcc.estimate.toFixed(3)} (${fitSeconds.toFixed(0)} s; ${(elapsed / 60).toFixed(1)} min so far)`);
    } catch (e) {
      const error = (e as Error).message;
      failures.push({ variant: v.id, dataset: v.dataset, seed, error });
      say(`[${done}/${jobs.length}] ${v.dataset} ${v.id} seed ${seed}: FAILED: ${error}`);
    }
  }
  const end = performance.now();
  return { protocol: p, datasets, results, failures, seconds: { data: (tData - t0) / 1000, variants: (end - tData) / 1000, total: (end - t0) / 1000, earlier } };
}
