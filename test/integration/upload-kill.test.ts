import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PACKAGE_SET, REPO_ROOT } from '../support/registry-server.js';
import { freePort } from '../support/redis-server.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { digestOf } from '../conformance/client.js';

/**
 * A real registry process (`node src/main.ts`) killed with SIGKILL in the middle of a chunked
 * PATCH: after a restart the upload's offset counts only acknowledged bytes, the unacknowledged
 * tail is cut off, and staging files nobody owns any more are gone.
 */
const CHUNK = 1024 * 1024;
const DEAD_PID = 4_194_305; // above the kernel's pid_max: never a running process
const auth = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startServer(dataDir: string, htpasswd: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, STOWAGE_HOST: '127.0.0.1', STOWAGE_PORT: String(port), STOWAGE_DATA_DIR: dataDir, STOWAGE_LOG_LEVEL: 'warn', STOWAGE_SOURCE: 'nix', STOWAGE_PACKAGE_SET: EXAMPLE_PACKAGE_SET, STOWAGE_AUTH_HTPASSWD_FILE: htpasswd },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`registry exited: ${stderr}`);
    if ((await fetch(`${url}/healthz`).catch(() => null))?.status === 200) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`registry did not start: ${stderr}`);
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Poll `check` until it holds (the server cleans up in the background); fails after 600 tries. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await check()).toBe(true);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('a registry process killed during a chunked upload', () => {
  let dataDir: string;
  let htpasswd: string;
  let server: Server | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-upload-kill-'));
    htpasswd = await writeHtpasswd();
  });
  afterAll(async () => {
    if (server) await killHard(server.child);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reports only acknowledged bytes after a restart, cuts off the rest, and removes orphaned staging files', { timeout: 240_000 }, async () => {
    server = await startServer(dataDir, htpasswd);
    const data = Buffer.concat([Buffer.alloc(CHUNK, 1), Buffer.alloc(CHUNK, 2)]);
    const start = await fetch(`${server.url}/v2/team/killed/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
    expect(start.status).toBe(202);
    const location = start.headers.get('location') as string;
    const id = location.split('/').pop() as string;
    const first = await fetch(`${server.url}${location}`, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `0-${CHUNK - 1}` },
      body: data.subarray(0, CHUNK),
    });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe(`0-${CHUNK - 1}`);

    // The second chunk is half sent when the process dies: its bytes reach the file, unacknowledged.
    const staged = join(dataDir, 'uploads', id);
    const port = new URL(server.url).port;
    const socket: Socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `PATCH ${location} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Range: ${CHUNK}-${2 * CHUNK - 1}\r\nContent-Length: ${CHUNK}\r\n\r\n`,
    );
    socket.write(data.subarray(CHUNK, CHUNK + CHUNK / 2));
    await eventually(async () => (await stat(staged)).size > CHUNK);
    await killHard(server.child);
    socket.destroy();
    expect((await stat(staged)).size).toBeGreaterThan(CHUNK);

    // What a killed process leaves besides: a staging blob, a metadata temp file, a build's
    // temp directory, and the staging file of an upload whose session is gone.
    const orphans = [
      join(dataDir, 'storage', 'staging', `${DEAD_PID}-0b5e7c1e-dead-4bad-8000-000000000000`),
      join(dataDir, 'metadata', 'values', 'ab', `${'ab'.repeat(32)}.json.${DEAD_PID}.1.tmp`),
      join(dataDir, 'tmp', `${DEAD_PID}-build`, 'spill'),
      join(dataDir, 'uploads', '00000000-0000-4000-8000-000000000000'),
    ];
    for (const path of orphans) {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, 'left behind');
    }

    server = await startServer(dataDir, htpasswd);
    const status = await fetch(`${server.url}${location}`, { headers: { authorization: auth } });
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${CHUNK - 1}`);
    await eventually(async () => (await stat(staged)).size === CHUNK);
    for (const path of orphans) await eventually(async () => !(await exists(path)));

    // The upload goes on from the acknowledged offset and commits the right bytes.
    const second = await fetch(`${server.url}${location}`, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-type': 'application/octet-stream', 'content-range': `${CHUNK}-${2 * CHUNK - 1}` },
      body: data.subarray(CHUNK),
    });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe(`0-${2 * CHUNK - 1}`);
    const done = await fetch(`${server.url}${location}?digest=${digestOf(data)}`, { method: 'PUT', headers: { authorization: auth } });
    expect(done.status).toBe(201);
    const blob = await fetch(`${server.url}/v2/team/killed/blobs/${digestOf(data)}`);
    expect(blob.status).toBe(200);
    expect(Buffer.from(await blob.arrayBuffer()).equals(data)).toBe(true);
  });
});
