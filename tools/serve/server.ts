// The HTTP scoring service behind `m2fn serve`, on node:http (docs/runtime.md, "Scoring service",
// says why no framework). Each request is read under a size limit, its image decoded and its
// attributes encoded right away (concurrently with other requests), and the prepared tensors go to
// the micro-batcher, which runs them with other requests' in one session.run. Admission is
// bounded: past `maxQueue` requests in the house, new ones get 503 with Retry-After instead of
// piling up. Bad input is a 4xx whose message is the runtime's own.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { encodeAttributes, type Attributes } from '../../runtime/attributes.ts';
import { M2fnInputError } from '../../runtime/errors.ts';
import { imageToTensor } from '../../runtime/image-node.ts';
import type { Scorer } from '../../runtime/node.ts';
import { scoreValue, type Score } from '../../runtime/results.ts';
import { NO_TEXT, pickTextEncoder } from '../../runtime/scorer-common.ts';
import { typeAttributes, ScoreInputError } from '../score/inputs.ts';
import { MicroBatcher, type PreparedItem } from './batcher.ts';

export interface ServeOptions {
  /** Largest request body in bytes (413 beyond). Default 10 MiB. */
  maxBodyBytes?: number;
  /** Pixel limit for uploaded images; at most the card's preprocessing.maxPixels. */
  maxPixels?: number;
  /** Requests admitted at once (being read, prepared, queued or run); 503 beyond. Default 64. */
  maxQueue?: number;
  /** Most items in one model run. Default 16. */
  maxBatch?: number;
  /** How long a batch that is not full waits for more requests, ms (MicroBatcher). Default 0. */
  batchWindowMs?: number;
  /** A whole request (headers and body) must arrive within this; 408 otherwise. Default 10 s. */
  requestTimeoutMs?: number;
  /** Most creatives in one POST /rank. Default 256. */
  maxRankItems?: number;
  /** Directories served for GET requests outside the API, by URL prefix ("/" → web/, "/ort/" → …). */
  static?: Record<string, string>;
  host?: string;
  port?: number;
}

export interface ServerStats {
  /** Requests admitted and not yet answered, now and at most. */
  inFlight: number;
  maxInFlight: number;
  rejectedBusy: number;
  batches: number;
  items: number;
  largestBatch: number;
}

