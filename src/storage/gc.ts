import type { BlobInfo, BlobStore, MetadataStore, StoredBlob } from './types.js';
import { readBlob } from './blob-io.js';

/**
 * Garbage collection of blobs: delete every blob that nothing references, safely while
 * servers and builds run.
 *
 * Mark: every `sha256:<hex>` string in any metadata value or set member is a root (image and
 * layer records, manifest digests per name, tags of pushed images, image infos...), and so is
 * every digest named inside a referenced blob that is JSON (a manifest names its config and
 * layers, an index its manifests). Scanning text instead of parsing known record shapes keeps
 * gc correct for records added later: it can only keep too much, never delete a referenced blob.
 *
 * Sweep: a blob is deleted only when it is unreferenced AND was last committed more than
 * `graceMs` ago. The grace period covers a build or push that has committed blobs but not yet
 * written the record naming them (the builder writes records after blobs). References are
 * computed a second time right before deleting, and the store's `delete` re-checks the commit
 * time itself, so a blob committed again by a build meanwhile is kept.
 */
export interface GarbageCollectionOptions {
  /** Blobs committed more recently than this are never deleted. */
  readonly graceMs: number;
  /** Report what would be deleted, delete nothing. */
  readonly dryRun: boolean;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Referenced blobs up to this size are read to find the digests they name (default 4 MiB). */
  readonly maxScanBytes?: number;
}

export interface GarbageCollectionReport {
  /** Blobs in the store when the collection started. */
  readonly blobs: number;
  readonly bytes: number;
  /** Blobs kept because something references them. */
  readonly referenced: number;
  /** Unreferenced blobs kept because they were committed within the grace period. */
  readonly young: number;
  /** Deleted blobs (with `dryRun`: the ones that would be deleted). */
  readonly deleted: readonly BlobInfo[];
  readonly freedBytes: number;
  /** Candidates kept after all: referenced by the second mark, or committed again. */
  readonly rescued: number;
}

/** Thrown when a store cannot enumerate or delete what gc needs. */
export class GarbageCollectionUnsupportedError extends Error {
  constructor(what: string) {
    super(`garbage collection is not supported: ${what}`);
    this.name = 'GarbageCollectionUnsupportedError';
  }
}

const DIGEST_PATTERN = /sha256:[a-f0-9]{64}/g;

export async function collectGarbage(blobs: BlobStore, metadata: MetadataStore, options: GarbageCollectionOptions): Promise<GarbageCollectionReport> {
  const { signal } = options;
  if (!blobs.list || !blobs.delete) throw new GarbageCollectionUnsupportedError('the blob store cannot list or delete blobs');
  if (!metadata.keys) throw new GarbageCollectionUnsupportedError('the metadata store cannot list its keys');
  const cutoff = (options.now ?? Date.now)() - options.graceMs;

  const listed: StoredBlob[] = [];
  for await (const blob of blobs.list(signal)) listed.push(blob);
  const firstMark = await referencedDigests(blobs, metadata, options.maxScanBytes ?? 4 * 1024 * 1024, signal);
  const unreferenced = listed.filter((blob) => !firstMark.has(blob.digest));
  const candidates = unreferenced.filter((blob) => blob.committedAt < cutoff);
  const summary = {
    blobs: listed.length,
    bytes: sum(listed),
    referenced: listed.length - unreferenced.length,
    young: unreferenced.length - candidates.length,
  };
  if (options.dryRun) {
    return { ...summary, deleted: candidates.map(info), freedBytes: sum(candidates), rescued: 0 };
  }

  const secondMark = await referencedDigests(blobs, metadata, options.maxScanBytes ?? 4 * 1024 * 1024, signal);
  const deleted: BlobInfo[] = [];
  let rescued = 0;
  for (const blob of candidates) {
    signal?.throwIfAborted();
    if (secondMark.has(blob.digest) || !(await blobs.delete(blob.digest, { committedBefore: cutoff, ...(signal ? { signal } : {}) }))) {
      rescued += 1;
      continue;
    }
    deleted.push(info(blob));
  }
  return { ...summary, deleted, freedBytes: sum(deleted), rescued };
}

/** Every digest named by metadata, and transitively by the JSON blobs those name. */
export async function referencedDigests(blobs: BlobStore, metadata: MetadataStore, maxScanBytes: number, signal?: AbortSignal): Promise<Set<string>> {
  if (!metadata.keys) throw new GarbageCollectionUnsupportedError('the metadata store cannot list its keys');
  const found = new Set<string>();
  const queue: string[] = [];
  const add = (text: string): void => {
    for (const [digest] of text.matchAll(DIGEST_PATTERN)) {
      if (found.has(digest)) continue;
      found.add(digest);
      queue.push(digest);
    }
  };
  for await (const key of metadata.keys(signal)) {
    const value = await metadata.get(key);
    if (value !== null) add(value);
    for (const member of await metadata.members(key)) add(member);
  }
  while (queue.length > 0) {
    signal?.throwIfAborted();
    const digest = queue.pop() as string;
    const stat = await blobs.stat(digest, signal);
    if (stat === null || stat.size > maxScanBytes) continue;
    let bytes: Buffer;
    try {
      bytes = await readBlob(blobs, digest, signal);
    } catch {
      continue; // deleted meanwhile: nothing left to follow
    }
    // Manifests, indexes and configs are JSON objects; layers (compressed tars) are skipped.
    if (bytes[0] === 0x7b) add(bytes.toString('utf8'));
  }
  return found;
}

function info(blob: BlobInfo): BlobInfo {
  return { digest: blob.digest, size: blob.size };
}

function sum(items: readonly BlobInfo[]): number {
  return items.reduce((total, item) => total + item.size, 0);
}
