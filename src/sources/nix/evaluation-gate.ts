import { AdmissionQueue } from '../../cache/admission-queue.js';
import { SourceBusyError } from '../errors.js';

/**
 * Bounds the package-set evaluations the web UI's search and sizes start (a nixpkgs listing
 * takes minutes and gigabytes): at most `concurrency` run, `maxWaiting` more wait, and the rest
 * are refused at once with SourceBusyError (429). Builds have their own queue; these do not go
 * through it, and with a git package set each tag (any commit) is a listing of its own.
 */
export class EvaluationGate {
  private readonly queue: AdmissionQueue;

  constructor(concurrency: number, maxWaiting: number) {
    this.queue = new AdmissionQueue(concurrency, maxWaiting);
  }

  /** @throws SourceBusyError when every slot and waiting place is taken; the signal's reason when it aborts while waiting. */
  run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.queue.run(work, () => new SourceBusyError('package-set evaluations', 30), signal);
  }
}