export interface ScoringServer {
  readonly url: string;
  readonly server: Server;
  stats(): ServerStats;
  /** Stops accepting, answers what was admitted (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/** An answer with a status other than 200: the message goes to the client as `{ error }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.map': 'application/json',
};

const IMAGE_TYPES = /^(image\/[a-z0-9.+-]+|application\/octet-stream)$/;

export async function startServer(scorer: Scorer, opts: ServeOptions = {}): Promise<ScoringServer> {
  const card = scorer.card;
  const maxBodyBytes = opts.maxBodyBytes ?? 10 * 1024 * 1024;
  const maxQueue = opts.maxQueue ?? 64;
  const maxRankItems = opts.maxRankItems ?? 256;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const preprocessing = { ...card.preprocessing, maxPixels: Math.min(card.preprocessing.maxPixels, opts.maxPixels ?? Infinity) };
  // The same text encoder the scorer picked for this card (the built-in one; others fail here, at start).
  const encoder = pickTextEncoder(card, undefined) ?? NO_TEXT;
  const batcher = new MicroBatcher((image, aux, n) => scorer.scoreTensors(image, aux, n), opts.maxBatch ?? 16, opts.batchWindowMs ?? 0);
  // Longest prefix first, so "/ort/" wins over "/".
  const mounts = Object.entries(opts.static ?? {})
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  let inFlight = 0;
  let maxInFlight = 0;
  let rejectedBusy = 0;
  let draining = false;

  const prepare = async (bytes: Uint8Array, attributes: Attributes, label: string): Promise<PreparedItem> => {
    const [image, aux] = await Promise.all([
      imageToTensor(bytes, preprocessing, { label }),
      card.auxSchema ? encodeAttributes(card.auxSchema, attributes, encoder) : Promise.resolve(null),
    ]);
    return { image, aux };
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((ok, fail) => {
      const declared = Number(req.headers['content-length']);
      if (declared > maxBodyBytes) return fail(new HttpError(413, `request body of ${declared} bytes is over the limit of ${maxBodyBytes} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBodyBytes) {
          fail(new HttpError(413, `request body is over the limit of ${maxBodyBytes} bytes`));
          req.removeAllListeners('data');
          req.resume();
        } else chunks.push(c);
      });
      let ended = false;
      req.on('end', () => {
        ended = true;
        ok(Buffer.concat(chunks));
      });
      req.on('error', fail);
      // A client that stops sending (or node's requestTimeout, which answers 408 itself) closes
      // the request early; without this the handler would wait for the body forever.
      req.on('close', () => ended || fail(new HttpError(408, 'the connection closed before the request body was complete')));
    });

  const json = (body: Buffer): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'request body must be a JSON object');
    return v as Record<string, unknown>;
  };

  const base64Image = (v: unknown, what: string): Buffer => {
    if (typeof v !== 'string' || v === '') throw new HttpError(400, `${what} must be the image file as a base64 string`);
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) throw new HttpError(400, `${what} is not base64`);
    return Buffer.from(v, 'base64');
  };

  const record = (v: unknown, what: string): Attributes => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, `${what} must be an object of attribute name → value`);
    return v as Attributes;
  };

  const decodePath = (path: string) => {
    try {
      return decodeURIComponent(path);
    } catch {
      throw new HttpError(400, `the URL path ${JSON.stringify(path.slice(0, 200))} is not valid percent-encoded UTF-8`);
    }
  };

  const contentType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

  async function score(req: IncomingMessage, url: URL): Promise<Score> {
    const type = contentType(req);
    if (type === 'application/json') {
      const body = json(await readBody(req));
      const unknown = Object.keys(body).filter((k) => k !== 'image' && k !== 'attributes');
      if (unknown.length) throw new HttpError(400, `unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (POST /score takes { image, attributes })`);
      const item = await prepare(base64Image(body.image, '"image"'), record(body.attributes, '"attributes"'), 'image');
      return (await batcher.submit([item]))[0];
    }
    if (IMAGE_TYPES.test(type)) {
      const attributes = typeAttributes(card.auxSchema, Object.fromEntries(url.searchParams), 'the query string');
      const item = await prepare(await readBody(req), attributes, 'image');
      return (await batcher.submit([item]))[0];
    }
    throw new HttpError(415, `POST /score takes an image body (Content-Type image/png, image/jpeg, …; attributes in the query string) or application/json { "image": base64, "attributes": {…} }, not ${JSON.stringify(type || '(none)')}`);
  }

  async function rank(req: IncomingMessage): Promise<{ ranking: { index: number; id?: unknown; score: Score }[] }> {
    if (contentType(req) !== 'application/json') {
      throw new HttpError(415, `POST /rank takes application/json { "context": {…}, "creatives": [{ "image": base64, "attributes": {…}, "id": … }] }, not ${JSON.stringify(contentType(req) || '(none)')}`);
    }
    const body = json(await readBody(req));
    const context = record(body.context, '"context"');
    const creatives = body.creatives;
    if (!Array.isArray(creatives) || creatives.length === 0) throw new HttpError(400, '"creatives" must be a non-empty array of { image, attributes?, id? }');
    if (creatives.length > maxRankItems) throw new HttpError(413, `${creatives.length} creatives, the limit is ${maxRankItems} per request`);
    // Every creative's shape is checked before any is decoded: a bad one thrown while earlier
    // decodes were already started would leave their rejections unhandled (and end the process).
    const asks = creatives.map((c: unknown, i) => {
      const what = `creatives[${i}]`;
      if (typeof c !== 'object' || c === null) throw new HttpError(400, `${what} must be an object { image, attributes?, id? }`);
      const { image, attributes, id } = c as Record<string, unknown>;
      const own = record(attributes, `${what}.attributes`);
      const both = Object.keys(own).filter((k) => Object.hasOwn(context, k));
      if (both.length) throw new HttpError(400, `${what} and "context" both set ${both.join(', ')}`);
      return { what, id, bytes: base64Image(image, `${what}.image`), attributes: { ...own, ...context } };
    });
    const ids = asks.map((a) => a.id);
    const items = await Promise.all(
      asks.map(({ what, bytes, attributes }) =>
        prepare(bytes, attributes, what).catch((e: unknown) => {
          throw e instanceof M2fnInputError && !e.message.startsWith(what) ? new M2fnInputError(`${what}: ${e.message}`) : e;
        }),
      ),
    );
    const scores = await batcher.submit(items);
    const ranking = scores.map((score, index) => (ids[index] === undefined ? { index, score } : { index, id: ids[index], score }));
    ranking.sort((a, b) => scoreValue(b.score) - scoreValue(a.score));
    return { ranking };
  }

  async function serveStatic(res: ServerResponse, path: string): Promise<boolean> {
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    if (!mount) return false;
    const [prefix, root] = mount;
    const rest = path.slice(prefix.length);
    const file = normalize(join(root, rest === '' || rest.endsWith('/') ? `${rest}index.html` : rest));
    if (!file.startsWith(root + sep)) throw new HttpError(403, 'outside the served directory');
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return false;
    res.writeHead(200, { 'content-type': STATIC_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-cache' });
    await new Promise<void>((ok, fail) => createReadStream(file).on('error', fail).pipe(res).on('finish', ok));
    return true;
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(draining ? { connection: 'close' } : {}), ...headers });
    res.end(text);
  };

  const routes: Record<string, Partial<Record<string, (req: IncomingMessage, url: URL) => Promise<unknown>>>> = {
    '/score': { POST: score },
    '/rank': { POST: rank },
    '/model': { GET: async () => card },
    '/healthz': { GET: async () => ({ status: 'ok' }) },
    '/readyz': {
      GET: async () => {
        if (draining) throw new HttpError(503, 'shutting down');
        return { status: 'ready', model: card.model, ep: scorer.ep, inFlight, maxQueue };
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[url.pathname];
    const method = req.method ?? 'GET';
    if (!route) {
      if ((method === 'GET' || method === 'HEAD') && (await serveStatic(res, decodePath(url.pathname)))) return;
      throw new HttpError(404, `no such endpoint: ${method} ${url.pathname} (POST /score, POST /rank, GET /model, /healthz, /readyz)`);
    }
    const fn = route[method];
    if (!fn) throw new HttpError(405, `${url.pathname} takes ${Object.keys(route).join(', ')}, not ${method}`, { allow: Object.keys(route).join(', ') });
    const scoring = method === 'POST';
    if (scoring) {
      if (draining) throw new HttpError(503, 'shutting down', { 'retry-after': '1' });
      if (inFlight >= maxQueue) {
        rejectedBusy++;
        throw new HttpError(503, `busy: ${inFlight} requests in progress, the limit is ${maxQueue}; retry shortly`, { 'retry-after': '1' });
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
    try {
      send(res, 200, await fn(req, url));
    } finally {
      if (scoring) inFlight--;
    }
  }

  const server = createServer({ requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, requestTimeoutMs) }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof M2fnInputError || e instanceof ScoreInputError ? 400 : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (res.headersSent) return void res.destroy();
      // After a refused body, close the connection rather than read the rest of it.
      const close: Record<string, string> = status === 413 ? { connection: 'close' } : {};
      send(res, status, { error: message }, { ...(e instanceof HttpError ? e.headers : {}), ...close });
    });
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok()));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    server,
    stats: () => ({ inFlight, maxInFlight, rejectedBusy, ...batcher.stats }),
    async close(graceMs = 10_000) {
      draining = true;
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
      await batcher.idle();
      server.closeAllConnections();
      await closed;
    },
  };
}
