// Atomic file output: write beside the target, then rename, so a reader never sees half a file
// and an interrupted job leaves the previous version in place.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * All-or-nothing directory output: `produce(stage)` fills a fresh staging directory beside
 * `target`; only when it succeeds does the stage replace `target` (two renames: the old
 * directory aside, the stage in; then the old one is deleted). On failure the stage is removed and
 * `target` is as it was. A crash between the two renames leaves `.<name>.tmp-*` directories beside
 * `target` and no `target`: the one ending `.old` is the previous version (rename it back).
 */
export async function produceDirAtomic<T>(target: string, produce: (stage: string) => Promise<T>): Promise<T> {
  mkdirSync(dirname(target), { recursive: true });
  const stage = tempPathFor(target);
  mkdirSync(stage);
  let result: T;
  try {
    result = await produce(stage);
  } catch (e) {
    rmSync(stage, { force: true, recursive: true });
    throw e;
  }
  if (!existsSync(target)) {
    renameSync(stage, target);
    return result;
  }
  const old = `${tempPathFor(target)}.old`;
  renameSync(target, old);
  try {
    renameSync(stage, target);
  } catch (e) {
    renameSync(old, target);
    rmSync(stage, { force: true, recursive: true });
    throw e;
  }
  rmSync(old, { force: true, recursive: true });
  return result;
}
