// Training checkpoints: parameters, optimizer moments and BN statistics plus the loop's position,
// in one binary file that is written atomically and checked on every read.
//
// Layout (all integers little-endian; format 'm2fn-checkpoint/1', binary version 1):
//
//   offset 0    8 bytes   magic "M2FNCKPT"
//   offset 8    uint32    binary version (1)
//   offset 12   uint32    H = byte length of the JSON header
//   offset 16   H bytes   JSON header, UTF-8:
//                           { meta: CheckpointMeta,
//                             tensors: [{ name, shape, offset, byteLength }, …],
//                             payloadBytes }
//                         `offset` counts from the start of the payload, not of the file, so the
//                         header's own length does not feed back into the offsets.
//   zero padding to the next multiple of 8 → payload start P
//   P           payloadBytes   float32 tensor data (little-endian), each tensor starting on an
//                         8-byte boundary (zero padding between tensors), in index order
//   P+payloadBytes  32 bytes   sha256 over every byte before it (magic to end of payload)
//
// So the file size is exactly P + payloadBytes + 32, which is how a truncated file is told apart
// from a corrupt one. The float data never goes through JSON and is written straight from the
// caller's Float32Arrays in a few large writes; reads load the file into one ArrayBuffer and hand
// out Float32Array views into it (8-byte alignment keeps those views legal).
//
// Atomicity: writeCheckpoint writes through runtime/atomic-write.ts (`<dir>/.<name>.tmp-<pid>-<random>`,
// fsynced, renamed over `path`, the directory fsynced). A process killed mid-write leaves `path` as
// it was (the previous checkpoint, or nothing); it may leave the stale `*.tmp-*` file behind, which
// nothing reads and which is safe to delete.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { produceAtomic } from '../../runtime/atomic-write.ts';
import { OPEN_NONBLOCKING } from '../../runtime/files.ts';

export const CHECKPOINT_FORMAT = 'm2fn-checkpoint/1';
const MAGIC = Buffer.from('M2FNCKPT', 'ascii');
const BINARY_VERSION = 1;
const FIXED_HEADER = 16;
const DIGEST_BYTES = 32;
/** Writes and hash updates go in slices of this size: few syscalls, bounded hash latency. */
const IO_CHUNK = 64 << 20;

