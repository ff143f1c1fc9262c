import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface RunningRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly pid: number | undefined;
  /** Stop the server abruptly (SIGKILL), as a crash or a network cut would look. */
  kill(): Promise<void>;
  /** Start it again on the same port (after `kill`), empty. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, found by binding port 0 and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start redis-server (Debian's, from scripts/setup.sh) on a free loopback port, in memory only
 * (no RDB, no AOF), as a child of the test process so it is stopped by its pid.
 */
export async function startRedisServer(): Promise<RunningRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    try {
      let child = await spawnRedis(port);
      const handle: RunningRedis = {
        port,
        url: `redis://127.0.0.1:${port}`,
        get pid() {
          return child.pid;
        },
        kill: () => stopChild(child, 'SIGKILL'),
        async restart() {
          child = await spawnRedis(port);
        },
        close: () => stopChild(child, 'SIGTERM'),
      };
      return handle;
    } catch (error) {
      lastError = error; // the port was taken in between: try another
    }
  }
  throw lastError;
}

/** Start redis-server before the file's tests and stop it after. */
export function useRedisServer(): () => RunningRedis {
  let running: RunningRedis | undefined;
  beforeAll(async () => {
    running = await startRedisServer();
  });
  afterAll(async () => {
    await running?.close();
  });
  return () => {
    if (!running) throw new Error('redis-server is not running (use it inside tests)');
    return running;
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited: ${output}`);
    if (await answersPing(port)) return child;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${port}: ${output}`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
