import type { MetadataStore } from './types.js';

/**
 * A change to the key space that runs once per store: the first `ensure` runs it unless its
 * marker is written, then writes the marker, so later starts (and other replicas) skip it. The
 * migration itself must be idempotent and safe beside ordinary writes: two replicas may run it
 * at once, and a failed run (store unavailable) is run again by the next call.
 */
export class OneTimeMigration {
  private running: Promise<number> | null = null;
  private done = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly markerKey: string,
    private readonly migrate: (signal?: AbortSignal) => Promise<number>,
  ) {}

  /** Resolves once the migration has run, with how many items this call changed (0 when done before). Concurrent calls share one run. */
  ensure(signal?: AbortSignal): Promise<number> {
    if (this.done) return Promise.resolve(0);
    this.running ??= this.run(signal).then(
      (changed) => {
        this.done = true;
        return changed;
      },
      (error: unknown) => {
        this.running = null;
        throw error;
      },
    );
    return this.running;
  }

  private async run(signal?: AbortSignal): Promise<number> {
    if ((await this.metadata.get(this.markerKey)) !== null) return 0;
    const changed = await this.migrate(signal);
    await this.metadata.set(this.markerKey, new Date().toISOString());
    return changed;
  }
}
