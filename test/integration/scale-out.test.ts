import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedisServer } from '../support/redis-server.js';
import { startReplica as startReplicaProcess, type Replica, type ReplicaLogLine as LogLine } from '../support/replica-process.js';
import { useS3Server } from '../support/s3-server.js';

/**
 * Two real registry processes (`node src/main.ts`, configured through STOWAGE_* variables)
 * sharing one redis-server and one S3-compatible server (s3rver), as replicas behind a load
 * balancer would. Builds are counted from the processes' JSON logs.
 */

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const redis = useRedisServer();
const s3 = useS3Server({ bucket: 'stowage-scale-out' });
const replicas: Replica[] = [];

async function startReplica(name: string): Promise<Replica> {
  const replica = await startReplicaProcess(name, { redisUrl: redis().url, s3: s3() });
  replicas.push(replica);
  return replica;
}

async function pull(url: string, name: string): Promise<{ digest: string; layers: string[] }> {
  const response = await fetch(`${url}/v2/${name}/manifests/latest`, { headers: { accept: OCI } });
  const body = await response.text();
  expect(response.status, body).toBe(200);
  const manifest = JSON.parse(body) as { layers: Array<{ digest: string }> };
  return { digest: response.headers.get('docker-content-digest') ?? '', layers: manifest.layers.map((layer) => layer.digest) };
}

/** Every `layer built` line of every replica, as digest → times built. */
function layerBuilds(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const replica of replicas) {
    for (const line of replica.logs) {
      if (line.msg === 'layer built' && typeof line.digest === 'string') counts.set(line.digest, (counts.get(line.digest) ?? 0) + 1);
    }
  }
  return counts;
}

function imageBuilds(image: string): LogLine[] {
  return replicas.flatMap((replica) => replica.logs.filter((line) => line.msg === 'image build finished' && line.image === image));
}

describe('two replicas sharing Redis and S3', () => {
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    [a, b] = await Promise.all([startReplica('a'), startReplica('b')]);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });

  it('builds each layer of a new image once for 20 concurrent pulls spread over both', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pull((i % 2 === 0 ? a : b).url, 'shell/cowsay/jq')));
    const digests = new Set(results.map((result) => result.digest));
    expect(digests.size).toBe(1);
    const layers = results[0]?.layers ?? [];
    expect(layers.length).toBeGreaterThan(1);
    for (const result of results) expect(result.layers).toEqual(layers);

    expect(imageBuilds('cowsay/jq/shell')).toHaveLength(1);
    const builds = layerBuilds();
    for (const digest of layers) expect(builds.get(digest), `layer ${digest} built once`).toBe(1);

    // Both replicas serve every blob, whichever built it.
    for (const replica of [a, b]) {
      for (const digest of layers) {
        const blob = await fetch(`${replica.url}/v2/shell/cowsay/jq/blobs/${digest}`);
        expect(blob.status).toBe(200);
        expect(blob.headers.get('docker-content-digest')).toBe(digest);
        expect(`sha256:${createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('hex')}`).toBe(digest);
      }
    }
  });

  it('builds layers shared by two different images once when both are built at the same time', async () => {
    const [left, right] = await Promise.all([
      // Two image names for one closure: two image builds (their labels differ), same layers.
      Promise.all(Array.from({ length: 3 }, () => pull(a.url, 'hello'))),
      Promise.all(Array.from({ length: 3 }, () => pull(b.url, 'hello.out'))),
    ]);
    const leftLayers = new Set(left.flatMap((result) => result.layers));
    const rightLayers = new Set(right.flatMap((result) => result.layers));
    const shared = [...leftLayers].filter((digest) => rightLayers.has(digest));
    expect(shared.length).toBeGreaterThan(0);
    expect(imageBuilds('hello')).toHaveLength(1);
    expect(imageBuilds('hello.out')).toHaveLength(1);
    expect(new Set(left.map((result) => result.digest)).size).toBe(1);
    expect(new Set(right.map((result) => result.digest)).size).toBe(1);
    const builds = layerBuilds();
    for (const digest of new Set([...leftLayers, ...rightLayers])) {
      expect(builds.get(digest) ?? 0, `layer ${digest} built at most once`).toBeLessThanOrEqual(1);
    }
    // No layer was ever built twice, in either test.
    expect([...builds.values()].every((count) => count === 1)).toBe(true);
  });

  it('reports both replicas ready, and Redis and S3 as their checks', async () => {
    for (const replica of [a, b]) {
      const response = await fetch(`${replica.url}/readyz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ready', checks: { storage: 'ok', redis: 'ok' } });
    }
  });
});
