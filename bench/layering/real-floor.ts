/**
 * The floor on the wire: every package written alone as a gzip layer, as the registry writes
 * layers, measured by writing it (`writeRootFsLayer` into memory). A package's layer depends only
 * on its `.deb` (the closure path's `narHash`) and the gzip level, so the sizes are kept by those
 * two in a JSON file beside the `.deb` cache: later runs, other seeds and budgets read them
 * instead of compressing every package again (a run's floor took about as long as its builds).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { writeRootFsLayer } from '../../src/builder/layer/index.js';
import type { RootFsReader } from '../../src/sources/types.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';

/** A package's layer written alone: its gzip (blob) size and the tar inside. */
export interface AloneSize {
  readonly gzip: number;
  readonly tar: number;
}

const FORMAT = 'stowage-bench-floor-1';

export class FloorSizes {
  private readonly sizes = new Map<string, AloneSize>();
  private dirty = false;
  /** Packages compressed by this process (the rest came from the file). */
  written = 0;

  private constructor(private readonly file: string) {}

  /** The sizes kept in `file` (none when it is missing or of another format). */
  static async open(file: string): Promise<FloorSizes> {
    const floor = new FloorSizes(file);
    let text: string | null = null;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return floor;
    }
    const parsed = JSON.parse(text) as { format?: unknown; sizes?: Record<string, [number, number]> };
    if (parsed.format === FORMAT && parsed.sizes) for (const [key, [gzip, tar]] of Object.entries(parsed.sizes)) floor.sizes.set(key, { gzip, tar });
    return floor;
  }

  /** `path`'s layer alone, written once per `.deb` and level. */
  async of(reader: RootFsReader, path: string, narHash: string, level: number): Promise<AloneSize> {
    if (narHash === '') throw new Error(`${path}: no content hash to key its floor size by`);
    const key = `${narHash} ${level}`;
    const known = this.sizes.get(key);
    if (known) return known;
    const blob = await writeRootFsLayer({ reader, paths: [path], compression: 'gzip', level, store: new MemoryBlobStore() });
    const size = { gzip: blob.size, tar: blob.uncompressedSize };
    this.sizes.set(key, size);
    this.dirty = true;
    this.written += 1;
    return size;
  }

  /** Writes the file if anything was added (whole, then renamed: a killed run leaves the old one). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const sizes = Object.fromEntries([...this.sizes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, s]) => [key, [s.gzip, s.tar]]));
    await writeFile(`${this.file}.tmp`, `${JSON.stringify({ format: FORMAT, sizes })}\n`);
    await rename(`${this.file}.tmp`, this.file);
    this.dirty = false;
  }
}
