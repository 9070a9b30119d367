// The scoring service over 127.0.0.1: answers equal the in-process scorer's (alone exactly; in a
// micro-batch to float32 kernel rounding), concurrent requests really share model runs and none
// is lost or mixed up, every kind of bad request is a 4xx with the runtime's message while the
// server keeps serving, a full queue answers 503 + Retry-After, and shutdown finishes what it admitted.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeInference } from '../../graph/export/inference.ts';
import { buildModel } from '../../graph/models/m2fn.ts';
import { load, type Scorer } from '../../runtime/node.ts';
import { ctrOf } from '../../runtime/results.ts';
import { startServer, type ScoringServer, type ServeOptions } from '../../tools/serve/server.ts';
import { smallConfig, tmp } from '../graph/helpers.ts';
import { attributeQuery, rawHttp } from '../hostile/http.ts';

/** Batched vs single model runs differ only by float32 kernel rounding. */
const BATCH_TOL = 1e-6;

const ATTRS = { gender: 1, age: 3, month: 11, weekday: 5, hour: 20, position: 2, cate2: 1, cate3: 9, title: 'Build your kingdom', desc: 'Free to play', ocr: 'PLAY NOW', domcol: 'blue' };

let env: { scorer: Scorer; images: Buffer[] } | null = null;
async function setup() {
  if (env) return env;
  const dir = tmp('serve');
  await writeInference(join(dir, 'model'), buildModel(smallConfig('m2fn', { size: 32, seed: 7 })));
  const scorer = await load(join(dir, 'model'));
  const images = await Promise.all(
    [[200, 40, 90], [30, 160, 220], [250, 220, 40]].map(([r, g, b], i) =>
      sharp({ create: { width: 60 + 10 * i, height: 50, channels: 3, background: { r, g, b } } }).png().toBuffer(),
    ),
  );
  return (env = { scorer, images });
}

async function withServer(opts: ServeOptions, fn: (s: ScoringServer, scorer: Scorer, images: Buffer[]) => Promise<void>) {
  const { scorer, images } = await setup();
  const s = await startServer(scorer, opts);
  try {
    await fn(s, scorer, images);
  } finally {
    await s.close(1000);
  }
}

const postImage = (url: string, image: Uint8Array, attrs: Record<string, unknown>, type = 'image/png') =>
  fetch(`${url}/score?${attributeQuery(attrs)}`, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(image) });
