// Shared helpers of the hostile-input tests: a sandbox directory with sentinel files around it,
// snapshots that show whether anything inside or outside changed, and a time bound per case.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export interface Sandbox {
  /** Where a case may read and write. */
  dir: string;
  /** A sibling directory of sentinel files a case must never read, change or delete. */
  outside: string;
  cleanup(): void;
}

/** A fresh sandbox; its `outside` holds a sentinel whose text must never show up in any error. */
export function sandbox(prefix: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), `m2fn-hostile-${prefix}-`));
  const dir = join(root, 'work');
  const outside = join(root, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.jsonl'), `${SENTINEL}\n${SENTINEL} line two\n`);
  return { dir, outside, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Text of the sentinel files: an error that quotes it has read outside the sandbox. */
export const SENTINEL = 'SENTINEL-do-not-read-7f3a';

/** Path → sha256 (or "dir"/"link") for every entry under `dir`, so any change shows up. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else if (st.isFile()) out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
      else out.set(rel, st.isSymbolicLink() ? 'link' : 'special');
    }
  };
  walk(dir);
  return out;
}

/** The entries that were added, removed or changed between two snapshots. */
export function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).map((k) => `${k}: ${before.get(k) ?? 'absent'} → ${after.get(k) ?? 'absent'}`);
}

/** Rejects when `p` takes longer than `ms`: a hang is a failure, not a stuck suite. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `f` throws (or rejects with); fails when it returns normally. */
export async function thrown(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but the call returned normally');
}

/** A Real-Ad impression log's header and one valid row (for CSV cases). */
export const HEADER = 'image,gender,age,month,weekday,hour,position,cate2,cate3,title,desc,ocr,domcol,clicked';
export const csvRow = (image: string, title = 'Candy Match', clicked = 0) => `${image},1,3,5,2,10,1,1,8,${title},A casual game.,Tap to play,red,${clicked}`;
