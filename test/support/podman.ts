import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type CommandResult } from './commands.js';

export interface Podman {
  podman(args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
  /** `podman run --rm` with the flags this sandbox needs (runc, no network, low ulimits). */
  runImage(image: string, command: readonly string[]): Promise<CommandResult>;
  cleanup(): Promise<void>;
}

/** Podman as root with storage of its own (vfs) under a temp directory. */
export async function createPodman(): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), 'podman-'));
  const base = [
    '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', join(dir, 'tmp'),
  ];
  const podman = (args: readonly string[], timeoutMs = 180_000) => run('podman', [...base, ...args], { timeoutMs });
  return {
    podman,
    runImage: (image, command) =>
      podman(['run', '--rm', '--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, ...command]),
    async cleanup() {
      await podman(['rmi', '--all', '--force']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
