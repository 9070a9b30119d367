// runtime/random.ts replaces the project's three generators and four shuffles; every seeded
// sequence (weights, synthetic worlds, epoch orders, bootstrap resamples) must come out the same.
// Step 1 of the move: the new module against the old implementations, draw for draw.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rng as oldRng } from '../../graph/params.ts';
import { Rng as OldRng, hashNormal as oldHashNormal } from '../../runtime/extract/rng.ts';
import { hash32 } from '../../runtime/hashing-text-encoder.ts';
import { seededUniform as oldUniform } from '../../tools/eval/random.ts';
import { epochOrder } from '../../tools/train/data.ts';
import { fmix32, hashNormal, permutation, rng, Rng, shuffle, weylUniform } from '../../runtime/random.ts';

const SEEDS = [0, 1, 7, 42, 0x5eed, 123456789, 2 ** 32 - 1, -3];
const N = 1000;
const draws = (next: () => number) => Array.from({ length: N }, next);

/** The Fisher–Yates loop as tools/train/data.ts, tools/eval/baselines/mlp.ts and tools/eval/sensitivity.ts wrote it. */
function oldShuffled(n: number, next: () => number, from = 0): Int32Array {
  const a = Int32Array.from({ length: n - from }, (_, i) => i + from);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

test('rng, Rng and weylUniform draw exactly what the old generators drew', () => {
  for (const seed of SEEDS) {
    assert.equal(draws(rng(seed)), draws(oldRng(seed)), `rng(${seed})`);
    const [a, b] = [new Rng(seed), new OldRng(seed)];
    assert.equal(draws(() => a.next() + a.int(10) + a.normal() + Number(a.bool(0.3))), draws(() => b.next() + b.int(10) + b.normal() + Number(b.bool(0.3))), `Rng(${seed})`);
    assert.equal(draws(weylUniform(seed)), draws(oldUniform(seed)), `weylUniform(${seed})`);
    assert.is(hashNormal(seed, 3, 9), oldHashNormal(seed, 3, 9));
  }
});

test('fmix32 is the finaliser hash32 applies', () => {
  // hash32('') is the finaliser of the FNV offset basis alone.
  assert.is(fmix32(0x811c9dc5), hash32(''));
});

test('shuffle and permutation give the old orders', () => {
  for (const seed of SEEDS) {
    for (const n of [0, 1, 2, 17, 500]) {
      assert.equal([...permutation(n, rng(seed))], [...oldShuffled(n, rng(seed))], `n=${n} seed=${seed}`);
      if (n > 1) assert.equal([...permutation(n, rng(seed), 1)], [...oldShuffled(n, rng(seed), 1)]);
      assert.equal([...permutation(n, rng((seed * 1_000_003 + 4 * 7919) >>> 0))], [...epochOrder(n, seed, 4)]);
      const words = Array.from({ length: n }, (_, i) => `w${i}`);
      assert.equal(shuffle([...words], rng(seed)), [...oldShuffled(n, rng(seed))].map((i) => words[i]));
    }
  }
});

test.run();
