import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { JobPool } from '../../../src/workers/job-pool.js';

/** Answers { id } after `wait` ms; exits with code 3 on `crash`. */
const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (job) => {
  if (job.crash) process.exit(3);
  setTimeout(() => parentPort.postMessage({ id: job.id }), job.wait);
});`;

interface Job {
  readonly id: number;
  readonly wait: number;
  readonly crash?: boolean;
}

function echoPool(size: number, maxAdmitted?: number): { pool: JobPool<Job, { id: number }>; spawned: () => number } {
  let spawned = 0;
  const pool = new JobPool<Job, { id: number }>({
    size,
    ...(maxAdmitted === undefined ? {} : { maxAdmitted }),
    spawn: () => {
      spawned += 1;
      return new Worker(ECHO, { eval: true });
    },
  });
  return { pool, spawned: () => spawned };
}

describe('JobPool', () => {
  it('runs at most `size` jobs at once on at most `size` threads', async () => {
    const { pool, spawned } = echoPool(2, 8);
    const tickets = await Promise.all(Array.from({ length: 6 }, (_unused, id) => pool.submit({ id, wait: 20 })));
    const answers = await Promise.all(tickets.map((ticket) => ticket.result));
    expect(answers.map((answer) => answer.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pool.stats.peakBusy).toBe(2);
    expect(spawned()).toBe(2);
    expect(pool.stats).toMatchObject({ busy: 0, admitted: 0, waiting: 0 });
  });

  it('admits no more than maxAdmitted jobs until one is answered', async () => {
    const { pool } = echoPool(1, 2);
    const events: string[] = [];
    const submit = async (id: number): Promise<void> => {
      const ticket = await pool.submit({ id, wait: 30 });
      events.push(`admitted ${id}`);
      await ticket.result;
      events.push(`done ${id}`);
    };
    await Promise.all([submit(0), submit(1), submit(2)]);
    expect(events.indexOf('admitted 2')).toBeGreaterThan(events.indexOf('done 0'));
    expect(pool.stats.peakAdmitted).toBe(2);
  });

  it('rejects the job of a thread that dies and runs the next one on a new thread', async () => {
    const { pool, spawned } = echoPool(1);
    const crashed = await pool.submit({ id: 1, wait: 0, crash: true });
    await expect(crashed.result).rejects.toThrow('exited with code 3');
    const next = await pool.submit({ id: 2, wait: 0 });
    expect((await next.result).id).toBe(2);
    expect(spawned()).toBe(2);
    expect(pool.stats.workers).toBe(1);
  });

  it('refuses a size below 1', () => {
    expect(() => echoPool(0)).toThrow(RangeError);
  });
});
