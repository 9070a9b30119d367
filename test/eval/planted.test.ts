// The text-band lift of an explanation map against maps whose answer is known.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bandLift, bandMass } from '../../tools/explain/planted.ts';

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('uniform map: mass = band fraction, lift 1 (what a map blind to the band gets)', () => {
  near(bandMass(new Float32Array(16).fill(0.3), 4, 4, 0.25, 0.75), 0.5, 'mass');
  near(bandLift(new Float32Array(16).fill(0.3), 4, 4, 0.1, 0.35), 1, 'lift');
});

test('map on the band rows only: lift 1 / band fraction; partial rows counted by overlap', () => {
  // rows 1 and 2 of 4 = [0.25, 0.75): all mass inside
  const m = Float32Array.from({ length: 16 }, (_, i) => (i >= 4 && i < 12 ? 1 : 0));
  near(bandLift(m, 4, 4, 0.25, 0.75), 2, 'lift');
  // band [0.375, 0.5) covers half of row 1 only: mass = 0.5 · (row 1's share 0.5) = 0.25
  near(bandMass(m, 4, 4, 0.375, 0.5), 0.25, 'half-row mass');
  // negative values count as zero, an all-zero map has no mass to place
  near(bandMass(Float32Array.of(-1, 1), 2, 1, 0, 0.5), 0, 'negative');
  assert.ok(Number.isNaN(bandMass(new Float32Array(4), 2, 2, 0, 0.5)));
});

test.run();
