// Pins the graphs the build matrix produces: each inference.onnx (and explain and training graph)
// must have the digest recorded in inference-digests.json, computed after constant initializers
// are renamed in order of first use (digest.ts) — so constants may be renamed and nothing else
// may change. After an intended model change, rerun `npx tsx test/graph/record-digests.ts` and
// commit the new JSON with the change.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalDigest, decode, DIGESTS, pinnedGraphs, type PinnedGraph } from './digest.ts';

const recorded: Record<string, string> = JSON.parse(readFileSync(DIGESTS, 'utf8'));
const graphs: PinnedGraph[] = [...pinnedGraphs()];

test(`all ${graphs.length} pinned graphs have their recorded digests`, () => {
  assert.equal(graphs.map((g) => g.key).sort(), Object.keys(recorded).sort(), 'the same set of graphs as recorded');
  const changed = graphs.filter((g) => canonicalDigest(g.bytes, g.params) !== recorded[g.key]).map((g) => g.key);
  assert.equal(changed, [], `graphs that changed: ${changed.join('; ')}`);
});

test('the digest ignores constant names and catches one changed attribute or parameter name', () => {
  const g = graphs.find((x) => x.key.startsWith('inference: m2fn vgg11'))!;
  const want = recorded[g.key];

  const renamed = decode(g.bytes);
  const constants = (renamed.graph!.initializer as any[]).filter((t) => !g.params.has(t.name));
  assert.ok(constants.length > 3, 'the graph has constants to rename');
  const to = new Map(constants.map((t, k) => [t.name as string, `other/${constants.length - k}`]));
  for (const t of constants) t.name = to.get(t.name);
  for (const n of renamed.graph!.node as any[]) n.input = n.input.map((i: string) => to.get(i) ?? i);
  assert.is(canonicalDigest(renamed, g.params), want, 'constants renamed: same digest');

  const pads = decode(g.bytes);
  const conv = (pads.graph!.node as any[]).find((n) => n.opType === 'Conv')!;
  const attr = conv.attribute.find((a: any) => a.name === 'pads');
  attr.ints = attr.ints.map((p: number) => p + 1);
  assert.is.not(canonicalDigest(pads, g.params), want, 'one attribute changed: another digest');

  const param = decode(g.bytes);
  const w = (param.graph!.initializer as any[]).find((t) => g.params.has(t.name))!;
  const old = w.name;
  w.name = `${old}_renamed`;
  for (const n of param.graph!.node as any[]) n.input = n.input.map((i: string) => (i === old ? w.name : i));
  assert.is.not(canonicalDigest(param, new Set([...g.params, w.name])), want, 'a parameter renamed: another digest');
});

test.run();
