// npm run bench:serve — the scoring service under a bounded load over 127.0.0.1: a fixed number of
// POST /score requests (at most a fixed time), CONCURRENCY in flight at once, against the same
// items scored in-process by scoreMany. Prints one JSON line: requests/s, p50/p99 latency, max in
// flight, model runs and their mean batch, and how many answers were lost or wrong — wrong meaning
// off by more than float32 batch rounding from the same item scored alone, in sequence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeInference } from '../graph/export/inference.ts';
import { defaultConfig } from '../graph/models/config.ts';
import { buildModel } from '../graph/models/m2fn.ts';
import { load } from '../runtime/node.ts';
import { ctrOf } from '../runtime/results.ts';
import { startServer } from '../tools/serve/server.ts';

const REQUESTS = Number(process.env.M2FN_SERVE_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.M2FN_SERVE_CONCURRENCY ?? 32);
const TIME_LIMIT_MS = 60_000;
const TOL = 1e-6;

const dir = mkdtempSync(join(tmpdir(), 'm2fn-bench-serve-'));
// The demo's model size (64², VGG19 at ×0.125 width): the service's overheads are visible next to the model's cost.
const config = { ...defaultConfig('m2fn'), size: 64, width: 0.125, headHidden: [64], cbnHidden: 32, attHidden: 32, fuseDim: 32 };
await writeInference(join(dir, 'model'), buildModel(config));
const scorer = await load(join(dir, 'model'));
const images = await Promise.all(
  Array.from({ length: 16 }, (_, i) =>
    sharp({ create: { width: 160 + 8 * i, height: 120, channels: 3, background: { r: (37 * i) % 256, g: (91 * i) % 256, b: (53 * i) % 256 } } }).png().toBuffer(),
  ),
);
const items = Array.from({ length: REQUESTS }, (_, i) => ({
  image: images[i % images.length],
  attributes: {
    gender: 1 + (i % 2), age: 1 + (i % 9), month: 1 + (i % 12), weekday: 1 + (i % 7), hour: i % 24, position: 1 + (i % 4), cate2: 1 + (i % 4), cate3: 1 + (i % 9),
    title: `Quest ${i % 5}`, desc: 'Match gems', ocr: 'PLAY', domcol: ['blue', 'red', 'green'][i % 3],
  },
}));

// In-process references: the same items scored by scoreMany (throughput), and one by one (answers).
await scorer.scoreMany(items.slice(0, 16));
let t = performance.now();
await scorer.scoreMany(items, { batchSize: 16 });
const inProcessPerS = items.length / ((performance.now() - t) / 1000);
const sequential: number[] = [];
t = performance.now();
for (const it of items) sequential.push(ctrOf(await scorer.score(it.image, it.attributes)));
const sequentialPerS = items.length / ((performance.now() - t) / 1000);

const service = await startServer(scorer, { maxBatch: 16, maxQueue: 64 });
const query = (a: Record<string, unknown>) => new URLSearchParams(Object.entries(a).map(([k, v]) => [k, String(v)])).toString();
const latencies: number[] = [];
const answers = new Array<number | null>(items.length).fill(null);
const statuses: Record<string, number> = {};
let next = 0;
const start = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length && performance.now() - start < TIME_LIMIT_MS) {
      const i = next++;
      const t0 = performance.now();
      const r = await fetch(`${service.url}/score?${query(items[i].attributes)}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(items[i].image) });
      const body = (await r.json()) as { ctr?: number };
      latencies.push(performance.now() - t0);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 200 && typeof body.ctr === 'number') answers[i] = body.ctr;
    }
  }),
);
const seconds = (performance.now() - start) / 1000;
const stats = service.stats();
await service.close();
await scorer.close();
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
const sent = latencies.length;
const lost = answers.slice(0, sent).filter((a) => a === null).length;
const wrong = answers.filter((a, i) => a !== null && Math.abs(a - sequential[i]) > TOL).length;
const maxDiff = Math.max(...answers.map((a, i) => (a === null ? 0 : Math.abs(a - sequential[i]))));
console.log(
  JSON.stringify({
    model: `m2fn ${config.size}² ×${config.width}`, requests: sent, concurrency: CONCURRENCY, seconds: +seconds.toFixed(2),
    reqPerS: +(sent / seconds).toFixed(1), p50Ms: pct(0.5), p99Ms: pct(0.99), maxInFlight: stats.maxInFlight,
    modelRuns: stats.batches, meanBatch: +(stats.items / stats.batches).toFixed(2), largestBatch: stats.largestBatch, statuses,
    lost, wrong, maxAbsDiffVsSequential: maxDiff, inProcessScoreManyPerS: +inProcessPerS.toFixed(1), inProcessSequentialPerS: +sequentialPerS.toFixed(1),
    serviceVsScoreMany: +(sent / seconds / inProcessPerS).toFixed(2),
  }),
);
if (lost || wrong) process.exitCode = 1;
