// Attribute extraction is part of the runtime package: an app can fill domcol (and OCR text) itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { dominantColour, REFERENCE_RGB } from '../../runtime/index.ts';

test('dominantColour from the runtime names a rendered ad’s background colour', async () => {
  for (const name of ['blue', 'red', 'yellow'] as const) {
    const [r, g, b] = REFERENCE_RGB[name];
    const png = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r, g, b } } })
      .composite([{ input: Buffer.from('<svg width="96" height="64"><rect x="30" y="20" width="30" height="14" fill="white"/></svg>'), top: 0, left: 0 }])
      .png()
      .toBuffer();
    assert.is((await dominantColour(png)).colour, name);
  }
});

test.run();
