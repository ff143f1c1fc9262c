import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type CommandResult } from './commands.js';

export interface DockerEngine {
  /** Run the docker CLI against this engine, with a client config directory of its own. */
  docker(args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  stop(): Promise<void>;
}

/**
 * A private dockerd (Debian's docker.io) with its own data root, exec root, pid file, socket
 * and an empty daemon.json, so it neither reads nor disturbs the machine's Docker setup.
 * No iptables and no bridge: it pulls, and runs containers with `--network none`.
 */
export async function startDockerEngine(): Promise<DockerEngine> {
  // Short paths: the exec root holds unix sockets, whose paths are limited to 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'dk-'));
  const socket = join(dir, 'sock');
  const config = join(dir, 'daemon.json');
  await writeFile(config, '{}\n');
  const daemon: ChildProcess = spawn(
    'dockerd',
    ['--config-file', config, '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'pid'), '--host', `unix://${socket}`, '--iptables=false', '--bridge=none'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const clientConfig = join(dir, 'client');
  const docker = (args: readonly string[], timeoutMs = 180_000) => run('docker', ['--config', clientConfig, '-H', `unix://${socket}`, ...args], { timeoutMs });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`dockerd did not start:\n${log}`);
    if (await stat(socket).then(() => true, () => false)) {
      if (await docker(['version'], 10_000).then(() => true, () => false)) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    docker,
    async stop() {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
