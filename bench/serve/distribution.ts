import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../test/support/redis-server.js';

export interface Server {
  readonly url: string;
  /** The serving process (its descendants count too, see cpu-time.ts). */
  readonly pid?: number;
  stop(): Promise<void>;
}

/**
 * Debian's `docker-registry` (distribution 2.8) on loopback, storing in `root`; with
 * `htpasswd`, every request needs Basic credentials (bcrypt checked per request). Its
 * blob-descriptor cache is in memory, as in its sample configuration.
 */
export async function startDistribution(root: string, dir: string, htpasswd?: string): Promise<Server> {
  const port = await freePort();
  const config = join(dir, `config-${port}.yml`);
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: bench\n    path: ${htpasswd}\n` : '';
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n  cache:\n    blobdescriptor: inmemory\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(url, () => child.exitCode !== null);
  return { url, ...(child.pid ? { pid: child.pid } : {}), stop: () => stopChild(child) };
}

/** Wait until `url`/v2/ answers (401 counts: the server is up). */
export async function waitUntil(url: string, exited: () => boolean, path = '/v2/'): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(`${url}${path}`).then((r) => r.status, () => 0);
    if (status === 200 || status === 401) return;
    if (exited() || Date.now() > deadline) throw new Error(`${url} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