const postJson = (url: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('GET /model, /healthz, /readyz; unknown paths and methods', async () => {
  await withServer({}, async (s, scorer) => {
    assert.equal(await (await fetch(`${s.url}/model`)).json(), scorer.card);
    assert.equal(await (await fetch(`${s.url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    assert.is(ready.status, 200);
    assert.is(((await ready.json()) as { model: string }).model, scorer.card.model);
    assert.is((await fetch(`${s.url}/nope`)).status, 404);
    const wrong = await fetch(`${s.url}/score`);
    assert.is(wrong.status, 405);
    assert.is(wrong.headers.get('allow'), 'POST');
  });
});

test('POST /score (image body + query, or JSON with base64) equals scorer.score; POST /rank orders as the scores do', async () => {
  await withServer({}, async (s, scorer, images) => {
    const want = await scorer.score(images[0], ATTRS);
    const raw = await postImage(s.url, images[0], ATTRS);
    assert.is(raw.status, 200);
    assert.equal(await raw.json(), want);
    const viaJson = await postJson(s.url, '/score', { image: images[0].toString('base64'), attributes: ATTRS });
    assert.equal(await viaJson.json(), want);

    const { gender, age, month, weekday, hour, position, ...own } = ATTRS;
    const context = { gender, age, month, weekday, hour, position };
    const creatives = images.map((im, i) => ({ id: `ad-${i}`, image: im.toString('base64'), attributes: { ...own, domcol: ['red', 'blue', 'yellow'][i] } }));
    const r = await postJson(s.url, '/rank', { context, creatives });
    assert.is(r.status, 200, await r.clone().text());
    const { ranking } = (await r.json()) as { ranking: { index: number; id: string; score: { ctr: number } }[] };
    const expected = await Promise.all(images.map((im, i) => scorer.score(im, { ...context, ...creatives[i].attributes }).then(ctrOf)));
    assert.equal(ranking.map((x) => x.index), expected.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i));
    for (const x of ranking) {
      assert.is(x.id, `ad-${x.index}`);
      assert.ok(Math.abs(x.score.ctr - expected[x.index]) <= BATCH_TOL, `${x.id}: ${x.score.ctr} vs ${expected[x.index]}`);
    }
  });
});

test('36 concurrent requests: every answer is its own (vs sequential scores), and they share model runs', async () => {
  // A tiny model runs faster than requests are prepared; a window lets them meet in one run.
  await withServer({ maxBatch: 8, batchWindowMs: 30 }, async (s, scorer, images) => {
    const asks = Array.from({ length: 36 }, (_, i) => ({ image: images[i % 3], attributes: { ...ATTRS, hour: i % 24, gender: 1 + (i % 2) } }));
    const sequential: number[] = [];
    for (const a of asks) sequential.push(ctrOf(await scorer.score(a.image, a.attributes)));
    const answers = await Promise.all(asks.map((a) => postImage(s.url, a.image, a.attributes).then(async (r) => ({ status: r.status, body: (await r.json()) as { ctr: number } }))));
    answers.forEach((a, i) => {
      assert.is(a.status, 200);
      assert.ok(Math.abs(a.body.ctr - sequential[i]) <= BATCH_TOL, `request ${i}: ${a.body.ctr} vs ${sequential[i]}`);
    });
    assert.ok(new Set(sequential).size > 20, 'the requests really differ');
    const st = s.stats();
    assert.is(st.items, 36);
    assert.ok(st.largestBatch > 1 && st.batches < 36, `micro-batching: ${JSON.stringify(st)}`);
    assert.ok(st.largestBatch <= 8);
  });
});

test('bad requests: each a 4xx with a clear message, and the server keeps serving', async () => {
  await withServer({ maxBodyBytes: 50_000, maxPixels: 100 * 100, requestTimeoutMs: 1500 }, async (s, scorer, images) => {
    const big = await sharp({ create: { width: 150, height: 150, channels: 3, background: '#336699' } }).png().toBuffer();
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ['oversized body', () => postImage(s.url, Buffer.alloc(80_000, 7), ATTRS), 413, /over the limit of 50000 bytes/],
      ['corrupt image', () => postImage(s.url, Buffer.from('this is not a png'), ATTRS), 400, /^image: not a decodable image/],
      ['too many pixels', () => postImage(s.url, big, ATTRS), 400, /150×150 = 22500, the limit is 10000/],
      ['unknown attribute', () => postImage(s.url, images[0], { ...ATTRS, colour: 'red' }), 400, /unknown attribute "colour"/],
      ['unknown level', () => postImage(s.url, images[0], { ...ATTRS, hour: 25 }), 400, /attribute "hour" has unknown value "25"/],
      ['wrong content type', () => fetch(`${s.url}/score`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, /takes an image body/],
      ['invalid JSON', () => fetch(`${s.url}/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image":' }), 400, /not valid JSON/],
      ['not base64', () => postJson(s.url, '/score', { image: '!!!', attributes: ATTRS }), 400, /"image" is not base64/],
      ['rank: bad creative', () => postJson(s.url, '/rank', { context: {}, creatives: [{ image: images[0].toString('base64'), attributes: { ...ATTRS, domcol: 'purple' } }] }), 400, /^creatives\[0\]: attribute "domcol" has unknown value "purple"/],
    ];
    const want = ctrOf(await scorer.score(images[1], ATTRS));
    for (const [what, ask, status, message] of cases) {
      const r = await ask();
      assert.is(r.status, status, what);
      const body = (await r.json()) as { error: string };
      assert.match(body.error, message, `${what}: ${body.error}`);
      const good = await postImage(s.url, images[1], ATTRS);
      assert.is(good.status, 200, `after ${what}`);
      assert.is(((await good.json()) as { ctr: number }).ctr, want);
    }
    // A client that declares a body and then stops sending: answered 408 when the request timeout ends.
    const t0 = performance.now();
    const answer = await rawHttp(s.url, { method: 'POST', path: '/score', headers: { 'content-type': 'image/png' }, contentLength: 5000, body: Buffer.alloc(100, 1), ms: 10_000 });
    assert.is(answer.status, 408);
    assert.ok(performance.now() - t0 < 5000, 'answered near the 1.5 s timeout');
    assert.is((await postImage(s.url, images[1], ATTRS)).status, 200, 'after the slow client');
    assert.is(s.stats().inFlight, 0, 'nothing left hanging');
  });
});

test('a full queue answers 503 with Retry-After; what it admits is answered right', async () => {
  await withServer({ maxQueue: 2, maxBatch: 1 }, async (s, scorer, images) => {
    const want = ctrOf(await scorer.score(images[2], ATTRS));
    const answers = await Promise.all(Array.from({ length: 12 }, () => postImage(s.url, images[2], ATTRS)));
    const busy = answers.filter((r) => r.status === 503);
    const ok = answers.filter((r) => r.status === 200);
    assert.is(busy.length + ok.length, 12);
    assert.ok(busy.length > 0 && ok.length >= 2, `${ok.length} answered, ${busy.length} busy`);
    for (const r of busy) {
      assert.is(r.headers.get('retry-after'), '1');
      assert.match(((await r.json()) as { error: string }).error, /busy: 2 requests in progress, the limit is 2/);
    }
    for (const r of ok) assert.is(((await r.json()) as { ctr: number }).ctr, want);
    assert.ok(s.stats().maxInFlight <= 2);
  });
});

/** A request whose body is sent in two parts: the second only when `release` resolves. Resolves to the raw response. */
function splitRequest(url: string, path: string, type: string, body: Buffer, release: Promise<void>): Promise<string> {
  const { port } = new URL(url);
  return new Promise((ok, fail) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body.subarray(0, 10));
      void release.then(() => socket.write(body.subarray(10)));
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => ok(text));
    socket.on('error', fail);
  });
}

