import type { Logger } from 'pino';
import { coOccurrenceOfNames } from '../layering/index.js';
import { CoOccurrenceKeys } from '../storage/metadata-keys.js';
import type { LockManager, MetadataStore } from '../storage/types.js';
import type { ClosureWindow } from './closure-window.js';
import { parseCoOccurrence, serialiseCoOccurrence, versionOf, type VersionedTable } from './co-occurrence-file.js';

/**
 * The co-occurrence data the builder layers with: the table in force (null: none, layer with
 * counts alone) and where built closures go. A table changes image keys and may regroup layers,
 * so it must change rarely and be the same in every replica.
 */
export interface CoOccurrenceData {
  /** The table in force now, with its version (part of the image key). */
  current(): VersionedTable | null;
  /** Record a built image's closure (its store paths) for later tables. */
  record(paths: readonly string[]): Promise<void>;
}

/** An operator's table file: fixed for the life of the process; nothing is recorded. */
export class FixedCoOccurrence implements CoOccurrenceData {
  constructor(private readonly table: VersionedTable) {}

  current(): VersionedTable {
    return this.table;
  }

  async record(): Promise<void> {}
}

export interface FrozenCoOccurrenceOptions {
  /** A table is recomputed from the window only when the persisted one is at least this old. */
  readonly periodMs: number;
  /** How often `current` looks for a table another replica (or process) made; default min(period, 1 min). */
  readonly checkEveryMs?: number;
  readonly lockTtlMs: number;
  /** Epoch ms (injected in tests). */
  readonly now?: () => number;
}

const TABLE_LOCK = 'cooc-table';

/**
 * A table frozen from the window of recent closures and persisted with the time it was computed:
 * recomputed at most once per period (by whichever process first finds it stale, under a lock),
 * otherwise read back, so restarts and replicas share one table and one version. The table is a
 * pure function of the window (`coOccurrenceOfNames`, images in window order), and its version a
 * digest of its text: a recomputation over an unchanged window keeps the version and the keys.
 */
export class FrozenCoOccurrence implements CoOccurrenceData {
  private snapshot: VersionedTable | null = null;
  private loadedVersion: string | null = null;
  private lastCheck = Number.NEGATIVE_INFINITY;
  private syncing: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly deps: { readonly metadata: MetadataStore; readonly locks: LockManager; readonly window: ClosureWindow; readonly logger: Logger },
    private readonly options: FrozenCoOccurrenceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  current(): VersionedTable | null {
    const checkEvery = this.options.checkEveryMs ?? Math.min(this.options.periodMs, 60_000);
    if (this.syncing === null && this.now() - this.lastCheck >= checkEvery) {
      // In the background: this build keeps the table it started with.
      this.syncing = this.sync()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'co-occurrence table check failed; keeping the current table'))
        .finally(() => (this.syncing = null));
    }
    return this.snapshot;
  }

  record(paths: readonly string[]): Promise<void> {
    return this.deps.window.record(paths);
  }

  /** Resolves when no background check is running (tests; a clean shutdown). */
  async idle(): Promise<void> {
    await this.syncing;
  }

  /** Adopt the persisted table, or compute one when it is missing or older than the period. */
  async sync(): Promise<void> {
    this.lastCheck = this.now();
    if (await this.adoptFresh()) return;
    await this.deps.locks.withLock(TABLE_LOCK, this.options.lockTtlMs, async () => {
      if (await this.adoptFresh()) return;
      const table = coOccurrenceOfNames(await this.deps.window.closures());
      const text = serialiseCoOccurrence(table);
      const version = versionOf(text);
      await this.deps.metadata.set(CoOccurrenceKeys.table, text);
      await this.deps.metadata.set(CoOccurrenceKeys.tableVersion, JSON.stringify({ version, computedAt: this.now() }));
      this.use({ table, version });
      this.deps.logger.info({ version, images: table.total, names: table.signatures.size }, 'co-occurrence table computed');
    });
  }

  /** Whether the persisted table is younger than the period (then it is the one in force). */
  private async adoptFresh(): Promise<boolean> {
    const stamp = parseStamp(await this.deps.metadata.get(CoOccurrenceKeys.tableVersion));
    if (stamp === null || this.now() - stamp.computedAt >= this.options.periodMs) return false;
    if (stamp.version === this.loadedVersion) return true;
    const text = await this.deps.metadata.get(CoOccurrenceKeys.table);
    if (text === null || versionOf(text) !== stamp.version) return false;
    this.use(parseCoOccurrence(text, CoOccurrenceKeys.table));
    this.deps.logger.info({ version: stamp.version, images: this.snapshot?.table.total ?? 0 }, 'co-occurrence table loaded');
    return true;
  }

  private use(table: VersionedTable): void {
    this.loadedVersion = table.version;
    // A table of no images says nothing: layer (and key images) as without one.
    this.snapshot = table.table.total > 0 ? table : null;
  }
}

function parseStamp(text: string | null): { version: string; computedAt: number } | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { version?: unknown; computedAt?: unknown };
    return typeof value.version === 'string' && typeof value.computedAt === 'number' ? { version: value.version, computedAt: value.computedAt } : null;
  } catch {
    return null;
  }
}
