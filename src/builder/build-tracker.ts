import { BoundedLog, type BuildLogCounts, type BuildLogKind, type BuildLogLine } from './build-log.js';

/**
 * What every recent build is doing, so a user watching a slow first build sees it move and a
 * client told "retry later" learns why. Pure bookkeeping in memory: status of finished builds
 * is kept for the most recent `retain` builds.
 */
export type BuildPhase = 'queued' | 'resolving' | 'layers' | 'manifest' | 'done' | 'failed';

export interface BuildStatus {
  readonly image: string;
  readonly revision: string;
  readonly system: string;
  readonly phase: BuildPhase;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  /** Time since the build started when this status was recorded (the page counts on from it). */
  readonly elapsedMs?: number;
  /** Layers finished (built or found in the cache) of `layersTotal`. */
  readonly layersDone: number;
  readonly layersTotal: number;
  /** Store paths in the closure, once resolved. */
  readonly closurePaths?: number;
  /** Compressed layer bytes this build has written to the blob store so far (cached layers add nothing). */
  readonly bytesWritten?: number;
  readonly error?: string;
  /** The tail of Nix's log when the packages failed to evaluate or build. */
  readonly log?: string;
}

export type BuildListener = (status: BuildStatus) => void;
export type BuildLogListener = (line: BuildLogLine, counts: BuildLogCounts) => void;

export interface BuildTrackerOptions {
  /** Milliseconds since the epoch; injected by tests. */
  readonly clock?: () => number;
  /** Log lines kept per build (the last ones). */
  readonly logLines?: number;
}

export class BuildTracker {
  private readonly statuses = new Map<string, BuildStatus>();
  private readonly logs = new Map<string, BoundedLog>();
  private readonly listeners = new Set<BuildListener>();
  private readonly logListeners = new Set<BuildLogListener>();
  private readonly clock: () => number;
  private readonly logLines: number;

  constructor(
    private readonly retain = 200,
    options: BuildTrackerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.logLines = options.logLines ?? 200;
  }

  /** Record a change to the build of `image` at `revision` for `system`. */
  update(image: string, revision: string, system: string, patch: Partial<Omit<BuildStatus, 'image' | 'revision' | 'system'>>): BuildStatus {
    const key = statusKey(image, revision, system);
    const previous = this.statuses.get(key);
    const fresh = previous === undefined || previous.phase === 'done' || previous.phase === 'failed' ? patch.phase === 'queued' : false;
    const now = this.clock();
    const base: BuildStatus =
      previous && !fresh
        ? previous
        : { image, revision, system, phase: 'queued', startedAt: new Date(now).toISOString(), layersDone: 0, layersTotal: 0 };
    if (base !== previous) this.logs.delete(key);
    const finished = (patch.phase === 'done' || patch.phase === 'failed') && base.finishedAt === undefined;
    const elapsedMs = now - Date.parse(base.startedAt);
    const next: BuildStatus = {
      ...base,
      ...(base.finishedAt === undefined ? { elapsedMs } : {}),
      ...(finished ? { finishedAt: new Date(now).toISOString(), durationMs: elapsedMs } : {}),
      ...patch,
    };
    this.statuses.delete(key);
    this.statuses.set(key, next);
    while (this.statuses.size > this.retain) {
      const oldest = this.statuses.keys().next().value as string;
      this.statuses.delete(oldest);
      this.logs.delete(oldest);
    }
    for (const listener of this.listeners) listener(next);
    return next;
  }

  /**
   * Add a line to the log of the build of `image` at `revision` for `system`; ignored when no
   * such build is tracked. Only the last `logLines` lines are kept.
   */
  log(image: string, revision: string, system: string, kind: BuildLogKind, text: string): BuildLogLine | undefined {
    const key = statusKey(image, revision, system);
    const status = this.statuses.get(key);
    if (status === undefined) return undefined;
    let log = this.logs.get(key);
    if (!log) {
      log = new BoundedLog(this.logLines);
      this.logs.set(key, log);
    }
    const line = log.append({ image, revision, system, kind, text, elapsedMs: this.clock() - Date.parse(status.startedAt) });
    const counts = log.counts;
    for (const listener of this.logListeners) listener(line, counts);
    return line;
  }

  /** The kept log lines of every system's build of `image` at `revision`, oldest first, with each system's counts. */
  logOf(image: string, revision: string): { lines: BuildLogLine[]; counts: Record<string, BuildLogCounts>; dropped: number } {
    const lines: BuildLogLine[] = [];
    const counts: Record<string, BuildLogCounts> = {};
    let dropped = 0;
    for (const status of this.get(image, revision)) {
      const log = this.logs.get(statusKey(image, revision, status.system));
      if (!log) continue;
      lines.push(...log.lines());
      counts[status.system] = log.counts;
      dropped += log.dropped;
    }
    lines.sort((a, b) => a.elapsedMs - b.elapsedMs);
    return { lines, counts, dropped };
  }

  /** Be told of every log line; returns the function that stops it. */
  subscribeLog(listener: BuildLogListener): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  /** Drop the build's status and log, as if it had never been tracked. */
  forget(image: string, revision: string, system: string): void {
    const key = statusKey(image, revision, system);
    this.statuses.delete(key);
    this.logs.delete(key);
  }

  /** Latest status of every system's build of `image` at `revision`, or an empty list. */
  get(image: string, revision: string): BuildStatus[] {
    return [...this.statuses.values()].filter((status) => status.image === image && status.revision === revision);
  }

  /** Every retained status, newest last. */
  all(): BuildStatus[] {
    return [...this.statuses.values()];
  }

  /** Builds neither done nor failed. */
  inFlight(): BuildStatus[] {
    return this.all().filter((status) => status.phase !== 'done' && status.phase !== 'failed');
  }

  /** Be told of every change; returns the function that stops it. */
  subscribe(listener: BuildListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function statusKey(image: string, revision: string, system: string): string {
  return `${image}\u0000${revision}\u0000${system}`;
}
