import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Keeps the `.deb` cache under a byte budget: after each download, when the total exceeds it,
 * the least recently used files (oldest mtime; hits refresh it) are removed. The total is
 * learnt by one scan on first use, then kept up to date in memory.
 */
export class DebCacheBudget {
  private total: number | undefined;
  private scanning: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** `path` of `size` bytes was just added; evict others if the budget is exceeded. */
  async added(path: string, size: number): Promise<void> {
    if (this.total === undefined) {
      this.scanning ??= this.scan();
      await this.scanning;
    } else {
      this.total += size;
    }
    if ((this.total ?? 0) <= this.maxBytes) return;
    const files = await this.files();
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const file of files) {
      if ((this.total ?? 0) <= this.maxBytes) break;
      if (file.path === path) continue;
      await rm(file.path, { force: true });
      this.total = (this.total ?? 0) - file.size;
    }
  }

  private async scan(): Promise<void> {
    this.total = (await this.files()).reduce((sum, file) => sum + file.size, 0);
  }

  private async files(): Promise<Array<{ path: string; size: number; mtimeMs: number }>> {
    const found: Array<{ path: string; size: number; mtimeMs: number }> = [];
    for (const shard of await readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.dir, shard)).catch(() => [] as string[])) {
        const path = join(this.dir, shard, name);
        const info = await stat(path).catch(() => null);
        if (info?.isFile()) found.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    }
    return found;
  }
}
