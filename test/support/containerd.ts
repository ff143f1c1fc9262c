import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type CommandResult } from './commands.js';

export interface Containerd {
  /** Run `ctr` against this daemon. */
  ctr(args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  stop(): Promise<void>;
}

/**
 * A private containerd (as on a Kubernetes node, without the CRI plugin) with its own root,
 * state and socket under a temp directory.
 */
export async function startContainerd(): Promise<Containerd> {
  const dir = await mkdtemp(join(tmpdir(), 'ctrd-'));
  const socket = join(dir, 'c.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '',
    ].join('\n'),
  );
  const daemon = await spawnContainerd(config, socket, 20_000);
  return {
    ctr: (args, timeoutMs = 120_000) => run('ctr', ['-a', socket, ...args], { timeoutMs }),
    stop: () => stopContainerd(daemon, dir),
  };
}

/** Start containerd with `config` and wait until its socket exists (or fail with its log). */
export async function spawnContainerd(config: string, socket: string, startTimeoutMs: number): Promise<ChildProcess> {
  const daemon: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const deadline = Date.now() + startTimeoutMs;
  while (!(await stat(socket).then(() => true, () => false))) {
    if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`containerd did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return daemon;
}

/** Stop a daemon spawnContainerd started and remove its directory. */
export async function stopContainerd(daemon: ChildProcess, dir: string): Promise<void> {
  daemon.kill('SIGTERM');
  await new Promise((resolve) => daemon.once('exit', resolve));
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
