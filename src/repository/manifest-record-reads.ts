import type { CacheCoherence, MetadataStore } from '../storage/types.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import { CoherentCache } from '../storage/coherent-cache.js';
import { LruMap } from '../cache/lru-map.js';
import { readMany } from '../storage/metadata-batch.js';
import { PushedRepositoryKeys as Keys } from '../storage/metadata-keys.js';

/** A pushed manifest's descriptor as recorded (`PushedRepositoryKeys.info`). */
export interface ManifestInfo extends Descriptor {
  readonly subject?: string;
  readonly pushedAt?: string;
}

/** Whether a digest is a manifest of a repository, with its record. */
export interface ManifestRecord {
  readonly digest: string;
  readonly member: boolean;
  readonly info: ManifestInfo | null;
}

/** Tags whose digest is remembered or hinted, per process (a tag and a digest: about 200 bytes). */
const REMEMBERED_TAGS = 10_000;
/** Manifest records remembered per process (a descriptor of a few hundred bytes each). */
const REMEMBERED_MANIFESTS = 10_000;

/**
 * Reads of pushed manifests' records and tags, in as few round trips to a remote metadata store
 * as they can be answered right (each is a wait for another process to be scheduled when the
 * CPUs are busy). With a coherence, records and tags are remembered in this process; whoever
 * writes one calls `forget` after the write, which reaches every replica before it returns.
 */
export class ManifestRecordReads {
  /**
   * The digest each tag named when last read here. Only a guess: it lets a pull by tag send
   * the tag's read and its manifest's reads at once (one round trip instead of two), and the
   * answer is used only when the tag read, taken first, names the same digest. It matters
   * when nothing is remembered (no coherence, or Redis unreachable) or right after a change.
   */
  private readonly tagHints = new LruMap<string, string>(REMEMBERED_TAGS);
  /** Records of members only: any digest may be asked for, a layer's too. */
  private readonly records: CoherentCache<ManifestRecord> | null;
  /** Tags that name a digest: a pull by tag of a remembered tag and record needs no round trip. */
  private readonly tags: CoherentCache<string | null> | null;

  constructor(
    private readonly metadata: MetadataStore,
    coherence?: CacheCoherence,
  ) {
    this.records = coherence ? new CoherentCache(coherence, REMEMBERED_MANIFESTS) : null;
    this.tags = coherence ? new CoherentCache(coherence, REMEMBERED_TAGS) : null;
  }

  /** Whether `digest` is a manifest of `name`, and its record: one round trip at most. */
  record(name: string, digest: string): Promise<ManifestRecord> {
    const read = async (): Promise<ManifestRecord> => {
      const [member, info] = await Promise.all([this.metadata.isMember(Keys.manifests(name), digest), this.info(name, digest)]);
      return { digest, member, info };
    };
    return this.records ? this.records.read(recordKey(name, digest), read, (record) => record.member) : read();
  }

  /**
   * The record of the manifest a tag names, or null for an unknown tag. With a hint and no
   * remembered record, the tag and the hinted digest's record are read side by side; the tag
   * is read first in the same batch, so when it still names the hint the answer is what
   * reading the tag and then the record would give.
   */
  async tagged(name: string, tag: string): Promise<ManifestRecord | null> {
    const hintKey = `${name}\0${tag}`;
    const hint = this.tagHints.get(hintKey);
    let hinted: ManifestRecord | null = null;
    const readTag = async (): Promise<string | null> => {
      if (hint === undefined || this.records?.get(recordKey(name, hint)) !== undefined) return this.metadata.get(Keys.tag(name, tag));
      const [reads, member] = await Promise.all([readMany(this.metadata, [Keys.tag(name, tag), Keys.info(name, hint)]), this.metadata.isMember(Keys.manifests(name), hint)]);
      const read = reads[0] ?? null;
      if (read === hint) hinted = { digest: read, member, info: parseInfo(reads[1] ?? null) };
      return read;
    };
    const digest = this.tags ? await this.tags.read(tagKey(name, tag), readTag, (read) => read !== null) : await readTag();
    if (hinted !== null) return hinted;
    if (digest === null) {
      this.tagHints.delete(hintKey);
      return null;
    }
    this.tagHints.set(hintKey, digest);
    return this.record(name, digest);
  }

  /** A manifest's record as stored, never remembered (for writers and listings). */
  async info(name: string, digest: string): Promise<ManifestInfo | null> {
    return parseInfo(await this.metadata.get(Keys.info(name, digest)));
  }

  /**
   * After writes to these records and tags of `name`: every replica forgets them. The notices
   * go out side by side (each may wait for every replica's acknowledgement).
   */
  async forget(name: string, digests: readonly string[], tags: readonly string[]): Promise<void> {
    const records = this.records;
    const tagged = this.tags;
    await Promise.all([
      ...(records ? digests.map((digest) => records.invalidate(recordKey(name, digest))) : []),
      ...(tagged ? tags.map((tag) => tagged.invalidate(tagKey(name, tag))) : []),
    ]);
  }
}

function recordKey(name: string, digest: string): string {
  return `${name}\0${digest}`;
}

/** Both caches hear every key invalidated; a tag's key is kept apart from a record's. */
function tagKey(name: string, tag: string): string {
  return `tag\0${name}\0${tag}`;
}

function parseInfo(raw: string | null): ManifestInfo | null {
  return raw === null ? null : (JSON.parse(raw) as ManifestInfo);
}
