import { createHash } from 'node:crypto';
import { lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * A short digest that changes whenever a package set on disk changes, so images built from an
 * older state of a path package set are not served as `latest`. It hashes the relative path,
 * size and modification time of every file under the package set's directory (`.git` skipped);
 * the result is kept for `ttlMs` so requests don't walk the tree each time.
 */
export class PackageSetFingerprint {
  private cached: { value: string; at: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly options: {
      /** Absolute path of the package set, or `<name>`. */
      readonly packageSet: string;
      readonly ttlMs: number;
      /** Resolves a `<name>` lookup path to a directory (through NIX_PATH). */
      readonly resolveLookup: (name: string, signal?: AbortSignal) => Promise<string>;
      readonly now?: () => number;
    },
  ) {}

  async current(signal?: AbortSignal): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.options.ttlMs) return this.cached.value;
    // Concurrent callers share one walk.
    this.pending ??= this.compute(signal).finally(() => (this.pending = undefined));
    const value = await this.pending;
    this.cached = { value, at: now };
    return value;
  }

  private async compute(signal?: AbortSignal): Promise<string> {
    const lookup = /^<(.+)>$/.exec(this.options.packageSet);
    const target = lookup?.[1] ? await this.options.resolveLookup(lookup[1], signal) : this.options.packageSet;
    const info = await stat(target);
    const root = info.isDirectory() ? target : dirname(target);
    const hash = createHash('sha256').update(root).update('\0');
    await walk(root, '', hash, signal);
    return hash.digest('hex').slice(0, 16);
  }
}

async function walk(root: string, relative: string, hash: ReturnType<typeof createHash>, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const names = (await readdir(join(root, relative))).sort();
  for (const name of names) {
    if (name === '.git') continue;
    const path = relative === '' ? name : `${relative}/${name}`;
    const info = await lstat(join(root, path));
    if (info.isDirectory()) {
      await walk(root, path, hash, signal);
    } else {
      hash.update(`${path}\0${info.size}\0${Math.trunc(info.mtimeMs)}\0`);
    }
  }
}
