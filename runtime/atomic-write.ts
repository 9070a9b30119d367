// Atomic file output, for every writer in the project (graph export, training, data, commands):
// the bytes go to a temporary sibling of the target, are fsynced, and only then renamed over it,
// so a reader never sees half a file and a process killed mid-write leaves the previous version
// in place. The temp file sits in the target's own directory because rename is atomic only within
// one filesystem. After the rename the directory is fsynced too, since the new name is durable only
// once its directory entry is; not every platform lets a directory be opened for that, and the
// data itself is already safe, so that last step is best effort. On any failure the temp file is
// removed and the target is as it was. Node-only (the runtime itself writes nothing; it is here,
// at the lowest layer, so graph/ and tools/ share one implementation).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A fresh temporary path beside `target`: `.<name>.tmp-<pid>-<random>`. A killed writer may leave
 * one behind; nothing reads those and they are safe to delete.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

function syncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectoryOf(path: string): void {
  try {
    syncPath(dirname(path), 'r');
  } catch {
    /* best effort, see the header */
  }
}

/** The last step of every writer: fsync a finished temp file, rename it over `target`, fsync the directory. */
function commit(tmp: string, target: string): void {
  // 'r+': Windows flushes only handles opened for writing. A produced directory has no data to flush.
  if (statSync(tmp).isFile()) syncPath(tmp, 'r+');
  try {
    renameSync(tmp, target);
  } catch (e) {
    throw new Error(`cannot move the finished file into place (${(e as Error).message})`, { cause: e });
  }
  syncDirectoryOf(target);
}

/** Writes `data` to `target` atomically (creating its directory). */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const fd = openSync(tmp, 'w');
    try {
      for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done);
    } finally {
      closeSync(fd);
    }
    commit(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * `produce(tmp)` writes the file at the temp path its own way (a stream of writes, a DuckDB COPY)
 * and closes it; then it is committed as writeFileAtomic commits.
 */
export async function produceAtomic<T>(target: string, produce: (tmp: string) => Promise<T>): Promise<T> {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    const result = await produce(tmp);
    commit(tmp, target);
    return result;
  } catch (e) {
    rmSync(tmp, { force: true, recursive: true });
    throw e;
  }
}

/**
 * All-or-nothing directory output: `produce(stage)` fills a fresh staging directory beside
 * `target` (with the writers above, so its files are already durable); only when it succeeds does
 * the stage replace `target` (two renames: the old directory aside, the stage in; then the old one
 * is deleted). On failure the stage is removed and `target` is as it was. A crash between the two
 * renames leaves `.<name>.tmp-*` directories beside `target` and no `target`: the one ending `.old`
 * is the previous version (rename it back).
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
    syncDirectoryOf(target);
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
  syncDirectoryOf(target);
  rmSync(old, { force: true, recursive: true });
  return result;
}
