import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU seconds (user + system) used so far by process `pid` and its descendants (cluster
 * workers, nginx workers), from /proc. Rates on a shared machine follow the load; CPU per byte
 * served depends far less on it, so the blob rows report both.
 */
export function cpuSeconds(pid: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  let total = 0;
  for (const each of processTree(pid)) {
    try {
      // Fields after the command name, which is in parentheses and may contain spaces.
      const fields = (readFileSync(`/proc/${each}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      // the process ended between listing and reading
    }
  }
  return total;
}

function processTree(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i += 1) {
    const parent = found[i] as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').trim();
        if (children !== '') found.push(...children.split(' ').map(Number));
      } catch {
        // the task ended
      }
    }
  }
  return found;
}
