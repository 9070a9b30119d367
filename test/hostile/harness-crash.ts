// What counts as a crash in the hostile-input harness and the fuzzer: any error that is not the
// project's own clear one (for the HTTP service: a 5xx, or a 4xx without a message).
import { CliFailure } from './cases.ts';
import { HttpRefusal, NODE_HTTP_OWN } from './http.ts';

/** Why `e` is not a clear error from the project, or null. */
export function crash(e: unknown): string | null {
  if (e instanceof CliFailure) {
    if (e.signal) return `killed by ${e.signal} (over its time bound?)`;
    if (e.status !== 1 && e.status !== 2) return `exit status ${e.status}`;
    if (/^\s+at .+:\d+:\d+\)?$/m.test(e.stderr)) return 'a stack trace on stderr';
    if (/\b(TypeError|RangeError|ReferenceError|SyntaxError)\b/.test(e.stderr)) return 'a JavaScript error on stderr';
    return null;
  }
  if (e instanceof HttpRefusal) {
    if (e.status >= 500) return `a ${e.status} answer (the server's fault, not the request's)`;
    if (e.error === null && !NODE_HTTP_OWN.has(e.status)) return `a ${e.status} answer without an { error } message`;
    return null;
  }
  if (!(e instanceof Error)) return `threw a non-Error ${String(e)}`;
  if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || e instanceof SyntaxError) return `${e.name}: ${e.message}`;
  return null;
}

