import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Exported trees kept at most, besides those in use: each is a whole checkout of the package set (nixpkgs' is hundreds of MB). */
export const DEFAULT_MAX_TREES = 16;

const TREE = /^[0-9a-f]{40,64}$/;
const LEASE = /^\.lease-([0-9a-f]{40,64})-(\d+)-[0-9a-f]+$/;
const EVICTED = /^\.evicted-/;

/** A tree held in use; `release` ends the use (idempotent). */
export interface TreeLease {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * The bound on exported trees (`<dir>/<commit>`). A tag may name any commit of the repository,
 * so without a bound, clients naming old commits one after another would fill the disk with
 * checkouts. A tree is in use while a lease on it is held: a file `.lease-<commit>-<pid>-<random>`
 * beside it, so the processes sharing the data directory (server.workers) see each other's
 * leases; a lease left by a process that no longer runs does not count (and is removed). Past
 * `maxTrees`, the least recently used trees no lease holds are removed, renamed aside first so
 * no reader ever finds a half-removed tree under its name.
 */
export class ExportedTrees {
  constructor(
    private readonly dir: string,
    private readonly maxTrees: number = DEFAULT_MAX_TREES,
  ) {}

  pathOf(commit: string): string {
    return join(this.dir, commit);
  }

  /** Hold `commit`'s tree in use; taken before the tree is looked for, so no eviction can race with its use. */
  async lease(commit: string): Promise<TreeLease> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `.lease-${commit}-${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(file, '');
    let released = false;
    return {
      path: this.pathOf(commit),
      release: async () => {
        if (released) return;
        released = true;
        await rm(file, { force: true });
      },
    };
  }

  /** Note a use of an exported tree: the tree's mtime orders eviction. */
  async touch(commit: string): Promise<void> {
    const now = new Date();
    await utimes(this.pathOf(commit), now, now).catch(() => undefined);
  }

  /** Remove the least recently used trees no lease holds until at most `maxTrees` remain. @returns the commits removed. */
  async evict(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) if (EVICTED.test(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    const trees = names.filter((name) => TREE.test(name));
    if (trees.length <= this.maxTrees) return [];
    const held = await this.leased(names);
    const used = await Promise.all(trees.map(async (commit) => ({ commit, at: (await stat(this.pathOf(commit)).catch(() => null))?.mtimeMs ?? 0 })));
    const candidates = used.filter(({ commit }) => !held.has(commit)).sort((a, b) => a.at - b.at);
    const removed: string[] = [];
    for (const { commit } of candidates.slice(0, trees.length - this.maxTrees)) {
      const aside = join(this.dir, `.evicted-${commit}-${randomBytes(6).toString('hex')}`);
      try {
        await rename(this.pathOf(commit), aside);
      } catch {
        continue; // gone already (another process evicted it)
      }
      // A lease taken between the look above and the rename: the tree goes back.
      if ((await this.leased(await readdir(this.dir))).has(commit)) {
        await rename(aside, this.pathOf(commit)).catch(() => undefined);
        continue;
      }
      await rm(aside, { recursive: true, force: true });
      removed.push(commit);
    }
    return removed;
  }

  /** Commits some running process holds a lease on; leases of processes gone are removed. */
  private async leased(names: readonly string[]): Promise<Set<string>> {
    const held = new Set<string>();
    for (const name of names) {
      const match = LEASE.exec(name);
      if (match === null) continue;
      if (processRuns(Number(match[2]))) held.add(match[1] as string);
      else await rm(join(this.dir, name), { force: true });
    }
    return held;
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
