import type { Readable } from 'node:stream';

/** What an image name and tag ask for, after parsing and canonicalisation. */
export interface ImageRequest {
  /** Attribute paths of the packages, sorted and without duplicates (meta-packages expanded). */
  readonly packages: readonly string[];
  /** Package-set revision selected by the tag (`latest` for a path source). */
  readonly revision: string;
  /** Nix system, e.g. `x86_64-linux`. */
  readonly system: string;
  /** The package universe a routed name picked by its prefix (`nix`); absent = the default one. */
  readonly universe?: string;
}

/** One store path of a closure. */
export interface StorePathInfo {
  /** Full store path, e.g. `/nix/store/<hash>-hello-2.12.1`. */
  readonly path: string;
  /** Size of its NAR serialisation in bytes. */
  readonly narSize: number;
  /** `sha256:<nix32>` NAR hash as Nix reports it, when known. */
  readonly narHash?: string;
  /** Store paths it references (may include itself). */
  readonly references: readonly string[];
  /**
   * For SBOMs, when the source knows better than the path's name (a Debian package): the
   * package's name and version, the lower-case hex SHA-256 of the archive it came from, and
   * its purl (`pkg:deb/debian/<name>@<version>?arch=<arch>`). Nix paths leave them unset: the
   * SBOM derives name and version from the store path and the hash from `narHash`.
   */
  readonly name?: string;
  readonly version?: string;
  readonly sha256?: string;
  readonly purl?: string;
}

/** A resolved, realised runtime closure. */
export interface ClosureGraph {
  readonly paths: readonly StorePathInfo[];
  /** Store paths of the requested packages' outputs, in package order. */
  readonly roots: readonly string[];
  /** The outputs each requested package resolved to. */
  readonly packageRoots: Readonly<Record<string, readonly string[]>>;
  /**
   * Reads this closure's store paths when that is not the source's `reader`: a source that
   * routes requests to other sources by revision sets it. Consumers use
   * `closure.reader ?? source.reader`.
   */
  readonly reader?: StoreReader;
  /**
   * The name of the source that resolved this closure, set by sources that route requests to
   * others (`debian` for a routed Debian name, not the routing pair): images name it in their
   * `dev.stowage.source` label and SBOM, so one image says the same whatever routed it.
   * Absent = the source that was asked.
   */
  readonly source?: string;
  /**
   * Present when the closure's paths are not store paths but packages whose files belong at
   * their real places in the root filesystem (Debian `.deb`s): the layers are then written from
   * `rootFs.reader` and the top layer comes from `rootFs.topLayer`. Absent = Nix store layout.
   */
  readonly rootFs?: RootFsImage;
  /**
   * Path → how popular it is in the whole package set, when the source knows better than the
   * closure itself (Debian: how many archive packages need it). Absent = the builder's default.
   */
  readonly popularity?: ReadonlyMap<string, number>;
}

/**
 * One filesystem object of a root-filesystem package, at its real path relative to `/`
 * (`usr/bin/git`), with the mode (setuid bits included) and numeric owner the package ships.
 */
export type RootFsEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode: number; readonly uid: number; readonly gid: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string; readonly uid: number; readonly gid: number }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
      readonly size: number;
      /** The file's bytes; call at most once, and before asking for the next entry. */
      open(): Readable;
    }
  | {
      /** A hard link to an earlier entry of the same package (`target` is its path). */
      readonly kind: 'hardlink';
      readonly path: string;
      readonly target: string;
      readonly mode: number;
      readonly uid: number;
      readonly gid: number;
    };

/** Reads the files of root-filesystem packages, streaming, in the package's own order. */
export interface RootFsReader {
  /** The entries of closure path `path` (e.g. `/debian/git_1%3a2.39.5-0+deb12u2_amd64`). */
  entries(path: string, signal?: AbortSignal): AsyncIterable<RootFsEntry>;
}

/** What a root-filesystem image gets on top of its package layers. */
export interface RootFsTopLayer {
  readonly entries: ReadonlyArray<
    | { readonly kind: 'directory'; readonly path: string; readonly mode: number }
    | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
    | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly content: string }
  >;
  /** The image config's Cmd, or null for none. */
  readonly cmd: readonly string[] | null;
  /** The image config's Env (`NAME=value`). */
  readonly env: readonly string[];
}

export interface RootFsImage {
  readonly reader: RootFsReader;
  /** Plan the top layer; `shell` tells whether the `shell` meta-package was asked for. */
  topLayer(options: { readonly shell: boolean; readonly signal: AbortSignal }): Promise<RootFsTopLayer>;
}