export interface CheckpointMeta {
  format: 'm2fn-checkpoint/1';
  configHash: string;
  config: unknown;
  step: number;
  epoch: number;
  /** batches done in the current epoch */
  batchInEpoch: number;
  rngState: number[];
  bestMetric: number | null;
  extra: Record<string, unknown>;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

interface TensorIndexEntry {
  name: string;
  shape: number[];
  offset: number;
  byteLength: number;
}

interface Header {
  meta: CheckpointMeta;
  tensors: TensorIndexEntry[];
  payloadBytes: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const elementCount = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function assertLittleEndianHost(): void {
  // The payload is the Float32Arrays' memory as is; a big-endian host would need byte swaps.
  if (endianness() !== 'LE') throw new Error('m2fn checkpoints are little-endian; this host is big-endian, which is not supported');
}

/** Why `meta` is not a valid CheckpointMeta, or null. Shared by the writer and the reader. */
function metaProblem(meta: unknown): string | null {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return 'meta is not an object';
  const m = meta as Record<string, unknown>;
  if (m.format !== CHECKPOINT_FORMAT) return `meta.format is ${JSON.stringify(m.format)}, expected "${CHECKPOINT_FORMAT}"`;
  if (typeof m.configHash !== 'string' || !/^[0-9a-f]{64}$/.test(m.configHash)) return 'meta.configHash must be a sha256 hex string (see configHash())';
  for (const k of ['step', 'epoch', 'batchInEpoch'] as const) {
    if (!isCount(m[k])) return `meta.${k} must be a non-negative integer, got ${JSON.stringify(m[k])}`;
  }
  if (!Array.isArray(m.rngState) || !m.rngState.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return 'meta.rngState must be an array of finite numbers';
  }
  if (!(m.bestMetric === null || (typeof m.bestMetric === 'number' && Number.isFinite(m.bestMetric)))) {
    return `meta.bestMetric must be a finite number or null, got ${JSON.stringify(m.bestMetric)}`;
  }
  if (typeof m.extra !== 'object' || m.extra === null || Array.isArray(m.extra)) return 'meta.extra must be an object';
  if (!('config' in m)) return 'meta.config is missing';
  return null;
}

function shapeProblem(shape: unknown): string | null {
  if (!Array.isArray(shape) || !shape.every(isCount)) return `shape ${JSON.stringify(shape)} is not a list of non-negative integers`;
  return null;
}

/**
 * Writes `ckpt` to `path` atomically (temp file, fsync, rename, directory fsync). The tensors'
 * Float32Arrays are written in place, without copies: do not modify them until the promise
 * settles.
 */
export async function writeCheckpoint(path: string, ckpt: Checkpoint): Promise<void> {
  assertLittleEndianHost();
  const problem = metaProblem(ckpt.meta);
  if (problem) throw new Error(`writeCheckpoint ${path}: ${problem}`);

  const index: TensorIndexEntry[] = [];
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of ckpt.tensors) {
    const sp = shapeProblem(t.shape);
    if (sp) throw new Error(`writeCheckpoint ${path}: tensor "${name}": ${sp}`);
    if (!(t.data instanceof Float32Array)) throw new Error(`writeCheckpoint ${path}: tensor "${name}": data must be a Float32Array`);
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new Error(`writeCheckpoint ${path}: tensor "${name}": shape [${t.shape.join(', ')}] has ${n} elements but data has ${t.data.length}`);
    }
    offset = align8(offset);
    index.push({ name, shape: [...t.shape], offset, byteLength: t.data.byteLength });
    bodies.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  const payloadBytes = align8(offset);
  const header: Header = { meta: ckpt.meta, tensors: index, payloadBytes };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const payloadStart = align8(FIXED_HEADER + json.length);
  const head = Buffer.alloc(payloadStart); // zero-filled: the padding after the JSON is zeros
  MAGIC.copy(head, 0);
  head.writeUInt32LE(BINARY_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  json.copy(head, FIXED_HEADER);

  try {
    await produceAtomic(path, async (tmp) => {
      const fh = await open(tmp, 'w');
      try {
        const hash = createHash('sha256');
        let pos = 0;
        const put = async (bytes: Uint8Array, hashed = true) => {
          for (let at = 0; at < bytes.byteLength; at += IO_CHUNK) {
            const slice = bytes.subarray(at, Math.min(bytes.byteLength, at + IO_CHUNK));
            if (hashed) hash.update(slice);
            let done = 0;
            while (done < slice.byteLength) {
              const { bytesWritten } = await fh.write(slice, done, slice.byteLength - done, pos);
              done += bytesWritten;
              pos += bytesWritten;
            }
          }
        };
        await put(head);
        const zeros = new Uint8Array(8);
        for (let i = 0; i < index.length; i++) {
          const pad = payloadStart + index[i].offset - pos;
          if (pad > 0) await put(zeros.subarray(0, pad));
          await put(bodies[i]);
        }
        const tail = payloadStart + payloadBytes - pos;
        if (tail > 0) await put(zeros.subarray(0, tail));
        await put(hash.digest(), false);
      } finally {
        await fh.close();
      }
    });
  } catch (e) {
    throw new Error(`writeCheckpoint ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads `length` bytes at `position` into `into`, looping over short reads. */
function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, Math.min(into.byteLength - done, IO_CHUNK), position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

function sha256Of(bytes: Uint8Array): Buffer {
  const h = createHash('sha256');
  for (let at = 0; at < bytes.byteLength; at += IO_CHUNK) h.update(bytes.subarray(at, Math.min(bytes.byteLength, at + IO_CHUNK)));
  return h.digest();
}

/**
 * Reads and fully validates a checkpoint. Tensor data are Float32Array views into one
 * ArrayBuffer holding the whole file. Errors name `path` and say whether the file is missing, not
 * a checkpoint, truncated (expected vs actual size), corrupt (checksum mismatch) or has a bad
 * header.
 */
export function readCheckpoint(path: string): Checkpoint {
  assertLittleEndianHost();
  const fail = (what: string): never => {
    throw new Error(`checkpoint ${path}: ${what}`);
  };
  if (!existsSync(path)) fail('file not found');
  let fd: number;
  try {
    fd = openSync(path, OPEN_NONBLOCKING); // a FIFO is refused below, not waited on
  } catch (e) {
    return fail(`cannot open (${(e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) fail('not a regular file');
    const size = st.size;
    const fixed = new Uint8Array(Math.min(size, FIXED_HEADER));
    readFully(fd, fixed, 0);
    const magicPart = Math.min(fixed.length, MAGIC.length);
    if (!MAGIC.subarray(0, magicPart).equals(fixed.subarray(0, magicPart))) {
      fail(`not an m2fn checkpoint (the file does not start with the magic bytes "M2FNCKPT")`);
    }
    if (size < FIXED_HEADER) fail(`truncated: the file has ${size} bytes, fewer than the ${FIXED_HEADER}-byte fixed header`);
    const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
    const version = view.getUint32(8, true);
    if (version !== BINARY_VERSION) fail(`unsupported checkpoint version ${version} (this reader knows version ${BINARY_VERSION})`);
    const jsonLength = view.getUint32(12, true);
    const payloadStart = align8(FIXED_HEADER + jsonLength);
    if (size < payloadStart + DIGEST_BYTES) {
      fail(`truncated: the header alone needs ${payloadStart + DIGEST_BYTES} bytes (with the checksum), the file has ${size}`);
    }

    // One ArrayBuffer for the whole file (not Buffer's shared pool), so offset 0 is 8-aligned and
    // the tensor views below are legal Float32Arrays.
    const all = new Uint8Array(new ArrayBuffer(size));
    readFully(fd, all, 0);
    const checksumOk = () => sha256Of(all.subarray(0, size - DIGEST_BYTES)).equals(all.subarray(size - DIGEST_BYTES));
    const corrupt = () => fail('corrupt: checksum mismatch (the sha256 at the end of the file does not match its contents)');
    // A header that does not parse or validate is most likely damage, so the checksum decides
    // which of the two errors to give.
    const badHeader = (what: string): never => (checksumOk() ? fail(`bad header: ${what}`) : corrupt());

    let header: Header;
    try {
      header = JSON.parse(Buffer.from(all.buffer, FIXED_HEADER, jsonLength).toString('utf8')) as Header;
    } catch (e) {
      return badHeader(`the JSON header does not parse (${(e as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || !isCount(header.payloadBytes) || !Array.isArray(header.tensors)) {
      return badHeader('the JSON header lacks "payloadBytes" or "tensors"');
    }
    const expectedSize = payloadStart + header.payloadBytes + DIGEST_BYTES;
    if (size < expectedSize) fail(`truncated: expected ${expectedSize} bytes, the file has ${size}`);
    if (size > expectedSize) fail(`corrupt: expected ${expectedSize} bytes, the file has ${size} (extra bytes at the end)`);
    if (!checksumOk()) corrupt();

    // The bytes are what was written; what follows catches files from a buggy or foreign writer.
    const mp = metaProblem(header.meta);
    if (mp) fail(`bad header: ${mp}`);
    const tensors: Checkpoint['tensors'] = new Map();
    let end = 0;
    for (const [i, t] of header.tensors.entries()) {
      const what = `tensor #${i}${typeof t?.name === 'string' ? ` "${t.name}"` : ''}`;
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') fail(`bad header: ${what} has no name`);
      const sp = shapeProblem(t.shape);
      if (sp) fail(`bad header: ${what}: ${sp}`);
      if (tensors.has(t.name)) fail(`bad header: tensor "${t.name}" appears twice`);
      if (!isCount(t.offset) || t.offset % 8 !== 0 || t.offset < end) fail(`bad header: ${what} has a bad or overlapping offset ${t.offset}`);
      if (t.byteLength !== 4 * elementCount(t.shape)) {
        fail(`bad header: ${what}: byteLength ${t.byteLength} does not match shape [${t.shape.join(', ')}] of float32`);
      }
      end = t.offset + t.byteLength;
      if (end > header.payloadBytes) fail(`bad header: ${what} ends at payload byte ${end}, past the payload (${header.payloadBytes} bytes)`);
      tensors.set(t.name, { shape: t.shape, data: new Float32Array(all.buffer, payloadStart + t.offset, t.byteLength / 4) });
    }
    return { meta: header.meta, tensors };
  } finally {
    closeSync(fd);
  }
}

/** JSON with object keys sorted at every level, so equal configs give equal text. */
export function canonicalJson(value: unknown, at = 'config'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${at} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v === undefined ? null : v, `${at}[${i}]`)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return canonicalJson(JSON.parse(JSON.stringify(obj)), at);
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k], `${at}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new Error(`${at} is a ${typeof value}, which JSON cannot represent`);
  }
}

/** sha256 (hex) of the canonical JSON of `config` (keys sorted; undefined members dropped). */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex');
}

/**
 * Where two configs differ, as dotted paths to the innermost differing values with both values
 * ("model.head.hidden" differs (checkpoint [32], now [64])): a nested change is named, not just
 * its top-level key.
 */
function differences(a: unknown, b: unknown, at = ''): string[] {
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const text = (v: unknown) => {
    if (v === undefined) return 'absent';
    try {
      const t = canonicalJson(v);
      return t.length > 60 ? `${t.slice(0, 57)}…` : t;
    } catch {
      return String(v);
    }
  };
  if (obj(a) && obj(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => differences(a[k], b[k], at ? `${at}.${k}` : k));
  }
  const same = (() => {
    try {
      return canonicalJson(a === undefined ? null : a) === canonicalJson(b === undefined ? null : b);
    } catch {
      return false;
    }
  })();
  return same ? [] : [`"${at}" differs (checkpoint ${text(a)}, now ${text(b)})`];
}

/**
 * Throws unless `ckpt` was written for the config whose hash is `hash` and holds every tensor in
 * `expected` with that shape. Pass the current `config` to have a hash mismatch name the
 * top-level keys that differ. Tensors in the checkpoint but not in `expected` are allowed (a
 * caller may restore only part of it).
 */
export function assertCompatible(ckpt: Checkpoint, hash: string, expected: Map<string, number[]>, path: string, config?: unknown): void {
  if (ckpt.meta.configHash !== hash) {
    let detail: string;
    if (config !== undefined) {
      const diffs = differences(ckpt.meta.config, config);
      detail = diffs.length
        ? `${diffs.slice(0, 8).join('; ')}${diffs.length > 8 ? `; and ${diffs.length - 8} more` : ''}`
        : `config hash ${ckpt.meta.configHash.slice(0, 12)}… ≠ ${hash.slice(0, 12)}…, though no key differs (the hash was computed from something else)`;
    } else {
      detail = `config hash ${ckpt.meta.configHash.slice(0, 12)}… differs from ${hash.slice(0, 12)}…`;
    }
    throw new Error(`checkpoint ${path} was written for another model config: ${detail}`);
  }
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = ckpt.tensors.get(name);
    if (!t) problems.push(`tensor "${name}" is missing`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  if (problems.length) {
    const shown = problems.slice(0, 10).join('; ');
    throw new Error(`checkpoint ${path} does not fit the model: ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
  }
}
