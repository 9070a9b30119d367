// Ranking and what-if logic over scorers whose predictions are fixed tables (the model runs are
// tested elsewhere): order, ranges, overlap, and what a single model may claim.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rankCreatives } from '../../runtime/rank.ts';
import { whatIf } from '../../runtime/whatif.ts';
import type { ModelCard } from '../../runtime/card.ts';
import type { Attributes } from '../../runtime/attributes.ts';

const card = { model: 'table', auxSchema: { name: 's', attributes: [{ name: 'hour', kind: 'categorical', levels: ['0', '1', '2'] }, { name: 'title', kind: 'text', dim: 4 }] } } as unknown as ModelCard;
/** Score = table[image] + 0.01 · hour. */
const tableScorer = (table: Record<string, number>) => ({
  card,
  scoreMany: async (items: { image: string; attributes?: Attributes }[]) => items.map((it) => ({ ctr: table[it.image] + 0.01 * Number(it.attributes?.hour ?? 0) })),
});

test('one model: ordered best first, no interval, and the note says so', async () => {
  const r = await rankCreatives([tableScorer({ a: 0.03, b: 0.05, c: 0.04 })], ['a', 'b', 'c'], { hour: 0 });
  assert.equal(r.ranked.map((x) => x.image), ['b', 'c', 'a']);
  assert.equal(r.ranked.map((x) => x.index), [1, 2, 0]);
  assert.ok(r.ranked.every((x) => x.range === null && !x.overlapsNext));
  assert.match(r.note, /no interval exists/);
});

test('several models: mean score, min–max range, overlap with the next marks indistinguishable', async () => {
  const r = await rankCreatives([tableScorer({ a: 0.05, b: 0.045, c: 0.01 }), tableScorer({ a: 0.04, b: 0.047, c: 0.02 })], ['a', 'b', 'c'], { hour: 0 });
  assert.equal(r.ranked.map((x) => x.image), ['b', 'a', 'c']);
  assert.ok(Math.abs(r.ranked[0].score - 0.046) < 1e-12);
  assert.equal(r.ranked[1].range, [0.04, 0.05]);
  assert.ok(r.ranked[0].overlapsNext, 'b [0.045, 0.047] overlaps a [0.04, 0.05]');
  assert.ok(!r.ranked[1].overlapsNext, 'a [0.04, 0.05] is clear of c [0.01, 0.02]');
});

test('what-if sweeps every level of the attribute, the rest fixed; bad names are refused', async () => {
  const [s] = await whatIf(tableScorer({ a: 0.03 }), 'a', { hour: 1, title: 'x' }, ['hour']);
  assert.is(s.given, '1');
  assert.equal(s.levels.map((l) => l.level), ['0', '1', '2']);
  s.levels.forEach((l, i) => assert.ok(Math.abs(l.score - (0.03 + 0.01 * i)) < 1e-12));
  for (const [vary, re] of [[['day'], /"day" is not an attribute of schema "s" \(hour, title\)/], [['title'], /"title" is text/], [[], /at least one/]] as const) {
    try {
      await whatIf(tableScorer({ a: 0 }), 'a', {}, [...vary]);
      assert.unreachable(`${vary} accepted`);
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
