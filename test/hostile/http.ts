// The hostile-input tests' HTTP client: raw bytes over a socket to 127.0.0.1, so a case can send
// what fetch never would (an unnormalised `..` path, a Content-Length that lies, a body that
// trickles), with `Connection: close` so every exchange ends with the socket. Each request has
// its own time bound, after which the socket is destroyed: no case leaves a connection behind.
import { connect } from 'node:net';

/** A response with a status of 400 or more; the message is the status line and the body. */
export class HttpRefusal extends Error {
  /** The service's own message (`{ "error": "…" }`), or null when the body is not one. */
  readonly error: string | null;
  constructor(readonly status: number, readonly body: string) {
    const error = messageOf(body);
    super(`HTTP ${status}: ${error ?? (body.trim() || '(no body)')}`);
    this.error = error;
  }
}

function messageOf(body: string): string | null {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' && e !== '' ? e : null;
  } catch {
    return null;
  }
}

/** Statuses node:http answers by itself, without a body: an unparseable request, a request too slow, headers too large. */
export const NODE_HTTP_OWN = new Set([400, 408, 431]);

export interface RawRequest {
  method?: string;
  /** Sent as written: no normalisation of `..` or percent-escapes. */
  path: string;
  headers?: Record<string, string | number>;
  body?: Uint8Array | string;
  /** Declared length when it should not be the body's (default: the body's length). */
  contentLength?: number | null;
  /** Send the body in chunks of this many bytes, `trickle.everyMs` apart (a slow client). */
  trickle?: { bytes: number; everyMs: number };
  ms?: number;
}

/** Status and body of one exchange; rejects when the server does not answer within `ms`. */
export function rawHttp(url: string, r: RawRequest): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  const body = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body ?? new Uint8Array(0));
  const length = r.contentLength === undefined ? (r.body === undefined ? null : body.length) : r.contentLength;
  const headers = { host: '127.0.0.1', connection: 'close', ...(length === null ? {} : { 'content-length': length }), ...r.headers };
  const head = `${r.method ?? 'GET'} ${r.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(head);
      if (!r.trickle) return void socket.write(body);
      let at = 0;
      const step = () => {
        if (at >= body.length || socket.destroyed) return;
        socket.write(body.subarray(at, (at += r.trickle!.bytes)));
        timer = setTimeout(step, r.trickle!.everyMs);
      };
      step();
    });
    const deadline = setTimeout(() => {
      socket.destroy();
      fail(new Error(`${r.method ?? 'GET'} ${r.path.slice(0, 80)}: no answer within ${r.ms ?? 5000} ms (a hang)`));
    }, r.ms ?? 5000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A server that answers early (413) may reset the connection while the client still sends.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(deadline);
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1]);
      if (!status) return fail(new Error(`${r.method ?? 'GET'} ${r.path.slice(0, 80)}: the connection closed without an HTTP answer${text ? `: ${text.slice(0, 100)}` : ''}`));
      ok({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** The query string of attributes `a` (the image-body form of POST /score). */
export const attributeQuery = (a: Record<string, unknown>) => new URLSearchParams(Object.entries(a).map(([k, v]) => [k, String(v)])).toString();

/** The JSON body of a 2xx answer; throws HttpRefusal for a 4xx or 5xx. */
export async function httpJson(url: string, r: RawRequest): Promise<unknown> {
  const { status, body } = await rawHttp(url, r);
  if (status >= 400) throw new HttpRefusal(status, body);
  return JSON.parse(body);
}
