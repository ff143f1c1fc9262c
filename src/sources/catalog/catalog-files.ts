import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Catalog, InvalidCatalogError, parseCatalogDocument } from './catalog.js';

export interface CatalogFilesOptions {
  /** Catalog files, or directories whose `*.json` files are catalogs. */
  readonly paths: readonly string[];
  /** How long a loaded catalog is used before the files are checked for changes. */
  readonly ttlMs: number;
  /** Called when changed files fail to load and the previous catalog stays in use. */
  readonly onReloadError?: (error: Error) => void;
  readonly now?: () => number;
}

/**
 * The catalog from files on disk, reloaded when they change (checked by size and modification
 * time at most every `ttlMs`), so new revisions appear without a restart. A reload that fails
 * keeps the previous catalog and reports the error; the first load throws it.
 */
export class CatalogFiles {
  private loaded: { catalog: Catalog; stamp: string; at: number } | undefined;
  private pending: Promise<Catalog> | undefined;

  constructor(private readonly options: CatalogFilesOptions) {}

  /** @throws InvalidCatalogError or a file system error on the first load. */
  async current(): Promise<Catalog> {
    const now = (this.options.now ?? Date.now)();
    if (this.loaded && now - this.loaded.at < this.options.ttlMs) return this.loaded.catalog;
    this.pending ??= this.refresh(now).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async refresh(now: number): Promise<Catalog> {
    try {
      const files = await this.files();
      const stamps = await Promise.all(files.map(async (file) => {
        const info = await stat(file);
        return `${file}\0${info.size}\0${info.mtimeMs}`;
      }));
      const stamp = stamps.join('\n');
      if (this.loaded?.stamp === stamp) {
        this.loaded.at = now;
        return this.loaded.catalog;
      }
      const documents = await Promise.all(files.map(async (file) => ({ file, document: parseCatalogDocument(await readFile(file, 'utf8'), file) })));
      const catalog = new Catalog(documents);
      this.loaded = { catalog, stamp, at: now };
      return catalog;
    } catch (error) {
      if (!this.loaded) throw error;
      this.options.onReloadError?.(error as Error);
      this.loaded.at = now;
      return this.loaded.catalog;
    }
  }

  private async files(): Promise<string[]> {
    const files: string[] = [];
    for (const entry of this.options.paths) {
      const info = await stat(entry).catch((error: NodeJS.ErrnoException) => {
        throw new InvalidCatalogError(entry, error.code === 'ENOENT' ? 'no such file or directory' : error.message);
      });
      if (info.isDirectory()) {
        const names = (await readdir(entry)).filter((name) => name.endsWith('.json')).sort();
        files.push(...names.map((name) => path.join(entry, name)));
      } else {
        files.push(entry);
      }
    }
    return files;
  }
}
