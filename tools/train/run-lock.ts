// An exclusive lock on a run directory, so two `ort-train` runs cannot write one directory's
// checkpoints, cache and model at once. The lock is a file created with O_EXCL holding the owner's
// pid and host. It is removed on release and on process exit; a run killed outright (SIGKILL, a
// crash, a power cut) leaves it behind, and the next run takes it over once it sees that no
// process with that pid is alive on this host. A lock from another host (a shared filesystem)
// cannot be checked and is reported for a person to remove.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

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
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new Error(`run directory ${dir}: cannot create its lock ${path} (${(e as Error).message})`);
      const owner = readOwner(path);
      if (owner && owner.host !== me.host) {
        throw new Error(`run directory ${dir} is locked by process ${owner.pid} on host ${owner.host} (since ${owner.startedAt}); if no run is using it, delete ${path}`);
      }
      if (owner && alive(owner.pid)) {
        throw new Error(`run directory ${dir} is in use by process ${owner.pid} (since ${owner.startedAt}); wait for it to finish or choose another --out`);
      }
      // An unreadable lock this young is a run between creating and writing it.
      if (!owner && Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 10_000) {
        throw new Error(`run directory ${dir} is being locked by another process just now; try again in a few seconds`);
      }
      // Left by a run that died (or unreadable: a crash between create and write). Take it over.
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    break;
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
