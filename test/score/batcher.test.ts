// The micro-batcher on its own, with a runner that records its batches: items submitted while a
// run is in progress go into the next run together, results go back to their own submitters, a
// batch never exceeds maxBatch, and a failed run fails only the items in it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Score } from '../../runtime/results.ts';
import { MicroBatcher, type PreparedItem } from '../../tools/serve/batcher.ts';

/** An item whose image is [id] and aux [10 id]; the runner's score is image + aux, so answers name their item. */
const item = (id: number): PreparedItem => ({ image: Float32Array.of(id), aux: Float32Array.of(10 * id) });

function recordingRunner(opts: { failWhen?: (ids: number[]) => boolean } = {}) {
  const batches: number[][] = [];
  let release: (() => void) | null = null;
  const run = async (image: Float32Array, aux: Float32Array | null, n: number): Promise<Score[]> => {
    const ids = Array.from(image);
    batches.push(ids);
    await new Promise<void>((ok) => (release = ok)); // held until the test lets it finish
    if (opts.failWhen?.(ids)) throw new Error(`run of ${ids.join(',')} failed`);
    return Array.from({ length: n }, (_, i) => ({ ctr: image[i] + aux![i] }));
  };
  const finish = async () => {
    while (!release) await new Promise((ok) => setImmediate(ok));
    const r = release as () => void;
    release = null;
    r();
  };
  return { run, batches, finish };
}

test('items submitted during a run share the next run, in order, up to maxBatch; each gets its own answer', async () => {
  const r = recordingRunner();
  const b = new MicroBatcher(r.run, 3);
  const first = b.submit([item(1)]);
  await new Promise((ok) => setImmediate(ok));
  const later = [2, 3, 4, 5].map((id) => b.submit([item(id)]));
  await r.finish(); // run [1]
  await r.finish(); // run [2, 3, 4]
  await r.finish(); // run [5]
  assert.equal(await first, [{ ctr: 11 }]);
  assert.equal(await Promise.all(later), [2, 3, 4, 5].map((id) => [{ ctr: 11 * id }]));
  assert.equal(r.batches, [[1], [2, 3, 4], [5]]);
  assert.equal(b.stats, { batches: 3, items: 5, largestBatch: 3 });
  await b.idle();
});

test('several items in one submit (POST /rank) come back in their order; a failed run rejects only its own items', async () => {
  const r = recordingRunner({ failWhen: (ids) => ids.includes(7) });
  const b = new MicroBatcher(r.run, 8);
  const ranked = b.submit([item(3), item(1), item(2)]);
  await r.finish();
  assert.equal(await ranked, [{ ctr: 33 }, { ctr: 11 }, { ctr: 22 }]);
  const bad = b.submit([item(7)]);
  await r.finish();
  await bad.then(() => assert.unreachable('the failed run resolved'), (e: Error) => assert.match(e.message, /run of 7 failed/));
  const good = b.submit([item(4)]);
  await r.finish();
  assert.equal(await good, [{ ctr: 44 }]);
});

test('maxBatch and windowMs are checked', () => {
  const run = async () => [];
  assert.throws(() => new MicroBatcher(run, 0), /maxBatch must be a positive integer, got 0/);
  assert.throws(() => new MicroBatcher(run, 4, -1), /windowMs must be a non-negative number, got -1/);
});

test.run();
