import { BuildFailedError, PackageNotFoundError } from '../sources/errors.js';
import { BuildQueueFullError } from './errors.js';
import type { SourceProgress } from '../sources/types.js';
import type { BuildLogKind } from './build-log.js';
import type { BuildTracker } from './build-tracker.js';

/** Hooks for metrics; each is called synchronously and must not throw. */
export interface BuildObserver {
  /** A layer an image needs was found in the cache (`built` false) or written. */
  layer?(event: { readonly built: boolean; readonly size: number }): void;
  /** A requested image (one system) was found in the cache (`built` false) or built. */
  image?(event: { readonly built: boolean }): void;
}

export type ProgressPatch = Parameters<BuildTracker['update']>[3];

/**
 * Reports one system's build of one image to the tracker, so a user watching a slow first build
 * sees it move and a client told "retry later" learns why.
 */
export class SystemProgress {
  constructor(
    private readonly tracker: BuildTracker,
    private readonly image: string,
    private readonly revision: string,
    private readonly system: string,
  ) {}

  report(patch: ProgressPatch): void {
    this.tracker.update(this.image, this.revision, this.system, patch);
  }

  /** Add a line to this build's live log. */
  log(kind: BuildLogKind, text: string): void {
    this.tracker.log(this.image, this.revision, this.system, kind, text);
  }

  /** What the package source reports (ResolveOptions.onProgress), into this build's log. */
  readonly fromSource = (event: SourceProgress): void => {
    this.log(event.kind, event.text);
  };

  /**
   * Report the build queued, start it, then report it done or failed (with the error and the
   * tail of Nix's log, which tells the user why their packages did not build).
   */
  around<T>(start: () => Promise<T>): Promise<T> {
    this.report({ phase: 'queued' });
    return start().then(
      (result) => {
        this.report({ phase: 'done' });
        return result;
      },
      (error: unknown) => {
        // Refused by the queue, or packages that do not exist: nothing was built, and keeping
        // them would let anyone push the builds that did run out of the recent ones (of 200).
        if (error instanceof BuildQueueFullError || error instanceof PackageNotFoundError) {
          this.tracker.forget(this.image, this.revision, this.system);
          throw error;
        }
        this.report({
          phase: 'failed',
          error: error instanceof Error ? error.message : String(error),
          ...(error instanceof BuildFailedError && error.logTail !== '' ? { log: error.logTail } : {}),
        });
        throw error;
      },
    );
  }

  /**
   * Report the bytes `counter` has written every half second, so a big layer shows progress
   * before it is done; returns the function that stops it.
   */
  reportBytesWritten(counter: { readonly bytesWritten: number }): () => void {
    const timer = setInterval(() => this.report({ bytesWritten: counter.bytesWritten }), 500);
    return () => clearInterval(timer);
  }
}

/** 1536 → "1.5 KiB", for log lines. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] as string}`;
}

/** One line of every system's progress on `image` at `revision`, for BuildInProgressError. */
export function describeProgress(tracker: BuildTracker, image: string, revision: string): string {
  const statuses = tracker.get(image, revision);
  if (statuses.length === 0) return 'starting';
  const { lines } = tracker.logOf(image, revision);
  return statuses
    .map((status) => {
      const layers = status.phase === 'layers' ? ` ${status.layersDone} of ${status.layersTotal} layers` : '';
      // While Nix works, its latest line says what the wait is for ("building hello-2.12.1").
      const latest = status.phase === 'resolving' ? lines.filter((line) => line.system === status.system).at(-1) : undefined;
      return `${status.system}: ${status.phase}${layers}${latest ? ` (${latest.text})` : ''}`;
    })
    .join(', ');
}
