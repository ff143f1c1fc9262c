import { readdir, readFile } from 'node:fs/promises';

/**
 * Per thread of this process, from Linux's /proc/self/task/<tid>/schedstat: nanoseconds on a
 * CPU and nanoseconds runnable but waiting for one (the run queue). Empty elsewhere.
 */
export type ThreadTimes = ReadonlyMap<number, { readonly cpuNs: number; readonly queuedNs: number }>;

export async function threadTimes(): Promise<ThreadTimes> {
  const times = new Map<number, { cpuNs: number; queuedNs: number }>();
  const tids = await readdir('/proc/self/task').catch(() => [] as string[]);
  for (const tid of tids) {
    const text = await readFile(`/proc/self/task/${tid}/schedstat`, 'utf8').catch(() => '');
    const [cpu, queued] = text.trim().split(' ').map(Number);
    if (cpu === undefined || queued === undefined || Number.isNaN(cpu) || Number.isNaN(queued)) continue;
    times.set(Number(tid), { cpuNs: cpu, queuedNs: queued });
  }
  return times;
}

/** One thread over a build, in seconds. */
export interface ThreadUse {
  /** On a CPU. */
  readonly cpu: number;
  /** Runnable but waiting for a CPU: what other processes (and this one's threads) cost it. */
  readonly queued: number;
  /**
   * The rest of the wall time: blocked, waiting for work or I/O. For a compressor thread this is
   * starvation by the pipeline, which a quieter machine would not remove.
   */
  readonly idle: number;
}

export interface ThreadCpu {
  /** The main (event loop) thread. */
  readonly main: ThreadUse;
  /**
   * Every other thread that ran, busiest first (worker threads, libuv's pool, V8's helpers:
   * Node names them all "node", so they are told apart by what they spent).
   */
  readonly others: readonly ThreadUse[];
}

/** What each thread did between two readings `wallSeconds` apart (threads started since count whole). */
export function threadCpuBetween(before: ThreadTimes, after: ThreadTimes, wallSeconds: number): ThreadCpu {
  const round = (value: number): number => Math.round(value * 100) / 100;
  let main: ThreadUse = { cpu: 0, queued: 0, idle: 0 };
  const others: ThreadUse[] = [];
  for (const [tid, now] of after) {
    const earlier = before.get(tid);
    const cpu = (now.cpuNs - (earlier?.cpuNs ?? 0)) / 1e9;
    const queued = (now.queuedNs - (earlier?.queuedNs ?? 0)) / 1e9;
    const use = { cpu: round(cpu), queued: round(queued), idle: round(Math.max(0, wallSeconds - cpu - queued)) };
    if (tid === process.pid) main = use;
    else if (cpu >= 0.01) others.push(use);
  }
  return { main, others: others.sort((a, b) => b.cpu - a.cpu) };
}
