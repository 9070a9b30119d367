// Reading a file a caller names (an image, a model) without trusting what the path points at:
// only a regular file of bounded size is read. Opened non-blocking, so a FIFO is refused at once
// instead of waiting forever for a writer; the checks use the opened file's own stat, so a path
// swapped between a check and the read cannot slip past them.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

const FILE_KIND: [keyof Stats, string][] = [
  ['isDirectory', 'a directory'], ['isFIFO', 'a FIFO'], ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'], ['isSocket', 'a socket'],
];

/** Flags that open a FIFO without waiting for a writer (no O_NONBLOCK on Windows, which has no FIFOs at paths). */
export const OPEN_NONBLOCKING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Why a file with this stat may not be read, or null (shared by the async and sync readers). */
function refusal(st: Stats, maxBytes: number, what: string): string | null {
  if (!st.isFile()) return `not a regular file (${FILE_KIND.find(([k]) => (st[k] as () => boolean).call(st))?.[1] ?? 'a special file'})`;
  if (st.size === 0) return 'empty file';
  if (st.size > maxBytes) return `file is ${st.size} bytes, more than the ${maxBytes}-byte limit for ${what}`;
  return null;
}

/**
 * The bytes of `path`, or `fail(problem)` (which throws the caller's own error) when it is missing,
 * not a regular file, empty or over `maxBytes`. `what` names the content in the size message.
 */
export async function readRegularFile(path: string, maxBytes: number, fail: (problem: string, cause?: unknown) => never, what = 'this file'): Promise<Buffer> {
  const fh = await open(path, OPEN_NONBLOCKING).catch((e: NodeJS.ErrnoException) =>
    fail(e.code === 'ENOENT' ? 'not found' : `cannot read (${e.message})`, e),
  );
  try {
    const st = await fh.stat();
    const why = refusal(st, maxBytes, what);
    if (why) fail(why);
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < st.size) {
      const { bytesRead } = await fh.read(buf, done, st.size - done, done);
      if (bytesRead === 0) break; // shrank while being read: the caller's parser sees a truncated file
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

/** readRegularFile for synchronous callers (manifests, schemas): the same checks, the same messages. */
export function readRegularFileSync(path: string, maxBytes: number, fail: (problem: string, cause?: unknown) => never, what = 'this file'): Buffer {
  let fd: number;
  try {
    fd = openSync(path, OPEN_NONBLOCKING);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot read (${(e as Error).message})`, e);
  }
  try {
    const st = fstatSync(fd);
    const why = refusal(st, maxBytes, what);
    if (why) fail(why);
    const buf = Buffer.alloc(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, done, st.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
