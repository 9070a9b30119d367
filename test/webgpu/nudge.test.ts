// bench/gpu-bisect.ts --against nudged (how far a rounding-sized change moves each tensor of a
// training graph) moves every value by one unit in its last place: each nonzero float32 must land
// on one of its two neighbours, zeros must stay, and the directions must be drawn, not fixed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { oneUlp } from '../../bench/gpu-presets.ts';
import { rng } from '../../runtime/random.ts';

test('oneUlp moves every nonzero value to a float32 neighbour, both ways, and leaves zeros', () => {
  const r = rng(3);
  const before = Float32Array.from({ length: 2000 }, (_, i) => (i % 10 === 0 ? 0 : (r() - 0.5) * 10 ** Math.floor(r() * 12 - 6)));
  before[1] = 1; //      binade edges: 1 goes to 1 − 2⁻²⁴ or 1 + 2⁻²³
  before[2] = -(2 ** -126);
  const after = Float32Array.from(before);
  oneUlp(after, rng(4));
  let [up, down] = [0, 0];
  for (let i = 0; i < before.length; i++) {
    const [a, b] = [before[i], after[i]];
    if (a === 0) {
      assert.is(b, 0, `zero at ${i} moved`);
      continue;
    }
    assert.ok(a !== b && Math.sign(a) === Math.sign(b), `${a} → ${b} at ${i}`);
    // A neighbour: no float32 strictly between them (their midpoint rounds onto one of them).
    const mid = Math.fround((a + b) / 2);
    assert.ok(mid === a || mid === b, `${a} → ${b} skips ${mid}`);
    if (Math.abs(b) > Math.abs(a)) up++;
    else down++;
  }
  assert.ok(up > 700 && down > 700, `directions ${up} away from zero, ${down} towards`);
  assert.ok(after[1] === 1 - 2 ** -24 || after[1] === 1 + 2 ** -23, `1 → ${after[1]}`);
});

test.run();
