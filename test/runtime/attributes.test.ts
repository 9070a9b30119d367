import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeAttributes, encodeAttributesBatch, validateSchema, attributeOffsets } from '../../runtime/attributes.ts';
import { M2fnInputError } from '../../runtime/errors.ts';
import { HashingTextEncoder } from '../../runtime/hashing-text-encoder.ts';
import { REAL_AD_SCHEMA, type AuxSchema } from '../../runtime/schema.ts';
import type { TextEncoder } from '../../runtime/text.ts';

const enc768 = new HashingTextEncoder();

/** Records every encode call, to check that a batch's texts go in one call. */
class CountingEncoder implements TextEncoder {
  readonly id = 'counting';
  calls: string[][] = [];
  constructor(readonly dim: number) {}
  async encode(texts: string[]) {
    this.calls.push(texts);
    // Vector k of a call is [len(text), 0, …]: easy to tell apart by the text it came from.
    return texts.map((t) => Float32Array.from({ length: this.dim }, (_, i) => (i === 0 ? t.length : 0)));
  }
}

const baseAd = {
  gender: 2, age: '3', month: 12, weekday: 1, hour: 0, position: 4, cate2: 1, cate3: 9,
  title: '', desc: undefined, ocr: '   ', domcol: 'red',
};

const ones = (v: Float32Array) => [...v.keys()].filter((i) => v[i] !== 0);

