// The one atomic writer: a finished write replaces the target, a failed one leaves it as it was
// and leaves no temp file behind, whichever of the three entry points wrote.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { produceAtomic, produceDirAtomic, tempPathFor, writeFileAtomic } from '../../runtime/atomic-write.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'm2fn-atomic-'));
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

test('temp paths are fresh siblings of the target', () => {
  const a = tempPathFor('/x/y/model.onnx');
  assert.match(a, /^\/x\/y\/\.model\.onnx\.tmp-\d+-[0-9a-z]+$/);
  assert.is.not(a, tempPathFor('/x/y/model.onnx'));
});

test('writeFileAtomic creates the directory, writes, and replaces an older version', () => {
  const dir = fresh();
  const target = join(dir, 'deep/er/out.json');
  writeFileAtomic(target, 'first\n');
  writeFileAtomic(target, new Uint8Array([104, 105]));
  assert.is(readFileSync(target, 'utf8'), 'hi');
  assert.equal(leftovers(join(dir, 'deep/er')), []);
});

test('a failed commit keeps the target and removes the temp file', () => {
  const dir = fresh();
  const target = join(dir, 'taken');
  mkdirSync(join(target, 'inside'), { recursive: true }); // a non-empty directory cannot be renamed over
  assert.throws(() => writeFileAtomic(target, 'x'), /cannot move the finished file into place/);
  assert.equal(readdirSync(target), ['inside']);
  assert.equal(leftovers(dir), []);
});

test('produceAtomic: the produced file lands; a failing producer changes nothing', async () => {
  const dir = fresh();
  const target = join(dir, 'rows.jsonl');
  assert.is(await produceAtomic(target, async (tmp) => (writeFileSync(tmp, 'a\n'), 7)), 7);
  await produceAtomic(target, async (tmp) => {
    writeFileSync(tmp, 'half');
    throw new Error('producer failed');
  }).then(() => assert.unreachable('should have failed'), (e: Error) => assert.is(e.message, 'producer failed'));
  assert.is(readFileSync(target, 'utf8'), 'a\n');
  assert.equal(leftovers(dir), []);
});

test('produceDirAtomic swaps the whole directory, or leaves the old one', async () => {
  const dir = fresh();
  const target = join(dir, 'prepared');
  await produceDirAtomic(target, async (stage) => writeFileAtomic(join(stage, 'v'), '1'));
  await produceDirAtomic(target, async (stage) => {
    writeFileAtomic(join(stage, 'v'), '2');
    throw new Error('stage failed');
  }).catch(() => {});
  assert.is(readFileSync(join(target, 'v'), 'utf8'), '1');
  await produceDirAtomic(target, async (stage) => writeFileAtomic(join(stage, 'w'), '3'));
  assert.equal(readdirSync(target), ['w']);
  assert.equal(readdirSync(dir), ['prepared']);
});

test.run();
