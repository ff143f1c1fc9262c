import type { EventEmitter } from 'node:events';
import { mkdtemp, readdir } from 'node:fs/promises';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { nodeBlobFileSystem, type BlobFileSystem } from '../../../src/storage/fs-blob-read.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../../support/htpasswd.js';
import { digestOf, makeImage } from '../../conformance/client.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const auth = { authorization: `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}` };

/** Node's file system, counting the calls that look at a file and the files still open. */
class CountingFs implements BlobFileSystem {
  looks = 0;
  opens = 0;
  open_ = 0;
  private onAllClosed: (() => void) | null = null;

  stat: BlobFileSystem['stat'] = (path) => {
    this.looks += 1;
    return nodeBlobFileSystem.stat(path);
  };
  fstat: BlobFileSystem['fstat'] = (handle) => {
    this.looks += 1;
    return nodeBlobFileSystem.fstat(handle);
  };
  open: BlobFileSystem['open'] = async (path, flags, mode) => {
    const handle = await nodeBlobFileSystem.open(path, flags, mode);
    this.opens += 1;
    this.open_ += 1;
    (handle as unknown as EventEmitter).once('close', () => {
      this.open_ -= 1;
      if (this.open_ === 0) this.onAllClosed?.();
    });
    return handle;
  };

  /** Resolves once no file opened through this is open any more. */
  allClosed(): Promise<void> {
    if (this.open_ === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onAllClosed = resolve));
  }
}

let htpasswd: string;
let app: App | null = null;
beforeAll(async () => {
  htpasswd = await writeHtpasswd();
});
afterEach(async () => {
  await app?.server.close();
  app = null;
});

async function makeApp(fs: CountingFs): Promise<App> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-serving-'));
  const blobs = new FsBlobStore(join(root, 'storage'), fs);
  await blobs.init();
  app = await buildApp(parseConfig({ dataDir: root, source: { kind: 'nix', shellPackages: ['minishell'], systems: ['x86_64-linux'] }, auth: { htpasswdFile: htpasswd } }), {
    source: await FakePackageSource.create(),
    blobs,
    metadata: new MemoryMetadataStore(),
    logger: pino({ level: 'silent' }),
  });
  return app;
}

async function pushBlob(target: App, name: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const response = await target.server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/?digest=${digest}`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: data });
  expect(response.statusCode).toBe(201);
  return digest;
}

describe('blob GET', () => {
  it('looks at the file once per GET and HEAD, small or large, whole or ranged', async () => {
    const fs = new CountingFs();
    const target = await makeApp(fs);
    const small = await pushBlob(target, 'team/a', Buffer.from('a small config'));
    const large = await pushBlob(target, 'team/a', Buffer.alloc(3 * 1024 * 1024, 5));
    for (const [digest, headers] of [[small, {}], [large, {}], [large, { range: 'bytes=10-19' }]] as const) {
      for (const method of ['GET', 'HEAD'] as const) {
        fs.looks = 0;
        // With credentials: an anonymous blob HEAD is answered with the token challenge (pushers ask it).
        const response = await target.server.inject({ method, url: `/v2/team/a/blobs/${digest}`, headers: { ...auth, ...headers } });
        expect(response.statusCode).toBe('range' in headers ? 206 : 200);
        expect(fs.looks).toBe(1);
      }
    }
    await fs.allClosed();
  });

  it('serves a pushed manifest by digest from memory after the first read', async () => {
    const fs = new CountingFs();
    const target = await makeApp(fs);
    const image = makeImage('cached');
    for (const blob of [image.config, ...image.layers]) await pushBlob(target, 'team/m', blob);
    const put = await target.server.inject({ method: 'PUT', url: '/v2/team/m/manifests/v1', headers: { ...auth, 'content-type': MANIFEST }, payload: image.manifest });
    expect(put.statusCode).toBe(201);
    const url = `/v2/team/m/manifests/${digestOf(image.manifest)}`;
    const first = await target.server.inject({ method: 'GET', url });
    const opensAfterFirst = fs.opens;
    const again = await Promise.all(Array.from({ length: 5 }, () => target.server.inject({ method: 'GET', url })));
    expect(first.rawPayload.equals(image.manifest)).toBe(true);
    for (const response of again) expect(response.rawPayload.equals(image.manifest)).toBe(true);
    expect(fs.opens).toBe(opensAfterFirst);
  });

  it('closes every file and socket after 100 downloads aborted by their clients', async () => {
    const fs = new CountingFs();
    const target = await makeApp(fs);
    const digest = await pushBlob(target, 'team/big', Buffer.alloc(8 * 1024 * 1024, 9));
    await target.server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = target.server.server.address() as AddressInfo;
    const fdsBefore = (await readdir('/proc/self/fd')).length;
    const opensBefore = fs.opens;
    for (let i = 0; i < 100; i += 1) {
      await new Promise<void>((resolve, reject) => {
        const request = get({ host: '127.0.0.1', port, path: `/v2/team/big/blobs/${digest}`, agent: false }, (response) => {
          expect(response.statusCode).toBe(200);
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.once('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(error)));
      });
    }
    expect(fs.opens - opensBefore).toBe(100);
    await fs.allClosed();
    expect(fs.open_).toBe(0);
    // The server notices each reset; wait until it holds no connection, then count descriptors.
    while ((await new Promise<number>((resolve, reject) => target.server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))))) > 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fdsBefore);
  });
});
