// An exclusive lock on a run directory, so two `ort-train` runs cannot write one directory's
// checkpoints, cache and model at once. The lock is a file holding the owner's pid and host,
// created whole by a hard link that fails if it exists. It is removed on release and on process
// exit; a run killed outright (SIGKILL, a crash, a power cut) leaves it behind, and the next run takes it over once it sees that no
// process with that pid is alive on this host. A lock from another host (a shared filesystem)
// cannot be checked and is reported for a person to remove.
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FieldError } from '../../runtime/errors.ts';

export const LOCK_FILE = '.run.lock';

interface Owner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this pid exists here (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    return Number.isInteger(o.pid) && o.pid > 0 && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Takes the lock on `dir` (created if needed) or throws naming its live owner. */
export function lockRunDir(dir: string): RunLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  // The owner is written to a private file first and hard-linked into place (link fails if the
  // lock exists), so a lock file is never seen empty or half-written by a run starting beside it.
  const mine = `${path}.${process.pid}.tmp`;
  writeFileSync(mine, JSON.stringify(me));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new Error(`run directory ${dir}: cannot create its lock ${path} (${(e as Error).message})`);
      }
      const owner = readOwner(path);
      if (owner && owner.host !== me.host) {
        throw new Error(`run directory ${dir} is locked by process ${owner.pid} on host ${owner.host} (since ${owner.startedAt}); if no run is using it, delete ${path}`);
      }
      if (owner && alive(owner.pid)) {
        throw new FieldError('out', `run directory ${dir} is in use by process ${owner.pid} (since ${owner.startedAt}); wait for it to finish or choose another`);
      }
      // Left by a run that died, or unreadable (never one being written: locks appear whole). Take it over.
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: never one a later run took over.
    if (readOwner(path)?.pid === me.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { path, release };
}
