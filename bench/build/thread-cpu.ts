import { readdir, readFile } from 'node:fs/promises';

/** CPU seconds of each thread of this process, by thread id (Linux /proc; empty elsewhere). */
export type ThreadTimes = ReadonlyMap<number, { readonly seconds: number }>;

/** Clock ticks per second of /proc's utime and stime: USER_HZ, 100 on every Linux port. */
const TICKS_PER_SECOND = 100;

export async function threadTimes(): Promise<ThreadTimes> {
  const times = new Map<number, { seconds: number }>();
  const tids = await readdir('/proc/self/task').catch(() => [] as string[]);
  for (const tid of tids) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
    // "tid (comm) state ppid ..."; comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the state field.
    const ticks = Number(fields[11]) + Number(fields[12]);
    times.set(Number(tid), { seconds: ticks / TICKS_PER_SECOND });
  }
  return times;
}

/** CPU seconds each thread spent between two readings (threads started since count whole). */
export interface ThreadCpu {
  /** The main (event loop) thread's CPU seconds. */
  readonly main: number;
  /**
   * Every other thread's CPU seconds, busiest first (worker threads, libuv's pool, V8's
   * helpers: Node names them all "node", so they are told apart by what they spent).
   */
  readonly others: readonly number[];
}

export function threadCpuBetween(before: ThreadTimes, after: ThreadTimes): ThreadCpu {
  let main = 0;
  const others: number[] = [];
  for (const [tid, now] of after) {
    const spent = Math.round((now.seconds - (before.get(tid)?.seconds ?? 0)) * 100) / 100;
    if (tid === process.pid) main = spent;
    else if (spent > 0) others.push(spent);
  }
  return { main, others: others.sort((a, b) => b - a) };
}
