import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { OCI_MANIFEST, pushSmallImage } from '../support/push-image.js';
import { useRedisServer } from '../support/redis-server.js';
import { startReplica, type Replica } from '../support/replica-process.js';
import { useS3Server } from '../support/s3-server.js';

/**
 * Two real registry processes on one redis-server and one S3 server remember which digests are
 * pushed manifests (a pull by digest then skips Redis). A DELETE answered by one must be seen by
 * the other at once, including when the other's subscription to change notices was cut.
 */

const redis = useRedisServer();
const s3 = useS3Server({ bucket: 'stowage-coherence' });
const authorization = `Basic ${Buffer.from(`${TEST_USER}:${TEST_PASSWORD}`).toString('base64')}`;
let a: Replica;
let b: Replica;

beforeAll(async () => {
  const htpasswd = await writeHtpasswd();
  const env = { STOWAGE_AUTH_HTPASSWD_FILE: htpasswd, STOWAGE_PUSH_NAMESPACES: 'team' };
  [a, b] = await Promise.all([startReplica('coherence-a', { redisUrl: redis().url, s3: s3() }, env), startReplica('coherence-b', { redisUrl: redis().url, s3: s3() }, env)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function manifestStatus(replica: Replica, name: string, digest: string): Promise<number> {
  const response = await fetch(`${replica.url}/v2/${name}/manifests/${digest}`, { headers: { authorization, accept: OCI_MANIFEST } });
  await response.arrayBuffer();
  return response.status;
}

/** Push on `a`, pull by digest from `b` until it remembers it, delete on `a`: what `b` answers next. */
async function deleteWhileRemembered(name: string, seed: number, between?: () => Promise<void>): Promise<{ before: number; after: number; onA: number }> {
  const { digest } = await pushSmallImage(a.url, name, `v${seed}`, { authorization, configBytes: 100 + seed, layerBytes: 1000 + seed });
  let before = 0;
  for (let i = 0; i < 3; i += 1) before = await manifestStatus(b, name, digest);
  await between?.();
  const deleted = await fetch(`${a.url}/v2/${name}/manifests/${digest}`, { method: 'DELETE', headers: { authorization } });
  expect(deleted.status, await deleted.text()).toBe(202);
  return { before, after: await manifestStatus(b, name, digest), onA: await manifestStatus(a, name, digest) };
}

describe('pushed manifests remembered by two replicas', () => {
  it('are gone from the other replica as soon as one answers their DELETE', async () => {
    for (let seed = 0; seed < 10; seed += 1) {
      expect(await deleteWhileRemembered('team/app', seed)).toEqual({ before: 200, after: 404, onA: 404 });
    }
  });

  it('are gone from the other replica after its subscription to change notices was cut', async () => {
    const admin = new Redis(redis().url);
    try {
      for (let seed = 10; seed < 14; seed += 1) {
        const cut = async () => void (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
        expect(await deleteWhileRemembered('team/other', seed, cut)).toEqual({ before: 200, after: 404, onA: 404 });
      }
    } finally {
      admin.disconnect();
    }
  });

  it('follow a tag the other replica moved or deleted, as soon as it answered', async () => {
    const tagged = async (replica: Replica): Promise<string | number> => {
      const response = await fetch(`${replica.url}/v2/team/tags/manifests/v1`, { headers: { authorization, accept: OCI_MANIFEST } });
      await response.arrayBuffer();
      return response.status === 200 ? (response.headers.get('docker-content-digest') ?? 'no digest') : response.status;
    };
    for (let seed = 0; seed < 5; seed += 1) {
      const { digest } = await pushSmallImage(a.url, 'team/tags', 'v1', { authorization, configBytes: 500 + seed, layerBytes: 5000 + seed });
      for (let i = 0; i < 3; i += 1) expect(await tagged(b)).toBe(digest);
    }
    const deleted = await fetch(`${a.url}/v2/team/tags/manifests/v1`, { method: 'DELETE', headers: { authorization } });
    expect(deleted.status, await deleted.text()).toBe(202);
    expect([await tagged(b), await tagged(a)]).toEqual([404, 404]);
  });

  it('serve a manifest pushed again after its deletion on the other replica', async () => {
    const { digest } = await pushSmallImage(a.url, 'team/again', 'v1', { authorization, configBytes: 300, layerBytes: 3000 });
    expect(await manifestStatus(b, 'team/again', digest)).toBe(200);
    const deleted = await fetch(`${b.url}/v2/team/again/manifests/${digest}`, { method: 'DELETE', headers: { authorization } });
    expect(deleted.status).toBe(202);
    expect(await manifestStatus(a, 'team/again', digest)).toBe(404);
    await pushSmallImage(b.url, 'team/again', 'v1', { authorization, configBytes: 300, layerBytes: 3000 });
    expect([await manifestStatus(a, 'team/again', digest), await manifestStatus(b, 'team/again', digest)]).toEqual([200, 200]);
  });
});