async function rejects(fn: () => Promise<unknown>, ...parts: (string | RegExp)[]): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(msg.includes(p), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(p)}`);
      else assert.match(msg, p);
    }
    return e as Error;
  }
  assert.unreachable('expected an error');
  throw new Error('unreachable');
}

test('Real-Ad offsets: hand-computed from Table 1 layout', () => {
  // gender 2, age 9, month 12, weekday 7, hour 24, position 4, cate2 4, cate3 9, 3 × 768 text, domcol 10
  assert.equal(attributeOffsets(REAL_AD_SCHEMA), [0, 2, 11, 23, 30, 54, 58, 62, 71, 839, 1607, 2375]);
});

test('Real-Ad one-hot positions (2385 dims, empty texts are zero)', async () => {
  const v = await encodeAttributes(REAL_AD_SCHEMA, baseAd, enc768);
  assert.is(v.length, 2385);
  // gender "2"→1, age "3"→2+2, month "12"→11+11, weekday "1"→23, hour "0"→30, position "4"→54+3,
  // cate2 "1"→58, cate3 "9"→62+8, domcol red (8th colour)→2375+7
  assert.equal(ones(v), [1, 4, 22, 23, 30, 57, 58, 70, 2382]);
  assert.ok(ones(v).every((i) => v[i] === 1));
});

test('text slices hold the encoder vector at their offsets', async () => {
  const v = await encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, title: 'Dragon quest', ocr: 'play now' }, enc768);
  const [title, ocr] = await enc768.encode(['Dragon quest', 'play now']);
  assert.equal(Array.from(v.subarray(71, 839)), Array.from(title));
  assert.ok(v.subarray(839, 1607).every((x) => x === 0), 'desc was missing: zeros');
  assert.equal(Array.from(v.subarray(1607, 2375)), Array.from(ocr));
});

test('values compare as strings: 1 and "1" are the same level', async () => {
  const a = await encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, month: 1 }, enc768);
  const b = await encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, month: '1' }, enc768);
  assert.equal(Array.from(a), Array.from(b));
  assert.is(a[11], 1);
});

test('unknown level: error naming attribute, value and allowed levels', async () => {
  const e = await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, domcol: 'purple' }, enc768),
    'attribute "domcol"', '"purple"', 'black, blue, brown');
  assert.instance(e, M2fnInputError);
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, hour: 24 }, enc768), 'attribute "hour"', 'value 24', '0, 1, 2');
});

test('unknown level maps to the declared unknown level', async () => {
  const schema: AuxSchema = { name: 's', attributes: [{ name: 'c', kind: 'categorical', levels: ['a', 'b', 'other'], unknown: 'other' }] };
  assert.equal(Array.from(await encodeAttributes(schema, { c: 'zzz' }, enc768)), [0, 0, 1]);
  assert.equal(Array.from(await encodeAttributes(schema, { c: 'b' }, enc768)), [0, 1, 0]);
});

test('key not in the schema: error naming it and listing known keys', async () => {
  const e = await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, colour: 'red' }, enc768), 'unknown attribute "colour"', 'gender, age, month', 'domcol');
  assert.not.match(e.message, /did you mean/);
  // "gendre" is 2 edits from "gender" and no closer to any other key.
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, gendre: 1 }, enc768), 'unknown attribute "gendre" (did you mean "gender"?)');
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, Hour: 1 }, enc768), '(did you mean "hour"?)');
});

test('missing categorical or numeric is an error', async () => {
  const { age: _omit, ...noAge } = baseAd;
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, noAge, enc768), 'missing value for categorical attribute "age"');
  const schema: AuxSchema = { name: 's', attributes: [{ name: 'x', kind: 'numeric' }] };
  await rejects(() => encodeAttributes(schema, {}, enc768), 'missing value for numeric attribute "x"');
  await rejects(() => encodeAttributes(schema, { x: null }, enc768), 'missing value for numeric attribute "x"');
});

test('numeric: (x - mean) / std; NaN and strings are errors', async () => {
  const schema: AuxSchema = { name: 's', attributes: [{ name: 'x', kind: 'numeric', mean: 10, std: 4 }, { name: 'y', kind: 'numeric' }] };
  assert.equal(Array.from(await encodeAttributes(schema, { x: 17, y: -2.5 }, enc768)), [1.75, -2.5]);
  await rejects(() => encodeAttributes(schema, { x: NaN, y: 0 }, enc768), 'attribute "x" must be a finite number', 'NaN');
  await rejects(() => encodeAttributes(schema, { x: '17', y: 0 }, enc768), 'attribute "x" must be a finite number', '"17"');
});

test('text: non-string is an error; encoder dim must match the attribute', async () => {
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, { ...baseAd, title: 42 }, enc768), 'text attribute "title" must be a string');
  await rejects(() => encodeAttributes(REAL_AD_SCHEMA, baseAd, new HashingTextEncoder({ dim: 384 })),
    'makes 384-d vectors', '"title"', 'needs 768');
});

test('batch: all texts of the batch in one encode call, rows in order', async () => {
  const schema: AuxSchema = {
    name: 's',
    attributes: [
      { name: 'c', kind: 'categorical', levels: ['a', 'b'] },
      { name: 't', kind: 'text', dim: 2 },
      { name: 'u', kind: 'text', dim: 2 },
    ],
  };
  const enc = new CountingEncoder(2);
  const v = await encodeAttributesBatch(schema, [
    { c: 'a', t: 'xy', u: 'hello' },
    { c: 'b', t: '' },
    { c: 'b', t: 'abc', u: 'z' },
  ], enc);
  assert.is(enc.calls.length, 1);
  assert.equal(enc.calls[0], ['xy', 'hello', 'abc', 'z']);
  // rows of 6: [c0, c1, t0, t1, u0, u1]; text vectors are [length, 0]
  assert.equal(Array.from(v), [1, 0, 2, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, 0, 1, 0]);
});

test('batch errors name the item', async () => {
  await rejects(() => encodeAttributesBatch(REAL_AD_SCHEMA, [baseAd, { ...baseAd, age: 10 }], enc768, { firstIndex: 32 }),
    'item #33', 'attribute "age"', 'value 10');
});

test('validateSchema accepts the presets and names attribute and problem', () => {
  assert.equal(validateSchema(JSON.parse(JSON.stringify(REAL_AD_SCHEMA)), 'x.json'), REAL_AD_SCHEMA);
  const bad = (json: unknown, ...parts: string[]) => {
    try {
      validateSchema(json, 'card.json');
    } catch (e) {
      const msg = (e as Error).message;
      for (const p of ['card.json', ...parts]) assert.ok(msg.includes(p), `${JSON.stringify(msg)} lacks ${JSON.stringify(p)}`);
      return;
    }
    assert.unreachable('expected an error');
  };
  bad(null, 'expected an object');
  bad({ name: 's', attributes: [] }, '"attributes" must be a non-empty array');
  bad({ name: 's', attributes: [{ name: 'a', kind: 'categorical', levels: ['1', 2] }] }, 'attribute #0 "a"', 'level #1 must be a string');
  bad({ name: 's', attributes: [{ name: 'a', kind: 'categorical', levels: ['x', 'x'] }] }, '"a"', 'level "x" appears twice');
  bad({ name: 's', attributes: [{ name: 'a', kind: 'categorical', levels: ['x'], unknown: 'y' }] }, '"a"', '"unknown" is "y"');
  bad({ name: 's', attributes: [{ name: 'a', kind: 'numeric' }, { name: 'a', kind: 'numeric' }] }, 'attribute #1 "a"', 'duplicate');
  bad({ name: 's', attributes: [{ name: 't', kind: 'text', dim: 0 }] }, '"t"', '"dim" must be a positive integer');
  bad({ name: 's', attributes: [{ name: 'n', kind: 'numeric', std: 0 }] }, '"n"', '"std" must be a positive');
  bad({ name: 's', attributes: [{ name: 'k', kind: 'category' }] }, '"k"', '"kind" must be one of categorical, text, numeric', '"category"');
});

test.run();
