import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EXAMPLE_PACKAGE_SET, REPO_ROOT } from './registry-server.js';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every log line (pino JSON) the server printed so far. */
  readonly logs: string[];
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
}

/** A free loopback port (bound and released, so a child process can take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Run `stowage serve` from source as its own process, and wait until it serves. */
export async function startServerProcess(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, STOWAGE_SOURCE: 'nix', STOWAGE_PACKAGE_SET: EXAMPLE_PACKAGE_SET, STOWAGE_HOST: '127.0.0.1', STOWAGE_PORT: String(port), STOWAGE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      logs.push(...lines);
      if (lines.some((line) => line.includes('stowage is serving'))) resolve();
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    exited.then((code) => reject(new Error(`stowage serve exited (${code}) before serving:\n${stderr}\n${logs.join('\n')}`)));
  });
  return { child, port, logs, exited };
}
