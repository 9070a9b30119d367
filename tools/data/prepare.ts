// `m2fn prepare`: raw impression log → validated, aggregated, thresholded CTR dataset with an
// image-disjoint train/test split, written in the manifest format `ort-train` reads.
// Stages (each timed): ingest → malicious users → validate+aggregate (one pass over the log) →
// truth join → level merging → threshold → split → write rows → images → reports.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, extname, relative } from 'node:path';
import sharp from 'sharp';
import type { DuckDBConnection } from '@duckdb/node-api';
import { REAL_AD_SCHEMA, type AuxSchema } from '../../runtime/schema.ts';
import { openDuck, queryObjects, sqlIdent, sqlString } from './duck.ts';
import { csvDialect, ingestLog, LogInputError, type CsvDialect, type IngestInfo } from './ingest.ts';
import { validationSql, integerExpr, controlCharTablesSql } from './validate.ts';
import { REQUIRED_COLUMNS, INSTANCE_COLUMNS, CONTEXT_COLUMNS, USER_COLUMN } from './log-columns.ts';
import { planMerges, LEVEL_ORDER, type MergePlan } from './merge-levels.ts';
import { levelCounts } from './level-counts.ts';
import { attributeSelection, type SelectionEntry } from './selection.ts';
import { computeInsights, writeInsights, type Insights } from './insights.ts';
import { produceAtomic, produceDirAtomic, writeFileAtomic } from '../../runtime/atomic-write.ts';
import { FieldError } from '../../runtime/errors.ts';
import { assertDisjoint } from './paths.ts';
import { DEFAULT_MAX_PIXELS, rasterSource } from '../../runtime/image-node.ts';
import { checkIntegerOption, LIMITS } from '../../runtime/limits.ts';
import { mapBounded } from '../../runtime/scorer-common.ts';
import { writeDatasetJson } from './manifest.ts';
import { silentProgress, type StageProgress } from '../progress.ts';
import { mix32 } from '../../runtime/random.ts';

export interface PrepareOptions {
  logs: string[];
  images: string;
  out: string;
  /** Synthetic ground truth (truth.parquet from synth); optional. */
  truth?: string;
  minImpressions: number;
  /** Levels with fewer impressions are merged into the closest level (0 disables). */
  mergeBelow: number;
  testFraction: number;
  seed: number;
  imageSize: number;
  /** Malicious-user rule: users with at least this many impressions and at least this CTR. */
  botMinImpressions: number;
  botMinCtr: number;
  selectionAlpha: number;
  /** Skip copying images and writing rows (aggregation and reports only). */
  reportsOnly?: boolean;
  threads?: number;
  /** CSV quoting (default RFC 4180; tab-delimited for .tsv). Never sniffed from the data. */
  csv?: Partial<CsvDialect>;
}

/** What prepare writes in its output directory; anything else there is someone else's and stops it. */
const PREPARE_OUTPUTS = new Set(['dataset.json', 'train.jsonl', 'test.jsonl', 'images', 'report']);

export const DEFAULT_PREPARE: Omit<PrepareOptions, 'logs' | 'images' | 'out'> = {
  minImpressions: 100,
  mergeBelow: 50_000,
  testFraction: 0.2,
  seed: 1,
  imageSize: 224,
  botMinImpressions: 100,
  botMinCtr: 0.3,
  selectionAlpha: 0.05,
};

export interface Totals {
  rows: number;
  impressions: number;
  clicks: number;
}

export interface PrepareReport {
  input: { logs: string[]; format: string; hasUserId: boolean };
  raw: { rows: number; malformedLines: number; clicks: number; rowsWithUnparsedClick: number };
  rejected: { total: Totals; byReason: Record<string, { impressions: number; clicks: number }>; malformedExamples: string[] };
  valid: { impressions: number; clicks: number; instances: number };
  maliciousUsers: number | null;
  merges: Record<string, Record<string, string>>;
  belowThreshold: { instances: number; impressions: number; clicks: number };
  kept: { instances: number; impressions: number; clicks: number; images: number; also500plus: number };
  split: { train: { instances: number; images: number }; test: { instances: number; images: number } };
  truth: 'joined' | 'none' | 'incomplete';
  selection: SelectionEntry[];
  stages: Record<string, { seconds: number; rowsPerSecond?: number }>;
}

