import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Temporary files named after the process that writes them (`<pid>-...`), so that a process
 * starting up can tell which ones nobody owns any more: those of processes no longer running,
 * and those of its own pid from an earlier life (pids are reused after a restart). Another
 * live process sharing the directory (a CLI beside the server) keeps its files.
 */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a file written by process `pid` has no live owner (see above); call at startup only. */
export function isOrphaned(pid: number): boolean {
  return pid === process.pid || !processIsAlive(pid);
}

/**
 * Remove the entries of `dir` whose owner `pidOf` names and which have no live owner.
 * Entries `pidOf` cannot attribute (null) are left alone. @returns how many were removed.
 */
export async function removeOrphans(dir: string, pidOf: (name: string) => number | null): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = pidOf(name);
    if (pid === null || !isOrphaned(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** The pid of a `<pid>-<rest>` name, or null. */
export function leadingPid(name: string): number | null {
  const match = /^(\d+)-/.exec(name);
  return match ? Number(match[1]) : null;
}
