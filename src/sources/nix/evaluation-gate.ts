import { SourceBusyError } from '../errors.js';

/**
 * Bounds the package-set evaluations the web UI's search and sizes start (a nixpkgs listing
 * takes minutes and gigabytes): at most `concurrency` run, `maxWaiting` more wait, and the rest
 * are refused at once with SourceBusyError (429). Builds have their own queue; these do not go
 * through it, and with a git package set each tag (any commit) is a listing of its own.
 */
export class EvaluationGate {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; abandon: () => void }> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  /** @throws SourceBusyError when every slot and waiting place is taken; the signal's reason when it aborts while waiting. */
  async run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    signal.throwIfAborted();
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new SourceBusyError('package-set evaluations', 30);
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal.removeEventListener('abort', entry.abandon);
            resolve();
          },
          abandon: () => {
            this.waiting.splice(this.waiting.indexOf(entry), 1);
            reject(signal.reason);
          },
        };
        signal.addEventListener('abort', entry.abandon, { once: true });
        this.waiting.push(entry);
      });
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never dips below the limit.
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running -= 1;
    }
  }
}
