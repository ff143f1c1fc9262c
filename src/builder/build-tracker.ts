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

export class BuildTracker {
  private readonly statuses = new Map<string, BuildStatus>();
  private readonly listeners = new Set<BuildListener>();

  constructor(private readonly retain = 200) {}

  /** Record a change to the build of `image` at `revision` for `system`. */
  update(image: string, revision: string, system: string, patch: Partial<Omit<BuildStatus, 'image' | 'revision' | 'system'>>): BuildStatus {
    const key = statusKey(image, revision, system);
    const previous = this.statuses.get(key);
    const fresh = previous === undefined || previous.phase === 'done' || previous.phase === 'failed' ? patch.phase === 'queued' : false;
    const base: BuildStatus =
      previous && !fresh
        ? previous
        : { image, revision, system, phase: 'queued', startedAt: new Date().toISOString(), layersDone: 0, layersTotal: 0 };
    const finished = (patch.phase === 'done' || patch.phase === 'failed') && base.finishedAt === undefined;
    const now = new Date();
    const next: BuildStatus = {
      ...base,
      ...(finished ? { finishedAt: now.toISOString(), durationMs: now.getTime() - Date.parse(base.startedAt) } : {}),
      ...patch,
    };
    this.statuses.delete(key);
    this.statuses.set(key, next);
    while (this.statuses.size > this.retain) this.statuses.delete(this.statuses.keys().next().value as string);
    for (const listener of this.listeners) listener(next);
    return next;
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