export interface ResolveOptions {
  readonly signal: AbortSignal;
  /**
   * What `cacheKey` returned for this request, when the caller asked: a source whose revisions
   * move (a git branch) resolves the state that key names, so an image cached under a key is
   * always built from that state.
   */
  readonly cacheKey?: string | null;
  /**
   * Told what the source does for this request as it happens, for the build's live log: the
   * derivations Nix builds, the paths or packages downloaded, other lines of the tools' output.
   * A source may keep calling it after `resolve` returned, while the closure's files are read
   * (a Debian source fetches its `.deb`s as the layers are written). Must not throw.
   */
  readonly onProgress?: (event: SourceProgress) => void;
}

/** One thing a source reports doing (ResolveOptions.onProgress). */
export interface SourceProgress {
  /** `build`: a derivation is built; `download`: a path or package is fetched; `log`: any other line. */
  readonly kind: 'build' | 'download' | 'log';
  /** One line for people, without terminal escapes. */
  readonly text: string;
}

/** Resolves package lists into closures. */
export interface PackageSource {
  /** Short name for logs and labels (`nix`, ...). */
  readonly name: string;
  /**
   * A stable key for the package set at `request.revision`, or null when the revision is a
   * moving target whose images must not be cached.
   */
  cacheKey(request: ImageRequest, signal?: AbortSignal): Promise<string | null>;
  /**
   * Resolve and realise the closure of `request.packages`.
   * @throws PackageNotFoundError naming every unknown package.
   * @throws RevisionNotFoundError when the revision is not known to the source.
   * @throws BuildFailedError when evaluation or realisation fails.
   */
  resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph>;
  /** Reads the contents of store paths this source has resolved. */
  readonly reader: StoreReader;
  /**
   * The revisions (tags) this source can build, newest first. Optional: without it, only
   * `latest` is shown to users.
   */
  revisions?(signal?: AbortSignal): Promise<string[]>;
  /**
   * The top-level packages of the package set at `at.revision` for `at.system`, for search.
   * Optional. May take a while on a big package set the first time; implementations cache it
   * per package-set state. Also how the registry tells whether a name is a buildable package
   * list before accepting a push to it (repository/push-namespaces.ts): a source without it
   * accepts pushes under configured namespaces only.
   * @throws RevisionNotFoundError, BuildFailedError (evaluation failed).
   */
  listPackages?(at: PackageSetRevision, options: ResolveOptions): Promise<PackageSummary[]>;
  /**
   * The runtime closure size in bytes of each named package when it is known without building
   * anything (its outputs are already in the store), else null. Unknown names are null.
   * Optional.
   */
  closureSizes?(at: PackageSetRevision, packages: readonly string[], options: ResolveOptions): Promise<Record<string, number | null>>;
}

/** A package set's revision, for one system. */
export interface PackageSetRevision {
  readonly revision: string;
  readonly system: string;
}

/** One package of a package set, as listed for search. */
export interface PackageSummary {
  /** Attribute path, as it is written in an image name. */
  readonly name: string;
  readonly version?: string;
  readonly description?: string;
}

/**
 * One filesystem object inside a store path, in NAR order: a directory comes before its
 * children, and siblings are sorted by name in byte order.
 */
export type StoreEntry =
  | { readonly kind: 'directory'; readonly path: string }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly size: number;
      readonly executable: boolean;
      /** The file's bytes. May be called more than once while this entry is current. */
      open(signal?: AbortSignal): Readable;
      /** The file's bytes when the reader already holds them (what open() streams). */
      readonly bytes?: Buffer;
      /**
       * Streams the file again from where it lives, also after the walk has moved on, holding
       * none of its bytes (a file on a local disk). Absent when the source cannot be read again
       * later (a NAR stream).
       */
      readonly reopen?: (signal?: AbortSignal) => Readable;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** Reads store path contents, from a local store directory or from NAR streams. */
export interface StoreReader {
  /**
   * The entries of `storePath`, starting with the store path itself. `path` of each entry is
   * absolute (`/nix/store/...`). The next entry must not be requested before the current file's
   * stream, if opened, has been consumed.
   */
  entries(storePath: string, signal?: AbortSignal): AsyncIterable<StoreEntry>;
  /**
   * The names and kinds of the entries of one directory inside a store path (`/nix/store/x/bin`),
   * sorted by name in byte order; null when it does not exist or is not a directory.
   */
  list(directory: string, signal?: AbortSignal): Promise<DirectoryListing | null>;
}

export type DirectoryListing = ReadonlyArray<{ readonly name: string; readonly kind: StoreEntry['kind'] }>;
