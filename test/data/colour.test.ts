// Dominant colour on rendered ads (≥ 9 of 10 right per named colour) and the MCD centre's robustness.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DOMINANT_COLOURS } from '../../runtime/schema.ts';
import { generateWorld } from '../../tools/data/world.ts';
import { renderAd } from '../../tools/data/render.ts';
import { dominantColour } from '../../runtime/extract/dominant-colour.ts';
import { mcdCentre } from '../../runtime/extract/mcd.ts';
import { Rng } from '../../runtime/random.ts';
import type { Vec3 } from '../../runtime/extract/colour-space.ts';

test('≥ 9 of 10 rendered ads per named colour get their colour', async () => {
  const world = generateWorld(11, 500);
  const right: Record<string, number> = {};
  const seen: Record<string, number> = {};
  for (const spec of world.images) {
    if ((seen[spec.colour] ?? 0) >= 10) continue;
    seen[spec.colour] = (seen[spec.colour] ?? 0) + 1;
    const r = await dominantColour(await renderAd(spec, 128));
    if (r.colour === spec.colour) right[spec.colour] = (right[spec.colour] ?? 0) + 1;
  }
  console.log(`  colour accuracy per colour (of 10): ${JSON.stringify(right)}`);
  for (const c of DOMINANT_COLOURS) {
    assert.is(seen[c], 10, `world has fewer than 10 ${c} ads`);
    assert.ok((right[c] ?? 0) >= 9, `${c}: ${right[c] ?? 0}/10`);
  }
});

test('MCD centre ignores a 20% cluster of outliers that drags the mean', () => {
  const rng = new Rng(3);
  const pts: Vec3[] = [];
  for (let i = 0; i < 800; i++) pts.push([50 + rng.normal(), 10 + rng.normal(), -5 + rng.normal()]);
  for (let i = 0; i < 200; i++) pts.push([90 + rng.normal(), -40 + rng.normal(), 30 + rng.normal()]);
  const mean = pts.reduce((m, p) => [m[0] + p[0] / 1000, m[1] + p[1] / 1000, m[2] + p[2] / 1000] as Vec3, [0, 0, 0] as Vec3);
  const c = mcdCentre(pts).centre;
  assert.ok(Math.abs(mean[0] - 50) > 7, 'the plain mean is pulled');
  for (const [got, want] of [[c[0], 50], [c[1], 10], [c[2], -5]]) assert.ok(Math.abs(got - want) < 0.3, `centre ${c} vs (50, 10, -5)`);
});

test.run();
