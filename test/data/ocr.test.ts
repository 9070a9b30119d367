// OCR (tesseract.js, offline) reads the rendered catchphrases; reports the character error rate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateWorld } from '../../tools/data/world.ts';
import { renderAd } from '../../tools/data/render.ts';
import { createOcr, characterErrorRate, editDistance } from '../../runtime/extract/ocr.ts';

test('edit distance and CER', () => {
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(characterErrorRate('Join  the Battle', 'join the battle'), 0);
  assert.is(characterErrorRate('abcd', 'abxd'), 0.25);
});

// Text over the stripes of 'multiple' ads crosses backgrounds of very different brightness, which
// tesseract often cannot read; those are measured and reported, and the bound applies to ads
// with one background colour.
test('rendered catchphrases are read back (mean CER < 0.1 on single-colour high-contrast ads)', async () => {
  const world = generateWorld(21, 300);
  const single = world.images.filter((s) => s.highContrast && s.colour !== 'multiple').slice(0, 16);
  const striped = world.images.filter((s) => s.highContrast && s.colour === 'multiple').slice(0, 6);
  const ocr = await createOcr();
  const meanCer = async (specs: typeof single) => {
    let total = 0;
    for (const spec of specs) total += characterErrorRate(spec.catchphrase, await ocr.read(await renderAd(spec, 224)));
    return total / specs.length;
  };
  try {
    const a = await meanCer(single);
    const b = await meanCer(striped);
    console.log(`  OCR mean CER ${a.toFixed(3)} on ${single.length} single-colour ads (flat, pixel, photo), ${b.toFixed(3)} on ${striped.length} striped 'multiple' ads`);
    assert.ok(a < 0.1, `mean CER ${a}`);
  } finally {
    await ocr.close();
  }
});

test.run();