export interface PrepareResult {
  report: PrepareReport;
  insights: Insights;
  files: string[];
}

/** Categorical attributes of the Real-Ad schema, in order. */
const CATEGORICAL = REAL_AD_SCHEMA.attributes.filter((a) => a.kind === 'categorical').map((a) => a.name);

function imageFilesIn(dir: string): string[] {
  if (!existsSync(dir)) throw new LogInputError(`${dir}: images directory not found`);
  return readdirSync(dir).filter((f) => /\.(png|jpe?g|webp)$/i.test(f));
}

async function stage<T>(stages: PrepareReport['stages'], name: string, progress: StageProgress, rows: number | null, f: () => Promise<T>): Promise<T> {
  progress.stage(name);
  const t = performance.now();
  const r = await f();
  const seconds = (performance.now() - t) / 1000;
  stages[name] = rows === null ? { seconds } : { seconds, rowsPerSecond: Math.round(rows / seconds) };
  progress.done(rows === null ? undefined : `${Math.round(rows / seconds).toLocaleString('en')} rows/s`);
  return r;
}

/**
 * Validate and aggregate the log ingested as `raw_log` into `checked`: one row per
 * (reason, instance), where rejected rows keep only their reason. One pass groups identical raw
 * rows (the only per-row work); the rules then run once per group.
 */
export async function validateAndAggregate(conn: DuckDBConnection, info: IngestInfo, o: Pick<PrepareOptions, 'botMinImpressions' | 'botMinCtr'>, knownImages: string[], onStage?: (name: string) => void): Promise<{ maliciousUsers: number | null }> {
  await conn.run(`CREATE OR REPLACE TABLE known_images (image VARCHAR)`);
  if (knownImages.length) await conn.run(`INSERT INTO known_images VALUES ${knownImages.map((f) => `(${sqlString(f)})`).join(',')}`);
  let maliciousUsers: number | null = null;
  const clickedInt = integerExpr('clicked', info.columns.clicked);
  if (info.hasUserId) {
    // A user is malicious when they have many impressions and an implausibly high click rate,
    // counted over their rows whose click value is 0 or 1.
    onStage?.('malicious users');
    await conn.run(`CREATE OR REPLACE TABLE malicious_users AS
      SELECT ${sqlIdent(USER_COLUMN)} AS user_id FROM (SELECT ${sqlIdent(USER_COLUMN)}, ${clickedInt} AS c FROM raw_log)
      WHERE ${sqlIdent(USER_COLUMN)} IS NOT NULL AND c IN (0, 1)
      GROUP BY 1 HAVING count(*) >= ${o.botMinImpressions} AND avg(c) >= ${o.botMinCtr}`);
    maliciousUsers = Number((await queryObjects(conn, `SELECT count(*) AS n FROM malicious_users`))[0].n);
  }
  onStage?.('group raw rows');
  const rawCols = REQUIRED_COLUMNS.map((c) => sqlIdent(c.name)).join(', ');
  const flag = info.hasUserId ? `, ${sqlIdent(USER_COLUMN)} IN (SELECT user_id FROM malicious_users) AS malicious` : '';
  await conn.run(`CREATE OR REPLACE TABLE raw_groups AS SELECT ${rawCols}${flag}, count(*) AS n FROM raw_log GROUP BY ALL`);
  onStage?.('apply rules');
  const cc = controlCharTablesSql('raw_groups');
  for (const st of cc.statements) await conn.run(st);
  const v = validationSql({ columns: info.columns, knownImagesTable: 'known_images', hasMaliciousFlag: info.hasUserId, controlCharTables: cc.tables });
  const keep = INSTANCE_COLUMNS.map((c) => `CASE WHEN reason IS NULL THEN ${sqlIdent(`v_${c}`)} END AS ${sqlIdent(c)}`).join(', ');
  await conn.run(`CREATE OR REPLACE TABLE checked AS
    SELECT reason, ${keep}, sum(n) AS impressions, sum(n * coalesce(v_clicked, 0)) AS clicks, sum(n) FILTER (WHERE v_clicked IS NULL) AS unparsed_clicks
    FROM (SELECT *, ${v.reason} AS reason FROM (SELECT ${v.typed}, ${rawCols}${info.hasUserId ? ', malicious' : ''}, n FROM raw_groups))
    GROUP BY ALL`);
  await conn.run(`DROP TABLE raw_groups`);
  return { maliciousUsers };
}

