// `m2fn synth`: a seeded synthetic ad world. TypeScript draws the world and the distinct
// instances (attributes, impression count, ground-truth CTR); DuckDB expands the instances into
// one row per impression with hashed Bernoulli clicks and writes Parquet (snappy, readable by
// hyparquet and most tools) and optionally CSV.
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDuck, sqlString } from './duck.ts';
import { produceAtomic, writeFileAtomic, tempPathFor } from '../../runtime/atomic-write.ts';
import { Categorical, Rng } from '../../runtime/random.ts';
import { DEFAULT_STRENGTHS, EFFECTS, BASE_LOGIT, truthCtr, type EffectStrengths, type InstanceKey } from './truth.ts';
import { generateWorld, TRAFFIC, type World } from './world.ts';
import { renderAd } from './render.ts';
import { silentProgress, type StageProgress } from '../progress.ts';

export interface SynthOptions {
  out: string;
  seed: number;
  images: number;
  impressions: number;
  imageSize: number;
  imageFormat: 'png' | 'jpeg';
  strengths: EffectStrengths;
  /** Impressions per instance: discrete Pareto with this tail index and minimum, capped. */
  instanceAlpha: number;
  instanceMin: number;
  instanceMax: number;
  /** Share of rows from malicious users (bots clicking half the time). */
  botFraction: number;
  /** Share of rows with a deliberately invalid field (one per rejection reason in turn). */
  corruptFraction: number;
  csv: boolean;
  /** Skip rendering (logs only), e.g. for the scale benchmark. */
  renderImages: boolean;
}

export const DEFAULT_SYNTH: Omit<SynthOptions, 'out'> = {
  seed: 1,
  images: 300,
  impressions: 1_000_000,
  imageSize: 224,
  imageFormat: 'png',
  strengths: DEFAULT_STRENGTHS,
  instanceAlpha: 1.25,
  instanceMin: 10,
  instanceMax: 20_000,
  botFraction: 0.002,
  corruptFraction: 0.0005,
  csv: false,
  renderImages: true,
};

export interface SynthResult {
  rows: number;
  cleanRows: number;
  botRows: number;
  corruptRows: number;
  instances: number;
  clicks: number;
  seconds: { world: number; render: number; instances: number; log: number; csv: number };
  files: string[];
}

/** The corruptions synth plants, in turn; prepare must reject each with the matching reason. */
export const PLANTED_CORRUPTIONS = ['age_out_of_range', 'hour_out_of_range', 'gender_missing', 'image_unknown', 'clicked_out_of_range', 'position_out_of_range'] as const;

const BOT_USER_BASE = 9_000_000;
const BOT_USERS = 20;
const USERS_PER_DEMOGRAPHIC = 100_000;

interface DrawnInstance extends InstanceKey {
  n: number;
  truth: number;
}

/** Distinct instances with heavy-tailed impression counts summing exactly to `total`. */
export function drawInstances(world: World, total: number, o: Pick<SynthOptions, 'seed' | 'strengths' | 'instanceAlpha' | 'instanceMin' | 'instanceMax'>, progress: StageProgress = silentProgress): DrawnInstance[] {
  const rng = new Rng(o.seed * 31 + 7);
  const imageDist = new Categorical(world.images.map((im) => im.popularity));
  const d = {
    gender: new Categorical(TRAFFIC.gender), age: new Categorical(TRAFFIC.age), month: new Categorical(TRAFFIC.month),
    weekday: new Categorical(TRAFFIC.weekday), hour: new Categorical(TRAFFIC.hour), position: new Categorical(TRAFFIC.position),
  };
  const byKey = new Map<number, DrawnInstance>();
  let sum = 0;
  while (sum < total) {
    const k: InstanceKey = {
      image: imageDist.sample(rng.next()),
      gender: d.gender.sample(rng.next()) + 1,
      age: d.age.sample(rng.next()) + 1,
      month: d.month.sample(rng.next()) + 1,
      weekday: d.weekday.sample(rng.next()) + 1,
      hour: d.hour.sample(rng.next()),
      position: d.position.sample(rng.next()) + 1,
    };
    let n = Math.min(o.instanceMax, Math.floor(o.instanceMin * Math.max(rng.next(), 1e-12) ** (-1 / o.instanceAlpha)));
    n = Math.min(n, total - sum);
    sum += n;
    // A mixed-radix code of the key; duplicates pool their impressions (same instance, same truth).
    const code = ((((k.image * 2 + k.gender - 1) * 9 + k.age - 1) * 12 + k.month - 1) * 7 + k.weekday - 1) * 24 * 4 + k.hour * 4 + k.position - 1;
    const existing = byKey.get(code);
    if (existing) existing.n += n;
    else byKey.set(code, { ...k, n, truth: truthCtr(world.images[k.image], k, o.seed, o.strengths) });
    if (byKey.size % 50_000 === 0) progress.step(sum, total);
  }
  return [...byKey.values()];
}

