// Reading a file a caller names (an image, a model) without trusting what the path points at:
// only a regular file of bounded size is read. Opened non-blocking, so a FIFO is refused at once
// instead of waiting forever for a writer; the checks use the opened file's own stat, so a path
// swapped between a check and the read cannot slip past them.
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

const FILE_KIND: [keyof Stats, string][] = [
  ['isDirectory', 'a directory'], ['isFIFO', 'a FIFO'], ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'], ['isSocket', 'a socket'],
];

/**
 * The bytes of `path`, or `fail(problem)` (which throws the caller's own error) when it is missing,
 * not a regular file, empty or over `maxBytes`. `what` names the content in the size message.
 */
export async function readRegularFile(path: string, maxBytes: number, fail: (problem: string, cause?: unknown) => never, what = 'this file'): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((e: NodeJS.ErrnoException) =>
    fail(e.code === 'ENOENT' ? 'not found' : `cannot read (${e.message})`, e),
  );
  try {
    const st = await fh.stat();
    if (!st.isFile()) fail(`not a regular file (${FILE_KIND.find(([k]) => (st[k] as () => boolean).call(st))?.[1] ?? 'a special file'})`);
    if (st.size === 0) fail('empty file');
    if (st.size > maxBytes) fail(`file is ${st.size} bytes, more than the ${maxBytes}-byte limit for ${what}`);
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
