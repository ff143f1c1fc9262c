import type { Worker } from 'node:worker_threads';
import { WorkerPool } from '../workers/worker-pool.js';
import { startModuleWorker } from '../workers/module-worker.js';
import type { BcryptRequest, BcryptResult } from '../workers/bcrypt-verifier-protocol.js';

/** Compares a password with a bcrypt hash; true when they match. */
export type PasswordCompare = (password: string, hash: string) => Promise<boolean>;

/** Too many password checks are waiting: the caller answers "try later" instead of queueing more. */
export class LoginQueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`${waiting} password checks are already waiting`);
    this.name = 'LoginQueueFullError';
  }
}

export interface BcryptWorkersOptions {
  /** Worker threads comparing at once (default 2). */
  readonly threads?: number;
  /** Checks allowed to wait for a thread; more fail with LoginQueueFullError (default 256). */
  readonly maxWaiting?: number;
}

/**
 * bcrypt on worker threads: at most `threads` comparisons run at once, each on its own thread,
 * and at most `maxWaiting` wait, so a flood of logins neither blocks the event loop nor grows
 * memory without bound.
 */
export class BcryptWorkers {
  private readonly pool: WorkerPool;
  private readonly threads: number;
  private readonly maxWaiting: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private nextId = 1;

  constructor(options: BcryptWorkersOptions = {}) {
    this.threads = Math.max(1, options.threads ?? 2);
    this.maxWaiting = options.maxWaiting ?? 256;
    this.pool = new WorkerPool({ spawn: () => startModuleWorker('bcrypt-verifier'), maxIdle: this.threads });
  }

  /** @throws LoginQueueFullError when `maxWaiting` checks already wait. */
  readonly compare: PasswordCompare = async (password, hash) => {
    await this.takeThread();
    const worker = this.pool.acquire();
    try {
      return await this.run(worker, { id: this.nextId++, password, hash });
    } finally {
      this.giveThread();
    }
  };

  private async takeThread(): Promise<void> {
    if (this.running < this.threads) {
      this.running += 1;
      return;
    }
    if (this.waiting.length >= this.maxWaiting) throw new LoginQueueFullError(this.waiting.length);
    // The finishing check hands its thread over: `running` stays as it is.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private giveThread(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }

  private run(worker: Worker, request: BcryptRequest): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const onMessage = (result: BcryptResult): void => {
        if (result.id !== request.id) return;
        detach();
        this.pool.release(worker);
        resolve(result.ok);
      };
      const onFailure = (error: unknown): void => {
        detach();
        reject(error instanceof Error ? error : new Error(`the bcrypt worker exited (${String(error)})`));
      };
      const detach = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onFailure);
        worker.off('exit', onFailure);
      };
      worker.on('message', onMessage);
      worker.on('error', onFailure);
      worker.on('exit', onFailure);
      worker.postMessage(request);
    });
  }
}
