// Assertions shared by the training tests. Unlike uvu's assert.throws, a failure says what was
// thrown instead, and which case failed.
import * as assert from 'uvu/assert';

/** `fn` must throw an error whose message matches `re`; `what` names the case in failures. */
export function throwsMatching(fn: () => unknown, re: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    if (!re.test(msg)) assert.unreachable(`${what}: message "${msg}" does not match ${re}`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
}

/** |actual − expected| ≤ tol (NaN fails). */
export function near(actual: number, expected: number, tol: number, what = ''): void {
  if (!(Math.abs(actual - expected) <= tol)) assert.unreachable(`${what} got ${actual}, expected ${expected} (tol ${tol})`);
}
