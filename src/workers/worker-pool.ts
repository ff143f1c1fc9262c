import type { Worker } from 'node:worker_threads';

export interface WorkerPoolOptions {
  /** Start a new worker. */
  readonly spawn: () => Worker;
  /** Finished workers kept for reuse; more are retired. */
  readonly maxIdle: number;
  /** How a worker beyond `maxIdle` is ended (default: terminate at once). */
  readonly retire?: (worker: Worker) => void;
}

/**
 * Reuses worker threads between jobs, so a layer or NAR stream does not pay a thread start each
 * time. A worker is referenced while in use, so a process waiting only on it does not exit, and
 * unreferenced while idle, so idle workers never keep the process alive. An idle worker that
 * fails or exits just leaves the pool; while in use, its user reports the failure.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];

  constructor(private readonly options: WorkerPoolOptions) {}

  acquire(): Worker {
    const worker = this.idle.pop() ?? this.create();
    worker.ref();
    return worker;
  }

  /** Hand back a worker whose job is over (its listeners detached). */
  release(worker: Worker): void {
    worker.unref();
    if (this.idle.length < this.options.maxIdle) this.idle.push(worker);
    else if (this.options.retire) this.options.retire(worker);
    else void worker.terminate();
  }

  private create(): Worker {
    const worker = this.options.spawn();
    const forget = (): void => {
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    worker.unref();
    return worker;
  }
}
