import { createHash, randomBytes } from 'node:crypto';
import { get, type IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { FsMetadataStore } from '../../src/storage/fs-metadata-store.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { PushedRepositories } from '../../src/repository/pushed-repositories.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * A rolling update sends SIGTERM while clients are mid-pull: the blob they are streaming must
 * arrive whole, the next request (the rest of the pull) must still be served, and the load
 * balancer must learn at once that the replica is going.
 */
let server: ServerProcess | undefined;
let dataDir = '';

afterEach(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  server = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function open(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).once('error', reject));
}

async function drainBody(response: IncomingMessage): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

describe('graceful shutdown', () => {
  it('finishes a blob stream started before SIGTERM, fails /readyz at once, serves during the drain, then exits', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-drain-'));
    // A pushed repository holding one large blob, written with the server's own stores.
    const blobs = new FsBlobStore(join(dataDir, 'storage'));
    await blobs.init();
    const content = randomBytes(48 * 1024 * 1024);
    const blob = await putBlob(blobs, content);
    await new PushedRepositories(new FsMetadataStore(join(dataDir, 'metadata')), blobs).linkBlob('big/blob', blob.digest);

    server = await startServerProcess({ STOWAGE_DATA_DIR: dataDir, STOWAGE_DRAIN_MS: '3000' });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await open(`${base}/readyz`)).statusCode).toBe(200);

    // The client reads one chunk and then nothing: 48 MiB cannot fit in socket buffers, so the
    // response is still being written when SIGTERM arrives.
    const stream = await open(`${base}/v2/big/blob/blobs/${blob.digest}`);
    expect(stream.statusCode).toBe(200);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    stream.pause();

    server.child.kill('SIGTERM');
    const logged = server.logs;
    await waitFor(() => logged.some((line) => line.includes('shutting down')));
    const ready = await open(`${base}/readyz`);
    expect(ready.statusCode).toBe(503);
    expect(JSON.stringify(await json(ready))).toContain('shutting down');
    // The rest of a pull still gets answers during the drain.
    const head = await open(`${base}/healthz`);
    expect(head.statusCode).toBe(200);
    expect(head.headers.connection).toBe('close');
    await drainBody(head);

    // The drain ends and the server closes while the blob is still being sent: it finishes.
    await waitFor(() => logged.some((line) => line.includes('drain over')), 10_000);
    stream.unshift(first);
    stream.resume();
    const body = await drainBody(stream);
    expect(body.bytes).toBe(content.length);
    expect(`sha256:${body.sha256}`).toBe(blob.digest);

    expect(await server.exited).toBe(0);
  }, 60_000);
});

async function json(response: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Poll a condition the server's own log establishes (no fixed sleeps). */
async function waitFor(condition: () => boolean, limitMs = 5_000): Promise<void> {
  for (let waited = 0; waited < limitMs && !condition(); waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
