// Where do a trained model's explanations look? For every test creative of a synthetic world (in
// its first test context), the text-band lift (tools/explain/planted.ts) of the attention map and
// of each stage's Grad-CAM: 1 is what a map placed at random gets, higher means the map weighs
// the band where the world planted its text-position effect. Prints one JSON line.
//   npx tsx bench/explain-planted.ts [DEMO_DIR=out/demo]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../tools/data/manifest.ts';
import { textLayout } from '../tools/data/render.ts';
import type { ImageSpec } from '../tools/data/world.ts';
import { bandLift } from '../tools/explain/planted.ts';
import { load } from '../runtime/node.ts';

const dir = process.argv[2] ?? 'out/demo';
const world = JSON.parse(readFileSync(join(dir, 'world', 'world.json'), 'utf8')) as { images: ImageSpec[] };
const specs = new Map(world.images.map((s) => [s.file, s]));
const test = readManifest(join(dir, 'dataset'), 'test');
const firstRows = test.rows.filter((r, i, all) => all.findIndex((x) => x.image === r.image) === i);
const explainer = await load(join(dir, 'run', 'explain.onnx'));
const lifts = new Map<string, number[]>();
const add = (k: string, v: number) => Number.isFinite(v) && (lifts.get(k) ?? lifts.set(k, []).get(k)!).push(v);
const bandShare: number[] = [];
for (const r of firstRows) {
  const spec = specs.get(r.image.split('/').pop()!);
  if (!spec) throw new Error(`${r.image}: not in ${dir}/world/world.json`);
  const { top, blockH } = textLayout(spec, 1);
  bandShare.push(blockH);
  const ex = await explainer.explain(join(dir, 'dataset', r.image), r.attributes);
  if (ex.attention) add('attention', bandLift(ex.attention.weights, ex.attention.height, ex.attention.width, top, top + blockH));
  for (const g of ex.gradcam) add(`gradcam${g.stage}`, bandLift(g.map, g.height, g.width, top, top + blockH));
}
await explainer.close();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(JSON.stringify({
  creatives: firstRows.length,
  meanBandFraction: mean(bandShare),
  lift: Object.fromEntries([...lifts].map(([k, v]) => [k, { mean: mean(v), maps: v.length }])),
}));
