import { RevisionNotFoundError } from '../../errors.js';
import { DebianArchitectureError, DebianArchiveError } from '../errors.js';
import type { DebianIndexProvider, DebianIndexSnapshot } from '../types.js';
import { readAptSources, type AptSource } from './apt-sources.js';
import { ArchiveHttpClient, type ArchiveHttpOptions } from './archive-http.js';
import { DEFAULT_DEBIAN_KEYRING } from './gpgv.js';
import { IndexCache } from './index-cache.js';
import { defaultRevisions, type RevisionMap } from './revisions.js';
import { buildSnapshot, snapshotFingerprint } from './snapshot.js';
import { fetchSuiteIndex, type SuiteIndex } from './suite-index.js';
import { abortable } from '../../abortable.js';

/** Configuration of the archive side of the Debian source. */
export interface DebianArchiveIndexOptions {
  /** The archives and suites to read; `fromAptSources` fills it from the machine's apt sources. */
  readonly sources: readonly AptSource[];
  /** Tag → suites; default `defaultRevisions(sources)` (see revisions.ts for the rule). */
  readonly revisions?: RevisionMap;
  /** Architectures served (default `['amd64']`); each costs one Packages index per suite. */
  readonly architectures?: readonly string[];
  /** Where verified indexes are cached. */
  readonly cacheDir: string;
  /** How old a verified index may get before a request refreshes it (default 6 h). */
  readonly refreshIntervalMs?: number;
  /** After a failed refresh, how long the last good index is served before trying again (default 5 min). */
  readonly retryAfterFailureMs?: number;
  /** Keyring for sources without `Signed-By` (default Debian's archive keyring). */
  readonly keyring?: string;
  readonly http?: Partial<ArchiveHttpOptions>;
  /** The clock refreshes and Valid-Until are judged by (default the system clock). */
  readonly now?: () => Date;
  readonly gpgv?: string;
  /** Told when a refresh failed and the last good index stays in service. */
  readonly onRefreshError?: (info: { suite: string; architecture: string; error: Error }) => void;
}

interface SuiteState {
  index: SuiteIndex | null;
  checkedAt: number;
  retryAt: number;
  inflight: Promise<SuiteIndex> | null;
}

/**
 * The `DebianIndexProvider` over real archives: each suite's InRelease and Packages are fetched,
 * verified and cached (see suite-index.ts); a request finding a suite index older than the
 * refresh interval refreshes it first (one refresh per suite at a time, shared by concurrent
 * requests). A failed or unverifiable refresh keeps the last good index in service; only an
 * index whose own Valid-Until has passed is withdrawn, as apt would. Snapshots are rebuilt only
 * when their fingerprint changes.
 */
export class DebianArchiveIndex implements DebianIndexProvider {
  private readonly revisionMap: RevisionMap;
  private readonly architectures: readonly string[];
  private readonly cache: IndexCache;
  private readonly clients = new Map<string, ArchiveHttpClient>();
  private readonly states = new Map<string, SuiteState>();
  private readonly snapshots = new Map<string, DebianIndexSnapshot>();
  private readonly now: () => Date;

  constructor(private readonly options: DebianArchiveIndexOptions) {
    this.revisionMap = options.revisions ?? defaultRevisions(options.sources);
    this.architectures = options.architectures ?? ['amd64'];
    this.cache = new IndexCache(options.cacheDir);
    this.now = options.now ?? (() => new Date());
    for (const [tag, suites] of this.revisionMap) {
      for (const suite of suites) if (!this.sourceOf(suite)) throw new Error(`revision "${tag}" names suite "${suite}", which no apt source lists`);
    }
  }

  /** A provider for the machine's apt sources (`/etc/apt` unless `aptDir` says otherwise). */
  static async fromAptSources(options: Omit<DebianArchiveIndexOptions, 'sources'>, aptDir?: string): Promise<DebianArchiveIndex> {
    return new DebianArchiveIndex({ ...options, sources: await readAptSources(aptDir) });
  }

  revisions(): readonly string[] {
    return [...this.revisionMap.keys()];
  }

  /** Suites a tag merges, in priority order. */
  suitesOf(revision: string): readonly string[] {
    const suites = this.revisionMap.get(revision);
    if (suites === undefined) throw new RevisionNotFoundError(revision, this.revisions());
    return suites;
  }

