import type { Readable } from 'node:stream';

/**
 * The seams inside the Debian package source. The archive side (InRelease verification,
 * Packages indexes, the resolver) and the package side (fetching `.deb` files, reading their
 * data tar into image layers) meet only through these types.
 */

/** One binary package stanza of a verified `Packages` index. */
export interface DebianPackage {
  /** Debian's own spelling, e.g. `libstdc++6`. */
  readonly name: string;
  /** Full Debian version, with epoch when present, e.g. `1:2.39.5-0+deb12u2`. */
  readonly version: string;
  /** `amd64`, `arm64`, or `all`. */
  readonly architecture: string;
  /** Path of the `.deb` relative to the archive root (`pool/main/g/git/git_...deb`). */
  readonly filename: string;
  /** Lower-case hex SHA256 of the `.deb`, from the signed index. */
  readonly sha256: string;
  /** Size of the `.deb` in bytes. */
  readonly size: number;
  /** `Installed-Size` in bytes (the index gives KiB). */
  readonly installedSize: number;
  /** Raw relationship fields, as in the index ('' when absent). */
  readonly depends: string;
  readonly preDepends: string;
  /** Soft dependencies; the resolver follows only a few of them (see resolver.ts). */
  readonly recommends?: string;
  readonly provides: string;
  readonly essential: boolean;
  readonly priority: string;
  readonly section: string;
  /** First line of the description. */
  readonly description: string;
  readonly multiArch: string;
  /** Source package name (and version in parentheses when it differs), as in the index. */
  readonly source: string;
  readonly homepage: string;
  /** The suite whose index the stanza came from (`bookworm`, `bookworm-security`, ...). */
  readonly suite: string;
  /** Archive root URL the `filename` is relative to, ending in `/`. */
  readonly archiveUrl: string;
}

/**
 * The newest candidate of every package name visible at one revision (a tag) for one
 * architecture, with the virtual packages they provide. Immutable once built.
 */
export interface DebianIndexSnapshot {
  readonly revision: string;
  readonly architecture: string;
  /** Stable identity of the indexes behind this snapshot (e.g. the SHA256s of the Packages files). */
  readonly fingerprint: string;
  /** Every candidate per name, best (highest version, then suite order) first. */
  readonly packages: ReadonlyMap<string, readonly DebianPackage[]>;
  /** Virtual name → the real packages providing it, in index order. */
  readonly providers: ReadonlyMap<string, readonly DebianPackage[]>;
}

/** Where snapshots come from: fetched, verified and cached indexes. */
export interface DebianIndexProvider {
  /** The tags this source serves, newest first (e.g. `latest`, `bookworm`). */
  revisions(): readonly string[];
  /**
   * The snapshot for `revision` and `architecture`, from the last good verified indexes.
   * @throws RevisionNotFoundError for a tag that is not served.
   * @throws SourceUnavailableError-like errors when no verified index could ever be fetched.
   */
  snapshot(revision: string, architecture: string, signal?: AbortSignal): Promise<DebianIndexSnapshot>;
}

/** The packages an image needs, in a deterministic order, with who needs whom. */
export interface DebianClosure {
  /** Every package of the closure, sorted by name. */
  readonly packages: readonly DebianPackage[];
  /** Package name → names of the closure packages it depends on (Depends and Pre-Depends). */
  readonly dependsOn: ReadonlyMap<string, readonly string[]>;
  /** The requested names as resolved (a virtual name resolves to its chosen provider). */
  readonly roots: readonly string[];
}

/** Downloads `.deb` files, verified against the index's SHA256, through a content-addressed cache. */
export interface DebFetcher {
  /**
   * A readable of the verified `.deb` bytes. Never yields bytes whose hash was not checked:
   * an implementation verifies into its cache first, or verifies while streaming and errors at
   * the end.
   * @throws an integrity error when the bytes do not match `pkg.sha256`.
   * @throws an unavailable error when the archive cannot be reached after retries.
   */
  open(pkg: DebianPackage, signal?: AbortSignal): Promise<Readable>;
}
