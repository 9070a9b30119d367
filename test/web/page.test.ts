// The scoring page (web/) in real Chromium, served by the scoring service as `m2fn serve --web`
// serves it: it loads the model beside it, builds its controls from the card, and for an image
// and attributes set through those controls shows the Node runtime's score (the image is at the
// model's size, so no resampling separates the browser from sharp) and, in its chart, the Node
// runtime's scores across the hours. A screenshot is left in out/test-artifacts/web-page.png.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { load } from '../../runtime/node.ts';
import { ctrOf } from '../../runtime/results.ts';
import { startServer } from '../../tools/serve/server.ts';
import { webPageMounts } from '../../tools/serve/web.ts';
import { smallConfig, tmp } from '../graph/helpers.ts';
import { assertChromium, CHROMIUM, FLAGS } from './chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** wasm vs native float32 kernels on the same tensors (docs/runtime.md: 4e-7 measured). */
const RTOL = 1e-5;
const SIZE = 32;

function close(page: number, node: number, what: string) {
  const rel = Math.abs(page - node) / Math.max(Math.abs(node), 1e-9);
  assert.ok(rel <= RTOL, `${what}: page ${page}, node ${node}, relative difference ${rel.toExponential(2)}`);
}

test('the page scores an image with attributes set in its controls as the Node runtime does, and charts the hours', async () => {
  assertChromium();
  const build = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(build.status, 0, build.stderr);
  const dir = tmp('web-page');
  const model = join(dir, 'model');
  await writeInference(model, buildModel(smallConfig('m2fn', { size: SIZE, seed: 11 })));
  const raw = Buffer.alloc(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) raw.set([(i * 7) % 256, (i >> 5) * 8, 255 - ((i * 3) % 256)], 3 * i);
  const adPath = join(dir, 'ad.png');
  await sharp(raw, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(adPath);

  const scorer = await load(model);
  const service = await startServer(scorer, { static: webPageMounts(model) });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1100, height: 820 } });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${service.url}/`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 }).catch(async () => {
      throw new Error(`the page did not load its model: ${await page.textContent('#status')} ${errors.join('; ')}`);
    });
    // Controls come from the card's schema: one per attribute, levels as options.
    const names = await page.$$eval('#attributes [name]', (els) => els.map((e) => (e as HTMLInputElement).name));
    assert.equal(names, scorer.card.auxSchema!.attributes.map((a) => a.name));
    assert.equal(await page.$$eval('[name=hour] option', (os) => os.length), 24);

    const settle = async (act: () => Promise<unknown>) => {
      await page.evaluate(() => (document.body.dataset.state = 'stale'));
      await act();
      await page.waitForSelector('body[data-state=scored]', { timeout: 30_000 }).catch(async () => {
        throw new Error(`no score: ${await page.textContent('#status')}`);
      });
    };
    await settle(() => page.setInputFiles('#image', adPath));
    await settle(() => page.selectOption('[name=gender]', '2'));
    await settle(() => page.selectOption('[name=hour]', '21'));
    await settle(() => page.selectOption('[name=domcol]', 'red'));
    await settle(async () => {
      await page.fill('[name=title]', 'Gem Quest');
      await page.press('[name=title]', 'Tab'); // change fires when the box loses focus
    });

    const attributes = await page.$$eval('#attributes [name]', (els) => Object.fromEntries(els.map((e) => [(e as HTMLInputElement).name, (e as HTMLInputElement).value])));
    assert.is(attributes.hour, '21');
    assert.is(attributes.title, 'Gem Quest');
    const shown = Number(await page.getAttribute('#ctr', 'data-value'));
    close(shown, ctrOf(await scorer.score(adPath, attributes)), 'predicted CTR');
    assert.match((await page.textContent('#ctr')) ?? '', /^\d+\.\d{3}%$/);

    const bars = await page.$$eval('#chart rect', (rs) => rs.map((r) => ({ level: r.getAttribute('data-level'), value: Number(r.getAttribute('data-value')), current: r.classList.contains('current') })));
    assert.equal(bars.map((b) => b.level), Array.from({ length: 24 }, (_, h) => String(h)));
    assert.equal(bars.filter((b) => b.current).map((b) => b.level), ['21']);
    const hours = await scorer.scoreMany(bars.map((b) => ({ image: adPath, attributes: { ...attributes, hour: b.level } })));
    bars.forEach((b, h) => close(b.value, ctrOf(hours[h]), `chart, hour ${h}`));
    assert.ok(new Set(bars.map((b) => b.value)).size > 1, 'the hour moves the score');

    const shots = join(ROOT, 'out', 'test-artifacts');
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'web-page.png'), fullPage: true });
    assert.equal(errors, []);
  } finally {
    await context.close();
    await service.close(1000);
    await scorer.close();
  }
});

test.run();
