// Progress bar and stage log formatting with a fake stream and a fake clock; expected lines written by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createProgress, formatDuration, formatValue, renderBar, stderrProgress } from '../../tools/progress.ts';

class FakeStream {
  chunks: string[] = [];
  constructor(public isTTY: boolean, public columns?: number) {}
  write(s: string) {
    this.chunks.push(s);
    return true;
  }
}

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('formatDuration', () => {
  assert.is(formatDuration(0), '0s');
  assert.is(formatDuration(45.4), '45s');
  assert.is(formatDuration(59.6), '1m00s'); // rounds before choosing the unit
  assert.is(formatDuration(65), '1m05s');
  assert.is(formatDuration(3599), '59m59s');
  assert.is(formatDuration(3600), '1h00m');
  assert.is(formatDuration(7380), '2h03m');
  assert.is(formatDuration(99 * 3600 + 59 * 60), '99h59m');
  assert.is(formatDuration(400000), '4d15h'); // 111.1 h
  assert.is(formatDuration(NaN), '--');
  assert.is(formatDuration(Infinity), '--');
  assert.is(formatDuration(-1), '--');
});

test('renderBar: width characters, done fraction rounded down', () => {
  assert.is(renderBar(45, 100, 20), '#########...........');
  assert.is(renderBar(0, 100, 20), '....................');
  assert.is(renderBar(100, 100, 20), '####################');
  assert.is(renderBar(150, 100, 20), '####################');
  assert.is(renderBar(1, 3, 10), '###.......');
  assert.is(renderBar(2, 3, 3), '##.');
  assert.is(renderBar(0, 0, 4), '####');
  for (const w of [1, 7, 30]) assert.is(renderBar(37, 91, w).length, w);
});

test('formatValue', () => {
  assert.is(formatValue(0.123456), '0.123');
  assert.is(formatValue(12.34), '12.3');
  assert.is(formatValue(45), '45');
  assert.is(formatValue(0.00012345), '1.23e-4');
  assert.is(formatValue(123456.7), '1.23e+5');
  assert.is(formatValue(0), '0');
  assert.is(formatValue(NaN), 'NaN');
  assert.is(formatValue('fp16'), 'fp16');
});

test('TTY: redrawn line with bar, fields, smoothed rate and ETA', () => {
  const s = new FakeStream(true);
  const c = clock();
  const p = createProgress({ total: 100, label: 'train', stream: s, unit: 'img', now: c.now });
  // 5 images every 400 ms = 12.5 img/s, steady, so the smoothed rate is 12.5 exactly.
  for (let i = 0; i < 9; i++) {
    c.advance(400);
    p.tick(5, { loss: 0.123 });
  }
  // 55 left at 12.5/s = 4.4 s.
  assert.is(s.chunks.length, 9);
  assert.is(s.chunks[8], '\rtrain [#########...........] 45/100 loss 0.123 · 12.5 img/s · ETA 4s\x1b[K');
  c.advance(400);
  p.tick(55, { loss: 0.1, acc: 0.5 });
  c.advance(10);
  p.done('best SPRC 0.61');
  // done: 100 in 4.01 s (mean 24.9/s); the last tick's fields stay.
  assert.is(s.chunks[s.chunks.length - 1], '\rtrain 100/100 done in 4s (24.9 img/s) · loss 0.100 · acc 0.500 · best SPRC 0.61\x1b[K\n');
  p.tick(1);
  p.done();
  assert.is(s.chunks.length, 11, 'wrote after done');
});

test('rate is an exponential moving average over time (10 s time constant)', () => {
  const s = new FakeStream(true);
  const c = clock();
  const p = createProgress({ total: 1000, label: 'e', stream: s, now: c.now });
  c.advance(1000);
  p.tick(10); // 10/s
  c.advance(1000);
  p.tick(20); // 20/s: 10 + (1 − e^−0.1)·10 = 10.9516
  assert.match(s.chunks[1], /30\/1000 11.0 it\/s · ETA 1m29s/); // 970 left / 10.9516 per s = 88.57 s
});

test('TTY redraws at most every 100 ms and fits the terminal width', () => {
  const s = new FakeStream(true, 30);
  const c = clock();
  const p = createProgress({ total: 10, label: 'cache', stream: s, now: c.now });
  for (let i = 0; i < 5; i++) {
    c.advance(30);
    p.tick(1);
  }
  // Drawn at t=30 and t=150 (≥ 100 ms later); 60, 90, 120 skipped.
  assert.is(s.chunks.length, 2);
  for (const ch of s.chunks) assert.is(ch.replace('\r', '').replace('\x1b[K', '').length, 29);
  assert.ok(s.chunks[0].startsWith('\rcache [##..................] '));
});

test('non-TTY: plain lines at most every 5 s, and one at the end', () => {
  const s = new FakeStream(false);
  const c = clock();
  const p = createProgress({ total: 12, label: 'epoch 1', stream: s, unit: 'batch', now: c.now });
  for (let i = 0; i < 12; i++) {
    c.advance(1000);
    p.tick(1, { loss: 2.5 });
  }
  p.done();
  assert.equal(s.chunks, [
    'epoch 1 5/12 (41%) loss 2.50 · 1 batch/s · ETA 7s\n',
    'epoch 1 10/12 (83%) loss 2.50 · 1 batch/s · ETA 2s\n',
    'epoch 1 12/12 done in 12s (1 batch/s) · loss 2.50\n',
  ]);
  assert.ok(s.chunks.every((l) => !l.includes('\r') && !l.includes('[#')));
});

test('a resumed bar counts from start, and rejects bad input', () => {
  const s = new FakeStream(false);
  const c = clock();
  const p = createProgress({ total: 100, label: 'r', stream: s, start: 40, plainIntervalMs: 0, now: c.now });
  c.advance(1000);
  p.tick(10);
  assert.is(s.chunks[0], 'r 50/100 (50%) 10 it/s · ETA 5s\n');
  assert.throws(() => p.tick(-1), /tick count must be a non-negative number, got -1/);
  assert.throws(() => createProgress({ total: NaN, label: 'x', stream: s }), /progress "x": total must be a non-negative number/);
});

test('stage log: a line per stage, count lines at most once a second, the time at the end', () => {
  const s = new FakeStream(false);
  const c = clock();
  const p = stderrProgress(true, { stream: s, now: c.now });
  p.stage('render 4 images');
  c.advance(1500);
  p.step(1, 4);
  c.advance(400);
  p.step(2, 4); // within the second: not printed
  c.advance(700);
  p.step(3, 0);
  p.done('4 files');
  p.stage('write CSV');
  c.advance(10);
  p.done();
  assert.equal(s.chunks, [
    '[m2fn] render 4 images…\n',
    '[m2fn] render 4 images: 1/4 (25.0%)\n',
    '[m2fn] render 4 images: 3/0 (?%)\n',
    '[m2fn] render 4 images done in 2.60s: 4 files\n',
    '[m2fn] write CSV…\n',
    '[m2fn] write CSV done in 0.01s\n',
  ]);
  const quiet = new FakeStream(false);
  const q = stderrProgress(false, { stream: quiet, now: c.now });
  q.stage('x');
  q.step(1, 1);
  q.done('y');
  assert.equal(quiet.chunks, []);
});

test.run();
