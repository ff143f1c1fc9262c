import type { MetadataStore } from '../storage/types.js';
import { readMany } from '../storage/metadata-batch.js';
import { LruMap, stringBytes } from '../cache/lru-map.js';
import type { ImageRecord } from './records.js';
import { validArtifact, type SbomArtifact } from './sbom-artifact.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';

export interface ImmutableRecordsOptions {
  /** Records kept per kind (image records, SBOM artifacts). */
  readonly maxEntries?: number;
  /** Bytes kept per kind (keys and JSON, as UTF-16). */
  readonly maxBytes?: number;
  /** How long "this manifest has no SBOM" is believed (ms); see `sbomsOf`. */
  readonly absentTtlMs?: number;
  readonly now?: () => number;
}

/**
 * The builder's records that never change once written, kept in process so a warm pull of a
 * built image does not ask the metadata store for them again (with Redis each ask is a round
 * trip to another process, which is what made those pulls slow under CPU load). Bounded by
 * count and bytes (LruMap).
 *
 * What is kept, and why it may be:
 * - Image records, by image key. The key is derived from everything the image depends on (the
 *   source's key of the package set, i.e. its commit, the packages, layerer, compression...), so
 *   the record under a key never changes; it can only disappear (gc expiry, lost Redis data).
 *   The builder still checks that the record's blobs exist before serving it, and builds again
 *   when a pull finds the name's sets and the record lost (see ImageBuilder).
 * - SBOM artifacts, by subject manifest digest: written once, deterministic from the manifest.
 *   Their absence is believed only `absentTtlMs` (an SBOM may be written by another process).
 *
 * Not kept here, on purpose: which revision a tag resolves to (the source answers, with its own
 * expiry), what a name serves (its tag, manifest and blob sets: re-checked on every pull, so a
 * pull heals metadata lost behind the process's back, issue 11), pull times (image-expiry.ts).
 */
export class ImmutableRecords {
  private readonly images: LruMap<string, ImageRecord>;
  private readonly sboms: LruMap<string, { readonly artifact: SbomArtifact | null; readonly until: number }>;
  private readonly absentTtlMs: number;
  private readonly now: () => number;

  constructor(options: ImmutableRecordsOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.images = new LruMap(maxBytes, (record, key) => stringBytes(key) + stringBytes(JSON.stringify(record)), maxEntries);
    this.sboms = new LruMap(maxBytes, (entry, key) => stringBytes(key) + stringBytes(entry.artifact ? JSON.stringify(entry.artifact) : null), maxEntries);
    this.absentTtlMs = options.absentTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Counters, for tests and diagnostics. */
  get stats(): { images: { entries: number; bytes: number }; sboms: { entries: number; bytes: number } } {
    return { images: { entries: this.images.size, bytes: this.images.weight }, sboms: { entries: this.sboms.size, bytes: this.sboms.weight } };
  }

  image(imageKey: string): ImageRecord | undefined {
    return this.images.get(imageKey);
  }

  rememberImage(imageKey: string, record: ImageRecord): void {
    this.images.set(imageKey, record);
  }

  forgetImage(imageKey: string): void {
    this.images.delete(imageKey);
  }

  /** The SBOM artifacts of `subjects` (null: none), reading the ones not known in one batch. */
  async sbomsOf(metadata: MetadataStore, subjects: readonly string[]): Promise<Array<SbomArtifact | null>> {
    const now = this.now();
    const known = subjects.map((digest) => {
      const entry = this.sboms.get(digest);
      return entry !== undefined && (entry.artifact !== null || now < entry.until) ? entry : undefined;
    });
    const unknown = subjects.filter((_digest, i) => known[i] === undefined);
    const read = await readMany(metadata, unknown.map((digest) => BuiltImageKeys.sbom(digest)));
    const fresh = new Map(unknown.map((digest, i) => [digest, validArtifact(read[i] ?? null)]));
    for (const [digest, artifact] of fresh) this.sboms.set(digest, { artifact, until: now + this.absentTtlMs });
    return subjects.map((digest, i) => known[i]?.artifact ?? fresh.get(digest) ?? null);
  }
}