test('graceful shutdown: requests admitted before close are answered; then the port is closed', async () => {
  const { scorer, images } = await setup();
  const s = await startServer(scorer, {});
  const want = ctrOf(await scorer.score(images[0], ATTRS));
  let release!: () => void;
  const released = new Promise<void>((ok) => (release = ok));
  const pending = Array.from({ length: 4 }, () => splitRequest(s.url, `/score?${attributeQuery(ATTRS)}`, 'image/png', images[0], released));
  while (s.stats().inFlight < 4) await new Promise((ok) => setTimeout(ok, 5));
  const closing = s.close();
  assert.is((await fetch(`${s.url}/readyz`).catch(() => null))?.status ?? 'refused', 'refused', 'no new connections while draining');
  release();
  await closing;
  for (const raw of await Promise.all(pending)) {
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.is(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).ctr, want);
  }
  await fetch(`${s.url}/healthz`).then(
    () => assert.unreachable('the server still answers after close'),
    (e: Error) => assert.match(String((e.cause as Error | undefined)?.message ?? e.message), /ECONNREFUSED/),
  );
});

test('m2fn serve from the command line: prints its address, serves, and exits cleanly on SIGTERM', async () => {
  const dir = tmp('serve-cli');
  await writeInference(join(dir, 'model'), buildModel(smallConfig('m2fn', { size: 32, seed: 7 })));
  const child = spawn(process.execPath, ['bin/m2fn.js', 'serve', '--model', join(dir, 'model'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(stderr) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    const url = stderr.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    assert.ok(url, `no address in: ${stderr}`);
    assert.is((await fetch(`${url}/readyz`)).status, 200);
    const { images } = await setup();
    assert.is((await postImage(url!, images[0], ATTRS)).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM, finishing 0 requests in progress\nm2fn serve: stopped/);
});

test.after(async () => {
  await env?.scorer.close();
});

test.run();
