// Checkpoint format: round trip, every class of damage reported as such, atomic replacement under
// SIGKILL, config hashing and compatibility checks.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsMatching } from './assertions.ts';
import {
  assertCompatible, canonicalJson, configHash, readCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointMeta,
} from '../../tools/train/checkpoint.ts';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'm2fn-ckpt-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIG = { model: 'm2fn', fusion: { cbn: [1, 0, 0, 0, 0], attention: true }, lr: 1e-4 };

function meta(over: Partial<CheckpointMeta> = {}): CheckpointMeta {
  return {
    format: 'm2fn-checkpoint/1', configHash: configHash(CONFIG), config: CONFIG, step: 1234, epoch: 3, batchInEpoch: 17,
    rngState: [1, 2, 3, 4294967295], bestMetric: 0.4321, extra: { note: 'ünïcode ✓' }, ...over,
  };
}

/** Deterministic values that are not all simple (so byte-exact comparison means something). */
function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 1000 + i * 0.731) * 10 ** ((i % 7) - 3);
  return a;
}

function sample(): Checkpoint {
  // Odd element counts (3, 5·7) make every tensor but the first need alignment padding.
  return {
    meta: meta(),
    tensors: new Map([
      ['conv1.weight', { shape: [3], data: filled(3, 1) }],
      ['fc.weight', { shape: [5, 7], data: filled(35, 2) }],
      ['scalar', { shape: [], data: Float32Array.of(-0) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ['head.bias', { shape: [10], data: filled(10, 3) }],
    ]),
  };
}

function assertSameCheckpoint(got: Checkpoint, want: Checkpoint): void {
  assert.equal(got.meta, want.meta);
  assert.equal([...got.tensors.keys()], [...want.tensors.keys()]);
  for (const [name, t] of want.tensors) {
    const g = got.tensors.get(name)!;
    assert.equal(g.shape, t.shape, name);
    // Byte equality also distinguishes -0 from 0.
    assert.ok(Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), name);
  }
}

test('round trip keeps meta, tensor order, shapes and exact bytes', async () => {
  const path = join(dir, 'a.ckpt');
  const ck = sample();
  await writeCheckpoint(path, ck);
  const back = readCheckpoint(path);
  assertSameCheckpoint(back, ck);
  assert.ok(Object.is(back.tensors.get('scalar')!.data[0], -0));
  // The layout as documented: magic, version 1, header length, JSON, then data and a digest.
  const raw = readFileSync(path);
  assert.is(raw.subarray(0, 8).toString('ascii'), 'M2FNCKPT');
  assert.is(raw.readUInt32LE(8), 1);
  const h = raw.readUInt32LE(12);
  const header = JSON.parse(raw.subarray(16, 16 + h).toString('utf8'));
  const payloadStart = Math.ceil((16 + h) / 8) * 8;
  // Offsets: 3 floats = 12 bytes → next at 16; 35 floats = 140 → 16+140=156 → 160; scalar 4 bytes
  // → 164 → 168; empty 0 bytes at 168; head.bias at 168, 40 bytes → 208.
  assert.equal(header.tensors.map((t: { offset: number }) => t.offset), [0, 16, 160, 168, 168]);
  assert.is(header.payloadBytes, 208);
  assert.is(raw.length, payloadStart + 208 + 32);
  const digest = createHash('sha256').update(raw.subarray(0, raw.length - 32)).digest();
  assert.ok(digest.equals(raw.subarray(raw.length - 32)));
  const fc = header.tensors[1];
  assert.is(raw.readFloatLE(payloadStart + fc.offset + 4 * 34), ck.tensors.get('fc.weight')!.data[34]);
});

test('truncation at several points says truncated with expected and actual sizes', async () => {
  const path = join(dir, 'full.ckpt');
  await writeCheckpoint(path, sample());
  const raw = readFileSync(path);
  const cut = join(dir, 'cut.ckpt');
  for (const len of [0, 5, 12, 16, 40, raw.length - 300, raw.length - 33, raw.length - 1]) {
    writeFileSync(cut, raw.subarray(0, len));
    throwsMatching(() => readCheckpoint(cut), new RegExp(`checkpoint ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated.*${len}`), `cut at ${len}`);
  }
  // Past the header the message gives the exact expected size.
  writeFileSync(cut, raw.subarray(0, raw.length - 1));
  throwsMatching(() => readCheckpoint(cut), new RegExp(`expected ${raw.length} bytes, the file has ${raw.length - 1}`), 'exact sizes');
});

test('one flipped byte anywhere after the fixed header is a checksum error', async () => {
  const path = join(dir, 'flip-src.ckpt');
  await writeCheckpoint(path, sample());
  const raw = readFileSync(path);
  const h = raw.readUInt32LE(12);
  const bad = join(dir, 'flip.ckpt');
  // In the JSON (a string, a structural brace), in the float payload, and in the digest itself.
  const idxNote = raw.indexOf('ünïcode');
  const payloadAt = Math.ceil((16 + h) / 8) * 8 + 20;
  for (const at of [idxNote, 16, 16 + h - 1, payloadAt, raw.length - 40, raw.length - 1]) {
    const copy = Buffer.from(raw);
    copy[at] ^= 0x10;
    writeFileSync(bad, copy);
    throwsMatching(() => readCheckpoint(bad), /corrupt: checksum mismatch/, `flip at ${at}`);
  }
});

test('missing file, foreign file, wrong version and extra bytes have their own messages', async () => {
  throwsMatching(() => readCheckpoint(join(dir, 'nope.ckpt')), /nope\.ckpt: file not found/, 'missing');
  const png = join(dir, 'image.png');
  writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  throwsMatching(() => readCheckpoint(png), /image\.png: not an m2fn checkpoint/, 'foreign');
  const path = join(dir, 'v.ckpt');
  await writeCheckpoint(path, sample());
  const raw = readFileSync(path);
  const v2 = Buffer.from(raw);
  v2.writeUInt32LE(2, 8);
  writeFileSync(path, v2);
  throwsMatching(() => readCheckpoint(path), /unsupported checkpoint version 2/, 'version');
  writeFileSync(path, Buffer.concat([raw, Buffer.from([0])]));
  throwsMatching(() => readCheckpoint(path), new RegExp(`expected ${raw.length} bytes, the file has ${raw.length + 1}`), 'extra byte');
});

test('a valid checksum over bad JSON is reported as a bad header, not corruption', () => {
  // Hand-built: correct magic, version, length and digest around text that is not JSON.
  const json = Buffer.from('{"meta": oops}');
  const start = Math.ceil((16 + json.length) / 8) * 8;
  const body = Buffer.alloc(start);
  body.write('M2FNCKPT', 0, 'ascii');
  body.writeUInt32LE(1, 8);
  body.writeUInt32LE(json.length, 12);
  json.copy(body, 16);
  const file = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  const path = join(dir, 'badjson.ckpt');
  writeFileSync(path, file);
  throwsMatching(() => readCheckpoint(path), /badjson\.ckpt: bad header: the JSON header does not parse/, 'bad json');
});

test('writeCheckpoint refuses inconsistent input before touching the file', async () => {
  const path = join(dir, 'refused.ckpt');
  const ck = sample();
  ck.tensors.set('wrong', { shape: [2, 3], data: new Float32Array(5) });
  try {
    await writeCheckpoint(path, ck);
    assert.unreachable('accepted a shape/data mismatch');
  } catch (e) {
    assert.match((e as Error).message, /tensor "wrong": shape \[2, 3\] has 6 elements but data has 5/);
  }
  try {
    await writeCheckpoint(path, { ...sample(), meta: meta({ step: -1 }) });
    assert.unreachable('accepted a negative step');
  } catch (e) {
    assert.match((e as Error).message, /meta\.step must be a non-negative integer/);
  }
  assert.not.ok(existsSync(path));
  assert.equal(readdirSync(dir).filter((f) => f.includes('refused')), []);
});

test('SIGKILL during a second write leaves the first checkpoint readable at path', async () => {
  const path = join(dir, 'killed.ckpt');
  const first = sample();
  await writeCheckpoint(path, first);
  const firstBytes = readFileSync(path);
  // The child writes ~512 MB; we kill it once its temp file has started to grow.
  const script = join(dir, 'child.mts');
  const mod = pathToFileURL(join(process.cwd(), 'tools/train/checkpoint.ts')).href;
  writeFileSync(
    script,
    `import { writeCheckpoint, configHash } from ${JSON.stringify(mod)};
const big = new Float32Array(128 * 1024 * 1024).fill(1.5);
await writeCheckpoint(${JSON.stringify(path)}, { meta: { format: 'm2fn-checkpoint/1', configHash: configHash({}), config: {}, step: 9, epoch: 9,
  batchInEpoch: 0, rngState: [], bestMetric: null, extra: {} }, tensors: new Map([['big', { shape: [big.length], data: big }]]) });
process.stdout.write('finished\\n');
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const tmpOf = () => readdirSync(dir).filter((f) => f.startsWith('.killed.ckpt.tmp-'));
  let partial = 0;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const t = tmpOf();
    if (t.length) {
      partial = statSync(join(dir, t[0])).size;
      if (partial > 0) break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  child.kill('SIGKILL');
  const { signal } = await exited;
  assert.is(signal, 'SIGKILL', `the child was not killed mid-write (output: ${out})`);
  assert.not.match(out, /finished/);
  assert.ok(partial > 0, 'no temp file appeared');
  // The stale temp file may remain (documented); path is untouched and still valid.
  assert.ok(readFileSync(path).equals(firstBytes));
  assertSameCheckpoint(readCheckpoint(path), first);
});

test('configHash ignores key order and undefined members, and sees every value', () => {
  const a = configHash({ b: 1, a: { y: [1, 2], x: 'q' } });
  assert.is(a, configHash({ a: { x: 'q', y: [1, 2] }, b: 1, c: undefined }));
  assert.is.not(a, configHash({ b: 1, a: { y: [2, 1], x: 'q' } }));
  assert.is.not(a, configHash({ b: 2, a: { y: [1, 2], x: 'q' } }));
  // The documented definition: sha256 of sorted-key JSON text.
  assert.is(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}');
  assert.is(configHash({ b: 1, a: 2 }), createHash('sha256').update('{"a":2,"b":1}').digest('hex'));
  throwsMatching(() => configHash({ lr: NaN }), /config\.lr is NaN/, 'NaN');
});

test('assertCompatible names differing config keys and missing or reshaped tensors', async () => {
  const path = join(dir, 'compat.ckpt');
  await writeCheckpoint(path, sample());
  const ck = readCheckpoint(path);
  const shapes = new Map([...ck.tensors].map(([k, t]) => [k, t.shape]));
  assertCompatible(ck, configHash(CONFIG), shapes, path); // exact fit: no throw
  assertCompatible(ck, configHash(CONFIG), new Map([['fc.weight', [5, 7]]]), path); // a subset is fine

  const other = { ...CONFIG, lr: 3e-4, fusion: { cbn: [0, 1, 0, 0, 0], attention: true } };
  throwsMatching(
    () => assertCompatible(ck, configHash(other), shapes, path, other),
    /checkpoint .*compat\.ckpt was written for another model config: "fusion\.cbn" differs \(checkpoint \[1,0,0,0,0\], now \[0,1,0,0,0\]\); "lr" differs \(checkpoint 0\.0001, now 0\.0003\)/,
    'config keys',
  );
  throwsMatching(() => assertCompatible(ck, configHash(other), shapes, path), /another model config: config hash [0-9a-f]{12}… differs/, 'no config');
  const want = new Map(shapes);
  want.set('fc.weight', [7, 5]);
  want.set('attention.w', [512]);
  throwsMatching(
    () => assertCompatible(ck, configHash(CONFIG), want, path),
    /tensor "fc\.weight" has shape \[5, 7\], expected \[7, 5\]; tensor "attention\.w" is missing/,
    'tensors',
  );
});

test.run();
