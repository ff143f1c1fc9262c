import type { Worker } from 'node:worker_threads';

export interface JobPoolOptions {
  /** Most worker threads; they are started on demand and kept (unreferenced) while idle. */
  readonly size: number;
  readonly spawn: () => Worker;
  /**
   * Most jobs admitted at once, running or waiting for a thread (default twice `size`). A job
   * holds its input until it is answered, so this bounds the memory of every user together.
   */
  readonly maxAdmitted?: number;
}

/** Counters of a pool, for tests and metrics. */
export interface JobPoolStats {
  readonly workers: number;
  readonly busy: number;
  /** Most threads busy at once so far. */
  readonly peakBusy: number;
  readonly admitted: number;
  readonly peakAdmitted: number;
  /** Submitters waiting for admission now. */
  readonly waiting: number;
}

interface Job<Request, Response> {
  readonly request: Request;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (response: Response) => void;
  readonly reject: (error: Error) => void;
}

/** An admitted job: its answer, once a thread has run it. */
export interface Ticket<Response> {
  readonly result: Promise<Response>;
}

/**
 * A bounded pool of worker threads, each running one job (one message in, one answer out) at a
 * time. Submitting waits until fewer than `maxAdmitted` jobs are in the pool: that wait is the
 * back-pressure every user of the pool shares, however many streams submit. A thread that fails
 * or exits rejects its job and is replaced for the next one.
 */
export class JobPool<Request, Response> {
  private readonly idle: Worker[] = [];
  private readonly queue: Job<Request, Response>[] = [];
  private readonly admissions: Array<() => void> = [];
  private readonly maxAdmitted: number;
  private workers = 0;
  private busy = 0;
  private peakBusy = 0;
  private admitted = 0;
  private peakAdmitted = 0;

  constructor(private readonly options: JobPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`pool size must be a positive integer, got ${options.size}`);
    this.maxAdmitted = Math.max(options.size, options.maxAdmitted ?? 2 * options.size);
  }

  get size(): number {
    return this.options.size;
  }

  get stats(): JobPoolStats {
    const { workers, busy, peakBusy, admitted, peakAdmitted } = this;
    return { workers, busy, peakBusy, admitted, peakAdmitted, waiting: this.admissions.length };
  }

  /**
   * Wait for room in the pool, then queue `request` (moving `transfer` to the thread).
   * Resolves once admitted, with a ticket whose result settles when a thread has answered.
   */
  async submit(request: Request, transfer: ArrayBuffer[] = []): Promise<Ticket<Response>> {
    while (this.admitted >= this.maxAdmitted) await new Promise<void>((resolve) => this.admissions.push(resolve));
    this.admitted += 1;
    this.peakAdmitted = Math.max(this.peakAdmitted, this.admitted);
    const result = new Promise<Response>((resolve, reject) => {
      this.queue.push({ request, transfer, resolve, reject });
    });
    this.dispatch();
    return { result };
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers < this.options.size ? this.create() : undefined);
      if (!worker) return;
      this.run(worker, this.queue.shift() as Job<Request, Response>);
    }
  }

  private run(worker: Worker, job: Job<Request, Response>): void {
    this.busy += 1;
    this.peakBusy = Math.max(this.peakBusy, this.busy);
    worker.ref();
    const settle = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      this.busy -= 1;
      this.admitted -= 1;
      this.admissions.shift()?.();
    };
    const onMessage = (response: Response): void => {
      settle();
      worker.unref();
      this.idle.push(worker);
      job.resolve(response);
      this.dispatch();
    };
    const onFailure = (error: Error): void => {
      settle();
      this.workers -= 1;
      void worker.terminate();
      job.reject(error);
      this.dispatch();
    };
    const onError = (error: Error): void => onFailure(error);
    const onExit = (code: number): void => onFailure(new Error(`worker thread exited with code ${code}`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job.request, job.transfer);
  }

  private create(): Worker {
    const worker = this.options.spawn();
    this.workers += 1;
    // An idle thread that dies just leaves the pool; a busy one is handled by run().
    const forget = (): void => {
      const index = this.idle.indexOf(worker);
      if (index < 0) return;
      this.idle.splice(index, 1);
      this.workers -= 1;
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    worker.unref();
    return worker;
  }
}