/**
 * Everything about the options and the output directory that can be refused, before any work:
 * numbers in range, a CSV dialect that makes sense, an output that overlaps no input and holds
 * nothing prepare did not write (so replacing it loses nothing).
 */
function checkOptions(o: PrepareOptions): void {
  const bad = (m: string) => new LogInputError(`prepare: ${m}`);
  const int = (what: string, v: number, min: number, max: number) => {
    try {
      checkIntegerOption(what, v, min, max);
    } catch (e) {
      throw bad((e as Error).message);
    }
  };
  if (!(o.testFraction > 0 && o.testFraction < 1)) throw bad(`test fraction must be in (0, 1) (got ${o.testFraction})`);
  if (!(o.minImpressions >= 1)) throw bad(`min impressions must be ≥ 1 (got ${o.minImpressions})`);
  if (!(o.mergeBelow >= 0)) throw bad(`merge-below must be ≥ 0 (got ${o.mergeBelow})`);
  int('image size', o.imageSize, 8, 4096);
  int('seed', o.seed, -(2 ** 31), 2 ** 32 - 1);
  if (o.threads !== undefined) int('threads', o.threads, 1, LIMITS.threads);
  if (o.logs.some((l) => !/\.parquet$/i.test(l))) csvDialect(o.logs, o.csv);
  const inputs = [...o.logs.map((path) => ({ field: 'logs', path })), { field: 'images', path: o.images }, ...(o.truth ? [{ field: 'truth', path: o.truth }] : [])];
  assertDisjoint(outputTarget(o), inputs);
  if (existsSync(o.out)) {
    if (!statSync(o.out).isDirectory()) throw new FieldError('out', `${o.out} exists and is not a directory`);
    const foreign = o.reportsOnly ? [] : readdirSync(o.out).filter((f) => !PREPARE_OUTPUTS.has(f));
    if (foreign.length) {
      throw new FieldError('out', `${o.out} holds files prepare did not write (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); it replaces its output directory whole, so choose an empty or new one`);
    }
  }
}

/** The directory prepare replaces whole: the dataset, or with reportsOnly just its report folder. */
const outputTarget = (o: PrepareOptions) => (o.reportsOnly ? join(o.out, 'report') : o.out);

export async function prepare(o: PrepareOptions, progress: StageProgress = silentProgress): Promise<PrepareResult> {
  checkOptions(o);
  const knownImages = imageFilesIn(o.images);
  // Everything is written into a staging directory that replaces the output only when complete:
  // a failure at any stage leaves the previous output (or none), never half a dataset. With
  // reportsOnly the staged unit is the report folder, so a dataset beside it is left alone.
  const target = outputTarget(o);
  let stage = '';
  const result = await produceDirAtomic(target, (dir) => {
    stage = dir;
    return prepareInto(o, dir, o.reportsOnly ? dir : join(dir, 'report'), knownImages, progress);
  });
  return { ...result, files: result.files.map((f) => join(target, relative(stage, f))) };
}

