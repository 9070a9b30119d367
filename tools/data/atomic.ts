// Atomic file output: write beside the target, then rename, so a reader never sees half a file
// and an interrupted job leaves the previous version in place.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** A temporary path in the same directory as `target` (rename is atomic within a filesystem). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Run `produce(tmpPath)` (e.g. a DuckDB COPY), then move the result into place. */
export async function produceAtomic(target: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    await produce(tmp);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true, recursive: true });
    throw e;
  }
}
