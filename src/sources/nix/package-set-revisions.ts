import { RevisionNotFoundError } from '../errors.js';
import type { GitRepository } from '../git/git-repository.js';
import type { GitRevisions } from '../git/git-revisions.js';
import type { PackageSetFingerprint } from './package-set-fingerprint.js';

/** The package set at one revision: what Nix imports, and a key for caching images of it. */
export interface PackageSetAt {
  /** Path (or `<name>` lookup path) passed to Nix as the package set. */
  readonly path: string;
  /** Stable key of this state of the package set. */
  readonly key: string;
  /** Ends the use of `path` (a git tree may be removed once nobody uses it); absent when nothing is held. */
  readonly release?: () => Promise<void>;
}

/** Where the Nix source finds its package set at each revision (tag). */
export interface PackageSetRevisions {
  /** The tags it can build, `latest` first. */
  revisions(signal?: AbortSignal): Promise<string[]>;
  /** The key of the package set at `revision`, without making it available. @throws RevisionNotFoundError */
  key(revision: string, signal?: AbortSignal): Promise<string>;
  /**
   * The package set at `revision`, made available on disk. When `key` is given (what `key()`
   * said earlier for the same request), the state it names is located even if the revision has
   * moved since, so an image is always built from the state its cache key names. The caller
   * calls `release` once it no longer reads `path`.
   * @throws RevisionNotFoundError
   */
  locate(revision: string, signal?: AbortSignal, key?: string): Promise<PackageSetAt>;
  /** Changes whenever the contents at `path` may have changed (listing caches use it). */
  fingerprint(path: string, signal?: AbortSignal): Promise<string>;
}

/** A package set at a path (or `<name>`): only `latest`, keyed by a fingerprint of its files. */
export class PathPackageSet implements PackageSetRevisions {
  constructor(
    private readonly packageSet: string,
    private readonly fingerprints: PackageSetFingerprint,
  ) {}

  async revisions(): Promise<string[]> {
    return ['latest'];
  }

  async key(revision: string, signal?: AbortSignal): Promise<string> {
    if (revision !== 'latest') throw new RevisionNotFoundError(revision, ['latest']);
    return this.fingerprints.current(signal);
  }

  async locate(revision: string, signal?: AbortSignal): Promise<PackageSetAt> {
    return { path: this.packageSet, key: await this.key(revision, signal) };
  }

  fingerprint(_path: string, signal?: AbortSignal): Promise<string> {
    return this.fingerprints.current(signal);
  }
}

/** A package set in a git repository: any branch, tag or commit; keys are commit ids. */
export class GitPackageSet implements PackageSetRevisions {
  constructor(
    private readonly repository: GitRepository,
    private readonly resolver: GitRevisions,
  ) {}

  revisions(signal?: AbortSignal): Promise<string[]> {
    return this.resolver.revisions(signal);
  }

  async key(revision: string, signal?: AbortSignal): Promise<string> {
    return `git:${await this.resolver.resolve(revision, signal)}`;
  }

  async locate(revision: string, signal?: AbortSignal, key?: string): Promise<PackageSetAt> {
    const pinned = key === undefined ? undefined : /^git:([0-9a-f]{40,64})$/.exec(key)?.[1];
    const commit = pinned ?? (await this.resolver.resolve(revision, signal));
    const tree = await this.repository.useTree(commit, signal ?? new AbortController().signal);
    return { path: tree.path, key: `git:${commit}`, release: tree.release };
  }

  /** An exported tree never changes: its path (which holds the commit id) is its fingerprint. */
  async fingerprint(path: string): Promise<string> {
    return path;
  }
}
