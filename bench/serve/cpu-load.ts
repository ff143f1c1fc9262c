import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * Another process loading every CPU: one busy-looping child per core, at normal priority (as a
 * build or a neighbour on a shared host would), until stopped.
 */
export function loadCpus(): { stop(): Promise<void> } {
  const children: ChildProcess[] = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return undefined;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          return exited;
        }),
      );
    },
  };
}
