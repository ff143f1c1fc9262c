import { z } from 'zod';

/**
 * The binary-cache source: packages resolved through catalogs, contents read from a Nix binary
 * cache, no Nix needed (see docs/binary-cache.md).
 */
const binaryCacheSchema = z
  .object({
    /** `file:///dir`, `http(s)://host/path` or `s3://bucket?region=...&endpoint=...`. */
    url: z.string().refine((value) => value === '' || /^(file|https?|s3):\/\/\S+$/.test(value), 'must be a file://, http(s):// or s3:// URL').default(''),
    /** `name:base64` ed25519 keys; a narinfo needs a valid signature by one of them. */
    trustedPublicKeys: z.array(z.string().regex(/^[^:\s]+:[A-Za-z0-9+/]{43}=$/, 'must be name:base64 (a Nix public key)')).default([]),
    /** Accept narinfos with no signature by a trusted key (never one whose trusted signature is wrong). */
    allowUnsigned: z.boolean().default(false),
    /** Requests to the cache in flight at once. */
    concurrency: z.number().int().min(1).max(256).default(16),
    /** Retries of a request that failed with a 5xx, 429, network error or timeout. */
    retries: z.number().int().min(0).max(10).default(3),
    /** Limit for one request (until a narinfo is read, or a NAR download starts). */
    timeoutMs: z.number().int().positive().default(30_000),
    /** Largest NarSize a narinfo may declare; bigger ones are refused as absurd. */
    maxNarSize: z.number().int().positive().default(16 * 1024 ** 3),
    /** Verified narinfos kept in memory. */
    narInfoCacheEntries: z.number().int().min(0).default(20_000),
    /** List /bin of a package from the cache's `.ls` files (unsigned hints) instead of reading its NAR. */
    useListings: z.boolean().default(true),
    /** Accept symlinks that point outside /nix/store (Nix does; stowage refuses them by default). */
    allowExternalSymlinks: z.boolean().default(false),
  })
  .strict();

/**
 * The Debian source: binary packages from Debian's archive, indexes verified with gpgv, `.deb`s
 * fetched on demand into a verified cache; no Nix needed.
 */
const debianSchema = z
  .object({
    /** Archive root URLs replacing the apt sources' ones (a mirror); empty = the machine's apt sources. */
    archives: z.array(z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')).default([]),
    /** Directory of the apt configuration the archives are read from (`sources.list`, `sources.list.d/`). */
    aptDir: z.string().min(1).default('/etc/apt'),
    /** Suites served; empty = every suite of the apt sources. */
    suites: z.array(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/)).default([]),
    /** Components read with `archives` (the apt sources name their own). */
    components: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/)).min(1).default(['main']),
    /** Debian architectures indexed (each costs one Packages index per suite). */
    architectures: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1).default(['amd64']),
    /** Keyring for sources without Signed-By. */
    keyring: z.string().min(1).default('/usr/share/keyrings/debian-archive-keyring.gpg'),
    /** Indexes and `.deb`s are cached here; empty = `<dataDir>/debian`. */
    cacheDir: z.string().default(''),
    /** Most bytes of `.deb` files kept in the cache (least recently used go first). */
    cacheMaxBytes: z.number().int().positive().default(8 * 1024 ** 3),
    /** How old a verified index may get before a request refreshes it. */
    refreshIntervalMs: z.number().int().positive().default(6 * 60 * 60 * 1000),
    /** `.deb` downloads in flight at once. */
    concurrency: z.number().int().min(1).max(64).default(8),
    /** Retries of a failed download or index request (network errors, 5xx, cut-off bodies). */
    retries: z.number().int().min(0).max(10).default(3),
    /** Limit for one download or index request, body included. */
    timeoutMs: z.number().int().positive().default(300_000),
    /**
     * Debian packages the `shell` meta-package adds (Essential packages come only through it);
     * empty = the Debian source's own shell set (bash, coreutils, dash, ...: see
     * src/sources/debian/resolve/shell-packages.ts).
     */
    shellPackages: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** The `source` section: which package source serves images, and each source's settings. */
export const sourceSchema = z
  .object({
    /**
     * Where packages come from: `nix` evaluates the package set; `catalog` resolves through
     * `catalogs` and reads the binary cache, with no Nix; `mixed` serves the catalogs' tags
     * from the cache and every other tag (`latest`) with Nix; `debian` serves Debian's archive;
     * `routed` (the default) serves names starting with `nix/` from the Nix package set and
     * every other name from Debian.
     */
    kind: z.enum(['nix', 'catalog', 'mixed', 'debian', 'routed']).default('routed'),
    debian: debianSchema.prefault({}),
    /** Catalog files (or directories of `*.json` catalogs) for the catalog source. */
    catalogs: z.array(z.string().min(1)).default([]),
    binaryCache: binaryCacheSchema.prefault({}),
    /** A path to a Nix file or directory, or `<nixpkgs>`-style lookup path. Relative paths are resolved against the working directory. */
    packageSet: z.string().min(1).default('examples/pkgs'),
    /**
     * `auto`: a git repository when packageSet is a `file://`, `http(s)://` or `ssh://` URL or the
     * top of a git repository (work tree or bare), so tags name its branches, tags and commits;
     * `path`: the files as they are, served as `latest` only; `git`: always a repository.
     */
    packageSetType: z.enum(['auto', 'path', 'git']).default('auto'),
    /** How long a git package set's branches and tags are trusted before they are read (fetched) again. */
    gitRefreshMs: z.number().int().positive().default(60_000),
    /**
     * Nix systems images are built for. With more than one, a tag serves an image index that
     * clients pick their platform from; the first is the default for clients that can't.
     */
    systems: z.array(z.string().regex(/^[a-z0-9_]+-[a-z0-9_]+$/)).min(1).default(['x86_64-linux']),
    /** Attribute paths the `shell` meta-package expands to. */
    shellPackages: z.array(z.string().min(1)).min(1).default(['busybox']),
    /** Directory holding nix-build, nix-instantiate and nix; empty = found on PATH. */
    nixBinDir: z.string().default(''),
    /** Space-separated binary caches for Nix to substitute from; empty = build everything locally. */
    substituters: z.string().default(''),
    /** Public keys trusted for `substituters`, space-separated. */
    trustedPublicKeys: z.string().default(''),
    /** Use the machine's own Nix configuration (/etc/nix) instead of one stowage writes. */
    useSystemConfig: z.boolean().default(false),
    /** Longest a single Nix evaluation or build may run, in milliseconds. */
    timeoutMs: z.number().int().positive().default(600_000),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.kind === 'nix' || value.kind === 'debian' || value.kind === 'routed') return;
    const cache = value.binaryCache;
    if (cache.url === '') context.addIssue({ code: 'custom', path: ['binaryCache', 'url'], message: `is required when source.kind is ${value.kind}` });
    if (value.catalogs.length === 0) context.addIssue({ code: 'custom', path: ['catalogs'], message: `needs at least one catalog when source.kind is ${value.kind}` });
    if (cache.trustedPublicKeys.length === 0 && !cache.allowUnsigned) {
      context.addIssue({ code: 'custom', path: ['binaryCache', 'trustedPublicKeys'], message: 'needs at least one key (or binaryCache.allowUnsigned: true)' });
    }
  });