  async snapshot(revision: string, architecture: string, signal?: AbortSignal): Promise<DebianIndexSnapshot> {
    const suites = this.suitesOf(revision);
    if (!this.architectures.includes(architecture)) throw new DebianArchitectureError(architecture, this.architectures);
    const indexes = await Promise.all(suites.map((suite) => this.suiteIndex(suite, architecture, signal)));
    const key = `${revision}\0${architecture}`;
    const cached = this.snapshots.get(key);
    if (cached && cached.fingerprint === snapshotFingerprint(indexes)) return cached;
    const fresh = buildSnapshot(revision, architecture, indexes);
    this.snapshots.set(key, fresh);
    return fresh;
  }

  /** Refreshes every suite index in service now, whatever its age; failures keep the last good one. */
  async refresh(signal?: AbortSignal): Promise<void> {
    const keys = [...this.states.keys()];
    for (const state of this.states.values()) {
      state.checkedAt = Number.NEGATIVE_INFINITY;
      state.retryAt = Number.NEGATIVE_INFINITY;
    }
    await Promise.all(keys.map((key) => {
      const [suite, architecture] = key.split('\0') as [string, string];
      return this.suiteIndex(suite, architecture, signal).catch(() => undefined);
    }));
  }

  private sourceOf(suite: string): AptSource | undefined {
    return this.options.sources.find((s) => s.suites.includes(suite));
  }

  private client(uri: string): ArchiveHttpClient {
    let client = this.clients.get(uri);
    if (!client) {
      client = new ArchiveHttpClient(uri, this.options.http);
      this.clients.set(uri, client);
    }
    return client;
  }

  private async suiteIndex(suite: string, architecture: string, signal?: AbortSignal): Promise<SuiteIndex> {
    const key = `${suite}\0${architecture}`;
    let state = this.states.get(key);
    if (!state) {
      state = { index: null, checkedAt: Number.NEGATIVE_INFINITY, retryAt: Number.NEGATIVE_INFINITY, inflight: null };
      this.states.set(key, state);
    }
    const now = this.now().getTime();
    const index = state.index;
    if (index !== null) {
      const validUntil = index.release.validUntil?.getTime() ?? Number.POSITIVE_INFINITY;
      const fresh = now - state.checkedAt < (this.options.refreshIntervalMs ?? 6 * 3600_000);
      if (now <= validUntil && (fresh || now < state.retryAt)) return index;
    }
    state.inflight ??= this.load(suite, architecture, state).finally(() => {
      (state as SuiteState).inflight = null;
    });
    return abortable(state.inflight, signal);
  }

  private async load(suite: string, architecture: string, state: SuiteState): Promise<SuiteIndex> {
    const source = this.sourceOf(suite) as AptSource;
    const attemptAt = this.now().getTime();
    try {
      const index = await fetchSuiteIndex(
        {
          suite,
          components: source.components,
          architecture,
          keyrings: [source.signedBy ?? this.options.keyring ?? DEFAULT_DEBIAN_KEYRING],
          http: this.client(source.uri),
          cache: this.cache,
          now: this.now,
          gpgv: this.options.gpgv,
        },
        state.index ?? undefined,
      );
      const changed = index !== state.index;
      state.index = index;
      state.checkedAt = attemptAt;
      if (changed) await this.prune();
      return index;
    } catch (error) {
      const previous = state.index;
      const validUntil = previous?.release.validUntil?.getTime() ?? Number.POSITIVE_INFINITY;
      if (previous === null || this.now().getTime() > validUntil) {
        state.index = null;
        throw error;
      }
      state.retryAt = attemptAt + (this.options.retryAfterFailureMs ?? 5 * 60_000);
      this.options.onRefreshError?.({ suite, architecture, error: error instanceof Error ? error : new DebianArchiveError(String(error), source.uri) });
      return previous;
    }
  }

  private async prune(): Promise<void> {
    const live = new Set<string>();
    for (const state of this.states.values()) for (const file of state.index?.files ?? []) live.add(file.sha256);
    await this.cache.prune(live).catch(() => undefined);
  }
}