export async function synthesize(opts: SynthOptions, progress: StageProgress = silentProgress): Promise<SynthResult> {
  if (!(opts.impressions >= 1)) throw new Error(`synth: impressions must be ≥ 1 (got ${opts.impressions})`);
  if (!(opts.images >= 1)) throw new Error(`synth: images must be ≥ 1 (got ${opts.images})`);
  const t0 = performance.now();
  const secs = { world: 0, render: 0, instances: 0, log: 0, csv: 0 };
  mkdirSync(opts.out, { recursive: true });
  progress.stage('world');
  const world = generateWorld(opts.seed, opts.images);
  const ext = opts.imageFormat === 'png' ? 'png' : 'jpg';
  for (const im of world.images) im.file = im.file.replace(/\.png$/, `.${ext}`);
  writeFileAtomic(join(opts.out, 'world.json'), JSON.stringify({
    format: 'm2fn-synthetic-world/1', seed: opts.seed, options: { ...opts, out: undefined },
    truth: { baseLogit: BASE_LOGIT, effects: EFFECTS, strengths: opts.strengths }, images: world.images,
  }, null, 1));
  secs.world = (performance.now() - t0) / 1000;

  if (opts.renderImages) {
    progress.stage(`render ${world.images.length} images`);
    const t = performance.now();
    const dir = join(opts.out, 'images');
    mkdirSync(dir, { recursive: true });
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < world.images.length) {
        const spec = world.images[next++];
        writeFileAtomic(join(dir, spec.file), await renderAd(spec, opts.imageSize, opts.imageFormat));
        progress.step(++done, world.images.length);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    secs.render = (performance.now() - t) / 1000;
    progress.done();
  }

  const botRows = Math.round(opts.impressions * opts.botFraction);
  const corruptRows = Math.round(opts.impressions * opts.corruptFraction);
  const cleanRows = opts.impressions - botRows - corruptRows;
  if (cleanRows < 1) throw new Error('synth: bot and corrupt fractions leave no clean rows');
  progress.stage('draw instances');
  let t = performance.now();
  const instances = drawInstances(world, cleanRows, opts, progress);
  secs.instances = (performance.now() - t) / 1000;
  progress.done(`${instances.length} instances`);

  progress.stage(`write ${opts.impressions} impression rows`);
  t = performance.now();
  const duck = await openDuck();
  const tmpFiles: string[] = [];
  try {
    const c = duck.conn;
    const instCsv = tempPathFor(join(opts.out, 'instances.csv'));
    tmpFiles.push(instCsv);
    const lines = ['instance_id,image,gender,age,month,weekday,hour,position,n,truth'];
    instances.forEach((x, i) => lines.push(`${i},${x.image},${x.gender},${x.age},${x.month},${x.weekday},${x.hour},${x.position},${x.n},${x.truth}`));
    writeFileSync(instCsv, lines.join('\n'));
    await c.run(`CREATE TABLE instances AS SELECT * FROM read_csv(${sqlString(instCsv)}, header=true, columns={
      'instance_id':'INTEGER','image':'INTEGER','gender':'SMALLINT','age':'SMALLINT','month':'SMALLINT','weekday':'SMALLINT',
      'hour':'SMALLINT','position':'SMALLINT','n':'INTEGER','truth':'DOUBLE'})`);
    await c.run(`CREATE TABLE items (image INTEGER, file VARCHAR, cate2 SMALLINT, cate3 SMALLINT, title VARCHAR, "desc" VARCHAR, ocr VARCHAR, domcol VARCHAR)`);
    const values = world.images.map((im) => `(${im.index}, ${sqlString(im.file)}, ${im.cate2}, ${im.cate3}, ${sqlString(im.title)}, ${sqlString(im.desc)}, ${sqlString(im.catchphrase)}, ${sqlString(im.colour)})`);
    await c.run(`INSERT INTO items VALUES ${values.join(',')}`);
    const seed = Number(opts.seed) | 0;
    const unit = (parts: string) => `(hash(${seed}, ${parts})::DOUBLE / 18446744073709551616.0)`;
    // Clean impressions: each instance expanded to n rows; a user id consistent with gender/age.
    const clean = `SELECT it.file AS image, i.gender, i.age, i.month, i.weekday, i.hour, i.position, it.cate2, it.cate3, it.title, it."desc", it.ocr, it.domcol,
        (((i.gender - 1) * 9 + i.age - 1) * ${USERS_PER_DEMOGRAPHIC} + floor(${USERS_PER_DEMOGRAPHIC} * pow(${unit("'user', i.instance_id, i.j")}, 3)))::INTEGER AS user_id,
        (${unit("'click', i.instance_id, i.j")} < i.truth)::TINYINT AS clicked
      FROM (SELECT *, unnest(range(n)) AS j FROM instances) i JOIN items it ON it.image = i.image`;
    const M = instances.length;
    // Bots: copy a random instance's attributes, click half the time.
    const bots = `SELECT it.file AS image, i.gender, i.age, i.month, i.weekday, i.hour, i.position, it.cate2, it.cate3, it.title, it."desc", it.ocr, it.domcol,
        (${BOT_USER_BASE} + b.k % ${BOT_USERS})::INTEGER AS user_id, (${unit("'bot', b.k")} < 0.5)::TINYINT AS clicked
      FROM range(${botRows}) b(k) JOIN instances i ON i.instance_id = hash(${seed}, 'bot-instance', b.k) % ${M} JOIN items it ON it.image = i.image`;
    // Corrupt rows: one planted fault each, cycling through PLANTED_CORRUPTIONS.
    const r = (reason: string) => PLANTED_CORRUPTIONS.indexOf(reason as (typeof PLANTED_CORRUPTIONS)[number]);
    const corrupt = `SELECT CASE WHEN q.k % 6 = ${r('image_unknown')} THEN 'missing-' || q.k || '.png' ELSE it.file END AS image,
        CASE WHEN q.k % 6 = ${r('gender_missing')} THEN NULL ELSE i.gender END AS gender,
        CASE WHEN q.k % 6 = ${r('age_out_of_range')} THEN 0 ELSE i.age END AS age, i.month, i.weekday,
        CASE WHEN q.k % 6 = ${r('hour_out_of_range')} THEN 24 ELSE i.hour END AS hour,
        CASE WHEN q.k % 6 = ${r('position_out_of_range')} THEN 7 ELSE i.position END AS position,
        it.cate2, it.cate3, it.title, it."desc", it.ocr, it.domcol,
        (((i.gender - 1) * 9 + i.age - 1) * ${USERS_PER_DEMOGRAPHIC} + q.k % ${USERS_PER_DEMOGRAPHIC})::INTEGER AS user_id,
        CASE WHEN q.k % 6 = ${r('clicked_out_of_range')} THEN 2 ELSE (${unit("'corrupt', q.k")} < i.truth)::TINYINT END AS clicked
      FROM range(${corruptRows}) q(k) JOIN instances i ON i.instance_id = hash(${seed}, 'corrupt-instance', q.k) % ${M} JOIN items it ON it.image = i.image`;
    const logPath = join(opts.out, 'impressions.parquet');
    await produceAtomic(logPath, (tmp) =>
      c.run(`COPY (${clean} UNION ALL ${bots} UNION ALL ${corrupt}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1000000)`).then(() => {}),
    );
    const truthPath = join(opts.out, 'truth.parquet');
    await produceAtomic(truthPath, (tmp) =>
      c.run(`COPY (SELECT it.file AS image, i.gender, i.age, i.month, i.weekday, i.hour, i.position, i.n AS impressions, i.truth
        FROM instances i JOIN items it ON it.image = i.image ORDER BY i.instance_id) TO ${sqlString(tmp)} (FORMAT parquet)`).then(() => {}),
    );
    secs.log = (performance.now() - t) / 1000;
    const [{ rows, clicks }] = (await c.runAndReadAll(`SELECT count(*)::DOUBLE AS rows, sum(clicked)::DOUBLE AS clicks FROM read_parquet(${sqlString(logPath)})`)).getRowObjectsJS() as { rows: number; clicks: number }[];
    progress.done(`${rows} rows, ${clicks} clicks`);
    const files = [join(opts.out, 'world.json'), logPath, truthPath];
    if (opts.csv) {
      progress.stage('write CSV');
      t = performance.now();
      const csvPath = join(opts.out, 'impressions.csv');
      await produceAtomic(csvPath, (tmp) => c.run(`COPY (SELECT * FROM read_parquet(${sqlString(logPath)})) TO ${sqlString(tmp)} (FORMAT csv, HEADER true)`).then(() => {}));
      secs.csv = (performance.now() - t) / 1000;
      files.push(csvPath);
      progress.done();
    }
    if (opts.renderImages) files.push(join(opts.out, 'images'));
    return { rows, cleanRows, botRows, corruptRows, instances: instances.length, clicks, seconds: secs, files };
  } finally {
    duck.close();
    for (const f of tmpFiles) if (existsSync(f)) rmSync(f, { force: true });
  }
}