/** The stages, writing the dataset into `outDir` and the reports into `reportDir` (both staged). */
async function prepareInto(o: PrepareOptions, outDir: string, reportDir: string, knownImages: string[], progress: StageProgress): Promise<PrepareResult> {
  const stages: PrepareReport['stages'] = {};
  const files: string[] = [];
  const duck = await openDuck({ threads: o.threads });
  const c = duck.conn;
  try {
    const info = await stage(stages, 'ingest', progress, null, () => ingestLog(c, o.logs, o.csv));
    const rawRows = Number((await queryObjects(c, `SELECT count(*) AS n FROM raw_log`))[0].n);
    // Sub-stage timings: the malicious-user pass and the grouping pass each read every row.
    let mark = performance.now();
    let current = '';
    const sub = (name: string) => {
      const now = performance.now();
      if (current) stages[`validate+aggregate/${current}`] = { seconds: (now - mark) / 1000, rowsPerSecond: Math.round(rawRows / ((now - mark) / 1000)) };
      current = name;
      mark = now;
    };
    const { maliciousUsers } = await stage(stages, 'validate+aggregate', progress, rawRows, () => validateAndAggregate(c, info, o, knownImages, sub));
    sub('');
    await c.run(`CREATE OR REPLACE TABLE instances AS SELECT * EXCLUDE (reason, unparsed_clicks) FROM checked WHERE reason IS NULL`);

    const rejectedRows = await queryObjects(c, `SELECT reason, sum(impressions)::DOUBLE AS impressions, sum(clicks)::DOUBLE AS clicks FROM checked WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC`);
    const byReason: PrepareReport['rejected']['byReason'] = {};
    for (const r of rejectedRows) byReason[String(r.reason)] = { impressions: Number(r.impressions), clicks: Number(r.clicks) };
    if (info.malformedLines) byReason.malformed_csv_line = { impressions: info.malformedLines, clicks: 0 };
    const [tot] = await queryObjects(c, `SELECT sum(impressions)::DOUBLE AS rows, sum(clicks)::DOUBLE AS clicks, sum(unparsed_clicks)::DOUBLE AS unparsed FROM checked`);
    const [val] = await queryObjects(c, `SELECT coalesce(sum(impressions), 0)::DOUBLE AS impressions, coalesce(sum(clicks), 0)::DOUBLE AS clicks, count(*)::DOUBLE AS instances FROM instances`);
    const rejectedTotal: Totals = { rows: 0, impressions: 0, clicks: 0 };
    for (const r of Object.values(byReason)) {
      rejectedTotal.impressions += r.impressions;
      rejectedTotal.clicks += r.clicks;
    }
    rejectedTotal.rows = rejectedTotal.impressions;

    // Selection and insights use every valid impression, before merging and thresholds.
    const selection = await stage(stages, 'attribute selection', progress, null, () =>
      attributeSelection(c, 'instances', REAL_AD_SCHEMA.attributes.map((a) => a.name), o.selectionAlpha));
    const insights = await stage(stages, 'insights', progress, null, () => computeInsights(c, 'instances'));

    let truthState: PrepareReport['truth'] = 'none';
    const truthJoin = o.truth !== undefined;
    await stage(stages, 'truth join', progress, null, async () => {
      if (!o.truth) {
        await c.run(`ALTER TABLE instances ADD COLUMN truth_sum DOUBLE`);
        return;
      }
      if (!existsSync(o.truth)) throw new LogInputError(`${o.truth}: truth file not found`);
      const key = ['image', ...CONTEXT_COLUMNS];
      await c.run(`CREATE OR REPLACE TABLE instances AS SELECT i.*, t.truth * i.impressions AS truth_sum
        FROM instances i LEFT JOIN (SELECT ${key.map(sqlIdent).join(', ')}, truth FROM read_parquet(${sqlString(o.truth)})) t
        USING (${key.map(sqlIdent).join(', ')})`);
    });

    const merges: Record<string, Record<string, string>> = {};
    const plans: Record<string, MergePlan> = {};
    await stage(stages, 'merge levels', progress, null, async () => {
      for (const name of CATEGORICAL) {
        const attr = REAL_AD_SCHEMA.attributes.find((a) => a.name === name)!;
        if (attr.kind !== 'categorical') continue;
        const counts = await levelCounts(c, 'instances', name, attr.levels);
        plans[name] = o.mergeBelow > 0 ? planMerges(counts.slice(0, attr.levels.length), LEVEL_ORDER[name] ?? 'none', o.mergeBelow) : { mapping: {}, kept: attr.levels };
        if (Object.keys(plans[name].mapping).length) merges[name] = plans[name].mapping;
      }
      const cols = INSTANCE_COLUMNS.map((name) => {
        const m = plans[name]?.mapping;
        const v = `${sqlIdent(name)}::VARCHAR`;
        const expr = m && Object.keys(m).length ? `CASE ${v} ${Object.entries(m).map(([from, to]) => `WHEN ${sqlString(from)} THEN ${sqlString(to)}`).join(' ')} ELSE ${v} END` : v;
        return `${expr} AS ${sqlIdent(name)}`;
      });
      await c.run(`CREATE OR REPLACE TABLE merged AS SELECT ${cols.join(', ')}, sum(impressions)::BIGINT AS impressions, sum(clicks)::BIGINT AS clicks,
        sum(truth_sum) AS truth_sum, count(*) FILTER (WHERE truth_sum IS NULL) AS truth_missing
        FROM instances GROUP BY ALL`);
    });

    const [below] = await queryObjects(c, `SELECT count(*)::DOUBLE AS instances, coalesce(sum(impressions), 0)::DOUBLE AS impressions, coalesce(sum(clicks), 0)::DOUBLE AS clicks FROM merged WHERE impressions < ${o.minImpressions}`);
    await c.run(`CREATE OR REPLACE TABLE kept AS SELECT * FROM merged WHERE impressions >= ${o.minImpressions}`);
    const [kept] = await queryObjects(c, `SELECT count(*)::DOUBLE AS instances, coalesce(sum(impressions), 0)::DOUBLE AS impressions, coalesce(sum(clicks), 0)::DOUBLE AS clicks,
      count(DISTINCT image)::DOUBLE AS images, count(*) FILTER (WHERE impressions >= 500)::DOUBLE AS p500, count(*) FILTER (WHERE truth_missing > 0)::DOUBLE AS truth_missing FROM kept`);
    if (truthJoin) truthState = Number(kept.truth_missing) > 0 ? 'incomplete' : 'joined';

    // Split by image: order images by a seeded hash; the first share goes to test.
    const images = (await queryObjects(c, `SELECT DISTINCT image FROM kept ORDER BY image`)).map((r) => String(r.image));
    const hashOf = (s: string) => {
      let h = mix32(o.seed);
      for (let i = 0; i < s.length; i++) h = mix32(h ^ s.charCodeAt(i));
      return h;
    };
    const ordered = [...images].sort((a, b) => hashOf(a) - hashOf(b) || (a < b ? -1 : 1));
    const nTest = images.length >= 2 ? Math.max(1, Math.min(images.length - 1, Math.round(images.length * o.testFraction))) : 0;
    const testImages = new Set(ordered.slice(0, nTest));
    await c.run(`CREATE OR REPLACE TABLE test_images (image VARCHAR)`);
    if (testImages.size) await c.run(`INSERT INTO test_images VALUES ${[...testImages].map((f) => `(${sqlString(f)})`).join(',')}`);
    const split = { train: { instances: 0, images: images.length - testImages.size }, test: { instances: 0, images: testImages.size } };

    const auxSchema: AuxSchema = {
      name: REAL_AD_SCHEMA.name,
      attributes: REAL_AD_SCHEMA.attributes.map((a) => (a.kind === 'categorical' && plans[a.name] ? { ...a, levels: plans[a.name].kept } : a)),
    };

    if (!o.reportsOnly) {
      await stage(stages, 'write rows', progress, Number(kept.instances), async () => {
        const attrs = REAL_AD_SCHEMA.attributes.map((a) => `${sqlString(a.name)}: ${sqlIdent(a.name)}`).join(', ');
        const withTruth = truthState === 'joined' ? `, truth_sum / impressions AS truth` : '';
        const stem = `regexp_replace(image, '\\.[A-Za-z]+$', '')`;
        for (const [name, cond] of [['train', 'NOT IN'], ['test', 'IN']] as const) {
          const file = join(outDir, `${name}.jsonl`);
          await produceAtomic(file, async (tmp) => {
            await c.run(`COPY (SELECT ${stem} || '#' || row_number() OVER (PARTITION BY image ORDER BY ${INSTANCE_COLUMNS.slice(1).map(sqlIdent).join(', ')}) AS id,
                'images/' || image AS image, {${attrs}} AS attributes, clicks / impressions AS ctr, impressions, clicks${withTruth}
              FROM kept WHERE image ${cond} (SELECT image FROM test_images) ORDER BY image, id) TO ${sqlString(tmp)} (FORMAT json)`);
          });
          split[name].instances = Number((await queryObjects(c, `SELECT count(*) AS n FROM kept WHERE image ${cond} (SELECT image FROM test_images)`))[0].n);
          files.push(file);
        }
      });
      await stage(stages, 'images', progress, images.length, async () => {
        const dir = join(outDir, 'images');
        mkdirSync(dir, { recursive: true });
        let done = 0;
        await mapBounded(images, 4, async (f) => {
          const path = join(o.images, f);
          // The runtime's checks (a regular file, a raster format, a pixel limit), and the file
          // named when it does not decode.
          const { src } = await rasterSource(path, DEFAULT_MAX_PIXELS);
          const img = sharp(src, { limitInputPixels: DEFAULT_MAX_PIXELS }).resize(o.imageSize, o.imageSize, { fit: 'fill' }).removeAlpha();
          const ext = extname(f).toLowerCase();
          const bytes = await (ext === '.png' ? img.png() : ext === '.webp' ? img.webp() : img.jpeg({ quality: 92 })).toBuffer().catch((e: Error) => {
            throw new LogInputError(`${path}: not a decodable image (${e.message})`, { cause: e });
          });
          writeFileAtomic(join(dir, f), bytes);
          progress.step(++done, images.length);
        });
      });
    }

    const report: PrepareReport = {
      input: { logs: o.logs, format: info.format, hasUserId: info.hasUserId },
      raw: { rows: Number(tot.rows) + info.malformedLines, malformedLines: info.malformedLines, clicks: Number(tot.clicks), rowsWithUnparsedClick: Number(tot.unparsed) },
      rejected: { total: rejectedTotal, byReason, malformedExamples: info.malformedExamples },
      valid: { impressions: Number(val.impressions), clicks: Number(val.clicks), instances: Number(val.instances) },
      maliciousUsers,
      merges,
      belowThreshold: { instances: Number(below.instances), impressions: Number(below.impressions), clicks: Number(below.clicks) },
      kept: { instances: Number(kept.instances), impressions: Number(kept.impressions), clicks: Number(kept.clicks), images: Number(kept.images), also500plus: Number(kept.p500) },
      split,
      truth: truthState,
      selection,
      stages,
    };
    writeFileAtomic(join(reportDir, 'prepare.json'), JSON.stringify(report, null, 1) + '\n');
    files.push(join(reportDir, 'prepare.json'), ...(await writeInsights(reportDir, insights)));
    if (!o.reportsOnly) {
      writeDatasetJson(outDir, {
        auxSchema,
        target: 'ctr',
        splits: { train: 'train.jsonl', test: 'test.jsonl' },
        source: {
          generator: 'm2fn prepare', logs: o.logs, truth: o.truth ?? null, seed: o.seed, minImpressions: o.minImpressions, mergeBelow: o.mergeBelow,
          levelMerges: merges, testFraction: o.testFraction, imageSize: o.imageSize, maliciousUserRule: { minImpressions: o.botMinImpressions, minCtr: o.botMinCtr },
          counts: { raw: report.raw, rejected: report.rejected.total, kept: report.kept, split },
        },
      });
      files.push(join(outDir, 'dataset.json'));
    }
    return { report, insights, files };
  } finally {
    duck.close();
  }
}

export { USER_COLUMN };
