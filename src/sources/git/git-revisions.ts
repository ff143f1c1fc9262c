import { RevisionNotFoundError } from '../errors.js';
import { LruMap } from '../../cache/lru-map.js';
import type { GitRefListing } from './git-repository.js';
import { DEFAULT_BRANCH_TAG, isCommitIdLike, isValidRefName } from './ref-name.js';

/** What the resolver needs of a repository (GitRepository; a fake in unit tests). */
export interface GitRefSource {
  listRefs(signal: AbortSignal): Promise<GitRefListing>;
  findCommit(revision: string, signal: AbortSignal): Promise<string | null>;
}

export interface GitRevisionsOptions {
  /** How long a listing of branches and tags is trusted before it is read (fetched) again. */
  readonly refreshMs: number;
  readonly now?: () => number;
  /** Abbreviated commit ids remembered (full ids need no lookup once known). */
  readonly maxCommitLookups?: number;
}

interface Snapshot {
  readonly at: number;
  readonly head: string | null;
  /** Tag → commit, for every branch and tag whose name can be a tag; tags win over branches, as in git. */
  readonly byName: ReadonlyMap<string, string>;
}

/**
 * Turns tags into commits: `latest` is HEAD (the default branch), a branch or tag name is what
 * it points at now, re-read every `refreshMs`, and a full or abbreviated commit id is that
 * commit, looked up once and remembered (a commit never changes). Anything else is
 * RevisionNotFoundError naming the tag and the known revisions.
 */
export class GitRevisions {
  private snapshot: Snapshot | undefined;
  private pending: Promise<Snapshot> | undefined;
  private readonly commits: LruMap<string, string>;
  /** Hex tags git did not know, with the listing they were checked against: clients can send any. */
  private readonly misses = new LruMap<string, number>(1_000);

  constructor(
    private readonly repository: GitRefSource,
    private readonly options: GitRevisionsOptions,
  ) {
    this.commits = new LruMap(options.maxCommitLookups ?? 10_000);
  }

  /** `latest`, then branches, then tags (each sorted by name). */
  async revisions(signal?: AbortSignal): Promise<string[]> {
    const snapshot = await this.current(signal);
    return [...(snapshot.head !== null ? [DEFAULT_BRANCH_TAG] : []), ...snapshot.byName.keys()];
  }

  /**
   * The full commit id `revision` names.
   * @throws RevisionNotFoundError for anything that is not `latest`, a branch, a tag or a commit.
   */
  async resolve(revision: string, signal?: AbortSignal): Promise<string> {
    const snapshot = await this.current(signal);
    if (revision === DEFAULT_BRANCH_TAG) {
      if (snapshot.head === null) throw this.notFound(revision, snapshot);
      return snapshot.head;
    }
    if (!isValidRefName(revision)) throw this.notFound(revision, snapshot);
    const named = snapshot.byName.get(revision);
    if (named !== undefined) return named;
    if (isCommitIdLike(revision)) {
      const known = this.commits.get(revision);
      if (known !== undefined) return known;
      // Asked again before the refs are re-read: git would say no again, without a process.
      if (this.misses.get(revision) === snapshot.at) throw this.notFound(revision, snapshot);
      const commit = await this.repository.findCommit(revision, signal ?? new AbortController().signal);
      // rev-parse also reads other ref names; only a commit whose id starts with the tag counts.
      if (commit !== null && commit.startsWith(revision)) {
        this.commits.set(revision, commit);
        return commit;
      }
      this.misses.set(revision, snapshot.at);
    }
    throw this.notFound(revision, snapshot);
  }

  private async current(signal?: AbortSignal): Promise<Snapshot> {
    const now = (this.options.now ?? Date.now)();
    if (this.snapshot && now - this.snapshot.at < this.options.refreshMs) return this.snapshot;
    // Concurrent callers share one listing, which no single caller's signal may cancel.
    this.pending ??= this.read(now).finally(() => (this.pending = undefined));
    signal?.throwIfAborted();
    let snapshot: Snapshot;
    try {
      snapshot = await this.pending;
    } catch (error) {
      // A remote that cannot be fetched just now: keep serving what it said last (for another
      // interval, so requests do not each retry), rather than failing every pull.
      if (!this.snapshot) throw error;
      snapshot = { ...this.snapshot, at: now };
    }
    this.snapshot = snapshot;
    return snapshot;
  }

  private async read(now: number): Promise<Snapshot> {
    const listing = await this.repository.listRefs(new AbortController().signal);
    const byName = new Map<string, string>();
    const usable = listing.refs.filter((ref) => ref.name !== DEFAULT_BRANCH_TAG && isValidRefName(ref.name));
    const sorted = (kind: 'branch' | 'tag') => usable.filter((ref) => ref.kind === kind).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ref of sorted('branch')) byName.set(ref.name, ref.commit);
    for (const ref of sorted('tag')) {
      // A tag and a branch of one name: git's rev-parse takes the tag, and so does stowage.
      byName.delete(ref.name);
      byName.set(ref.name, ref.commit);
    }
    return { at: now, head: listing.head, byName };
  }

  /** The error names at most 20 known revisions: nixpkgs has thousands of tags. */
  private notFound(revision: string, snapshot: Snapshot): RevisionNotFoundError {
    const known = [...(snapshot.head !== null ? [DEFAULT_BRANCH_TAG] : []), ...snapshot.byName.keys()];
    return new RevisionNotFoundError(revision, [...known.slice(0, 20), ...(known.length > 20 ? ['...'] : []), 'a commit id']);
  }
}
