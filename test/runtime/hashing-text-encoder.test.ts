import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashingTextEncoder, hash32, words } from '../../runtime/hashing-text-encoder.ts';

const enc = new HashingTextEncoder();
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(cos(a, a));
const one = async (t: string) => (await enc.encode([t]))[0];

test('id and dims', async () => {
  assert.is(enc.id, 'hashing-v1');
  assert.is(enc.dim, 768);
  const small = new HashingTextEncoder({ dim: 64 });
  assert.is((await small.encode(['a b c']))[0].length, 64);
  assert.throws(() => new HashingTextEncoder({ dim: 0 }), /positive integer/);
});

test('hash32 is FNV-1a over code units with a murmur3 finaliser (reference values)', () => {
  // Independent re-derivation for "a": FNV-1a(0x61) = (0x811c9dc5 ^ 0x61) * 0x01000193 mod 2^32.
  let h = BigInt.asUintN(32, (0x811c9dc5n ^ 0x61n) * 0x01000193n);
  h ^= h >> 16n;
  h = BigInt.asUintN(32, h * 0x85ebca6bn);
  h ^= h >> 13n;
  h = BigInt.asUintN(32, h * 0xc2b2ae35n);
  h ^= h >> 16n;
  assert.is(hash32('a'), Number(h));
});

test('words: lower-cased runs of letters and digits, any script', () => {
  assert.equal(words('Hello, WORLD! 3-in-1 게임 시작'), ['hello', 'world', '3', 'in', '1', '게임', '시작']);
});

test('one word: the vector is its features ±1 at hashed positions, normalised', async () => {
  // "ab" → features w:ab, c:#ab, c:ab# (no bigram); collisions are possible in general, so
  // recompute the expected vector from hash32 rather than assuming three distinct slots.
  const expect = new Float32Array(768);
  for (const f of ['w:ab', 'c:#ab', 'c:ab#']) {
    const h = hash32(f);
    expect[h % 768] += h >= 2 ** 31 ? -1 : 1;
  }
  const n = norm(expect);
  const v = await one('AB');
  for (let i = 0; i < 768; i++) assert.ok(Math.abs(v[i] - expect[i] / n) < 1e-6, `dim ${i}`);
});

test('same text → identical vector; norm 1', async () => {
  const t = 'Epic dragon battle — download now!';
  const [a, b] = await enc.encode([t, t]);
  assert.equal(Array.from(a), Array.from(b));
  assert.equal(Array.from(a), Array.from(await new HashingTextEncoder().encode([t]).then((r) => r[0])));
  assert.ok(Math.abs(norm(a) - 1) < 1e-6);
});

test('empty or symbol-only text → zeros', async () => {
  for (const t of ['', '   ', '!!! ---']) assert.ok((await one(t)).every((x) => x === 0), JSON.stringify(t));
});

test('shared words raise cosine; unrelated texts are near orthogonal', async () => {
  const a = await one('epic dragon battle rpg download now');
  const b = await one('dragon battle puzzle game');
  const c = await one('fresh organic coffee beans delivered weekly');
  const simAB = cos(a, b);
  const simAC = cos(a, c);
  assert.ok(simAB > 0.3, `related ${simAB}`);
  assert.ok(Math.abs(simAC) < 0.15, `unrelated ${simAC}`);
  assert.ok(simAB > simAC + 0.2);
});

test('case and Unicode width do not matter', async () => {
  assert.equal(Array.from(await one('DRAGON Battle')), Array.from(await one('dragon battle')));
  assert.equal(Array.from(await one('ＲＰＧ')), Array.from(await one('rpg')));
});

test.run();
