import { spawn } from 'node:child_process';

/** Output of a finished child process. */
export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `command` with `args` and collect its output; stdout and stderr are drained
 * concurrently so a chatty child can never block on a full pipe.
 * @throws Error naming the command and the tail of stderr when it exits non-zero.
 */
export function run(command: string, args: readonly string[], signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? sig}): ${stderr.slice(-2000)}`));
    });
  });
}
