import { LruMap, stringBytes } from '../cache/lru-map.js';
import type { ImageRecord } from './records.js';

export interface VerifiedPullsOptions {
  /** How long a verification is trusted (ms). 0 turns the memory off: every pull checks. */
  readonly ttlMs?: number;
  /** Image names remembered. */
  readonly maxNames?: number;
  /** Bytes remembered (keys, snapshots, records and members, as UTF-16). */
  readonly maxBytes?: number;
  /** Revisions remembered per name (a name pulled at many tags keeps the latest ones). */
  readonly maxRevisions?: number;
  readonly now?: () => number;
}

/** What one pull by tag found complete, and when. */
interface Verified {
  /** What the tag resolved to then (see `snapshot`): a change means the tag moved. */
  readonly snapshot: string;
  readonly record: ImageRecord;
  /** Every `[set key, member]` the name had to hold for the image, all found or written. */
  readonly members: ReadonlyArray<readonly [string, string]>;
  readonly until: number;
  /**
   * Set when a read found one of `members` gone from the metadata store: the memory no longer
   * answers pulls by tag (the next one checks and writes back everything, records included),
   * it only vouches for the members until `until`.
   */
  suspect: boolean;
}

/**
 * "This name served this image at this tag, and every record and set member it needs was found
 * (or written) at time T": kept in process for a short TTL, so the pulls by tag that follow
 * within it make no metadata round trip and no stat (each one a wait on another process or
 * thread, which is what made these pulls slow while other processes load the CPUs).
 *
 * Why it may be trusted for the TTL:
 * - A tag that moves (a new commit of the package set, a changed path package set, a new
 *   co-occurrence table) gives another snapshot: the memory does not answer for it.
 * - Metadata lost behind the process's back (a Redis FLUSHALL, eviction) is written back by the
 *   first pull by tag after the TTL, as before by the next pull. Meanwhile a read of the read
 *   model that misses a member remembered here is vouched for (`vouches`), so a client pulling
 *   the manifest it was just served still gets its blobs, and marks the entry suspect, so the
 *   next pull by tag checks again at once.
 * - gc forgets only names nobody pulled for `gc.imageRecordTtlMs` (hours or days), and deleting
 *   a blob is seen when it is opened.
 * Bounded by names, revisions per name and bytes (LruMap); entries expire on the injected clock.
 */
export class VerifiedPulls {
  private readonly names: LruMap<string, Map<string, Verified>>;
  private readonly ttlMs: number;
  private readonly maxRevisions: number;
  private readonly now: () => number;

  constructor(options: VerifiedPullsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.maxRevisions = options.maxRevisions ?? 8;
    this.now = options.now ?? Date.now;
    this.names = new LruMap<string, Map<string, Verified>>(options.maxBytes ?? 4 * 1024 * 1024, weigh, options.maxNames ?? 1_000);
  }

  /** Counters, for tests and diagnostics. */
  get stats(): { names: number; bytes: number; evictions: number } {
    return { names: this.names.size, bytes: this.names.weight, evictions: this.names.evictions };
  }

  /** The image the tag served, when verified within the TTL under the same snapshot and not suspect. */
  get(canonicalName: string, revision: string, snapshot: string): ImageRecord | undefined {
    const entry = this.names.get(canonicalName)?.get(revision);
    if (entry === undefined || entry.suspect || entry.snapshot !== snapshot || this.now() >= entry.until) return undefined;
    return entry.record;
  }

  /** Whether `get` may answer for some snapshot: lets a caller skip working out the current one. */
  has(canonicalName: string, revision: string): boolean {
    const entry = this.names.get(canonicalName)?.get(revision);
    return entry !== undefined && !entry.suspect && this.now() < entry.until;
  }

  remember(canonicalName: string, revision: string, snapshot: string, record: ImageRecord, members: ReadonlyArray<readonly [string, string]>): void {
    if (this.ttlMs <= 0) return;
    const revisions = new Map(this.names.get(canonicalName) ?? []);
    revisions.delete(revision);
    revisions.set(revision, { snapshot, record, members, until: this.now() + this.ttlMs, suspect: false });
    while (revisions.size > this.maxRevisions) revisions.delete(revisions.keys().next().value as string);
    // Set again so the LruMap weighs the name anew.
    this.names.set(canonicalName, revisions);
  }

  /**
   * Whether a verification of `canonicalName` within the TTL found `member` in set `key`: the
   * store has lost it since. Marks those entries suspect, so the next pull by tag writes it back.
   */
  vouches(canonicalName: string, key: string, member: string): boolean {
    const revisions = this.names.get(canonicalName);
    if (revisions === undefined) return false;
    const now = this.now();
    let found = false;
    for (const entry of revisions.values()) {
      if (now >= entry.until || !entry.members.some(([k, m]) => k === key && m === member)) continue;
      entry.suspect = true;
      found = true;
    }
    return found;
  }
}

function weigh(revisions: ReadonlyMap<string, Verified>, name: string): number {
  let bytes = stringBytes(name);
  for (const [revision, entry] of revisions) {
    bytes += stringBytes(revision) + stringBytes(entry.snapshot) + stringBytes(JSON.stringify(entry.record));
    for (const [key, member] of entry.members) bytes += stringBytes(key) + stringBytes(member);
  }
  return bytes;
}
