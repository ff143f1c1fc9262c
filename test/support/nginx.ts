import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './registry-server.js';
import { freePort } from './server-process.js';

export interface RunningNginx {
  readonly url: string;
  readonly host: string;
  /** The master process; its workers are its children. */
  readonly pid: number | undefined;
  /** The access log's lines so far: `uri status body_bytes_sent upstream_response_length accel`. */
  accessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * The shipped deploy/nginx/stowage.conf, run for real by nginx as a child process (not a
 * daemon) on a free loopback port, with its own prefix, pid and temp directories. The three
 * values the file marks CHANGE are replaced (and each must be found); the access log records
 * how many bytes came from stowage for each request.
 */
export async function startNginx(upstream: string, blobsDir: string, options: { workers?: number; accessLog?: boolean } = {}): Promise<RunningNginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'stowage-nginx-'));
  const port = await freePort();
  let site = await readFile(join(REPO_ROOT, 'deploy/nginx/stowage.conf'), 'utf8');
  for (const [from, to] of [
    ['server 127.0.0.1:5000;', `server ${upstream};`],
    ['listen 80;', `listen 127.0.0.1:${port};`],
    ['alias /var/lib/stowage/storage/blobs/;', `alias ${blobsDir.replace(/\/?$/, '/')};`],
  ] as const) {
    if (!site.includes(from)) throw new Error(`deploy/nginx/stowage.conf no longer contains "${from}"`);
    site = site.replace(from, to);
  }
  await writeFile(join(prefix, 'stowage.conf'), site);
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) await mkdir(join(prefix, dir));
  const log = join(prefix, 'logs', 'access.log');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(prefix, kind === 'client_body' ? 'body' : kind)};`).join('\n');
  await writeFile(
    join(prefix, 'nginx.conf'),
    [
      'daemon off;',
      `worker_processes ${options.workers ?? 1};`,
      `pid ${join(prefix, 'nginx.pid')};`,
      'error_log stderr warn;',
      'events { worker_connections 1024; }',
      'http {',
      options.accessLog === false ? '  access_log off;' : `  log_format bytes '$request_method $request_uri $status $body_bytes_sent $upstream_response_length $upstream_http_x_accel_redirect';\n  access_log ${log} bytes;`,
      temp,
      `  include ${join(prefix, 'stowage.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${stderr}`);
    if ((await fetch(`${url}/nginx-start-probe`).then((r) => r.status, () => 0)) !== 0) break;
    if (Date.now() > deadline) throw new Error(`nginx did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    pid: child.pid,
    accessLog: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line !== ''),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        // QUIT: nginx's graceful stop; its workers exit with it.
        child.kill('SIGQUIT');
        await exited;
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
