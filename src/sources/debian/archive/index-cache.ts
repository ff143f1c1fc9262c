import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The on-disk cache of archive indexes. Verified index files (Packages.xz and friends) live
 * under `sha256/<hash>`, named by their content, so two suites or revisions that publish the
 * same file share it and a file is never rewritten in place. The last good InRelease of each
 * (archive, suite) lives under `inrelease/<key>`; it is re-verified whenever it is read, so a
 * tampered cache is refused like a tampered download. Every write goes to a temporary file
 * that is renamed into place, so a crash leaves either the old file or the new one.
 *
 * Bounded: `prune` keeps the files that current indexes name and at most `keep` others, most
 * recently used first.
 */
export class IndexCache {
  constructor(readonly dir: string) {}

  private blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA256: ${sha256}`);
    return join(this.dir, 'sha256', sha256);
  }

  private releasePath(archiveUrl: string, suite: string): string {
    const key = createHash('sha256').update(`${archiveUrl}\0${suite}`).digest('hex').slice(0, 32);
    return join(this.dir, 'inrelease', `${suite.replace(/[^A-Za-z0-9._-]/g, '_')}-${key}`);
  }

  /**
   * The cached file with this content hash, or null. The bytes are hashed again on the way out:
   * a file corrupted on disk is deleted and reported absent, never served.
   */
  async readVerified(sha256: string): Promise<Buffer | null> {
    const path = this.blobPath(sha256);
    const bytes = await readFile(path).catch(() => null);
    if (bytes === null) return null;
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
      await rm(path, { force: true });
      return null;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined);
    return bytes;
  }

  /** Stores bytes already checked against `sha256` by the caller (checked again here). */
  async writeVerified(sha256: string, bytes: Buffer): Promise<void> {
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new Error(`refusing to cache bytes that do not hash to ${sha256}`);
    await this.atomicWrite(this.blobPath(sha256), bytes);
  }

  /** The last good InRelease bytes stored for a suite, unverified: the caller verifies them. */
  async readInRelease(archiveUrl: string, suite: string): Promise<Buffer | null> {
    return readFile(this.releasePath(archiveUrl, suite)).catch(() => null);
  }

  /** Records bytes that just verified as the suite's last good InRelease. */
  async writeInRelease(archiveUrl: string, suite: string, bytes: Buffer): Promise<void> {
    await this.atomicWrite(this.releasePath(archiveUrl, suite), bytes);
  }

  /**
   * Deletes content-addressed files not in `live`, except the `keep` most recently used others
   * (older revisions a refresh might fall back to).
   */
  async prune(live: ReadonlySet<string>, keep = 4): Promise<number> {
    const dir = join(this.dir, 'sha256');
    const names = await readdir(dir).catch(() => [] as string[]);
    const others: Array<{ name: string; mtime: number }> = [];
    for (const name of names) {
      if (live.has(name) || name.includes('.tmp-')) continue;
      const info = await stat(join(dir, name)).catch(() => null);
      if (info) others.push({ name, mtime: info.mtimeMs });
    }
    others.sort((a, b) => b.mtime - a.mtime || (a.name < b.name ? -1 : 1));
    const doomed = others.slice(keep);
    for (const { name } of doomed) await rm(join(dir, name), { force: true });
    return doomed.length;
  }

  private async atomicWrite(path: string, bytes: Buffer): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      await writeFile(temporary, bytes, { flag: 'wx' });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
