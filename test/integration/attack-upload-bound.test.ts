import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth } from '../support/raw-http.js';
import { sha256Digest } from '../../src/oci/digest.js';

/**
 * Upload sessions that are started and never finished cost a staging file and a record each,
 * and each expiry sweep reads them all: a pusher looping on POST must meet a bound, answered
 * in the envelope, while monolithic uploads (which open no session) still go through.
 */
describe('open upload sessions are bounded (push.maxUploads)', () => {
  let registry: RunningRegistry;
  const authorization = basicAuth(TEST_USER, TEST_PASSWORD);
  beforeAll(async () => {
    registry = await startRegistry({ push: { maxUploads: 3 }, auth: { htpasswdFile: await writeHtpasswd() } }, { source: await FakePackageSource.create() });
  });
  afterAll(async () => {
    await registry?.close();
  });

  const post = (query = '', body?: Buffer) =>
    fetch(`${registry.url}/v2/team/app/blobs/uploads/${query}`, { method: 'POST', headers: { authorization, 'content-type': 'application/octet-stream' }, ...(body ? { body } : {}) });

  it('answers 429 TOOMANYREQUESTS past the bound, and opens sessions again once one ends', async () => {
    const locations: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = await post();
      expect(started.status).toBe(202);
      locations.push(String(started.headers.get('location')));
    }
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('TOOMANYREQUESTS');

    const blob = Buffer.from('monolithic');
    expect((await post(`?digest=${sha256Digest(blob)}`, blob)).status).toBe(201);

    expect((await fetch(`${registry.url}${locations[0]}`, { method: 'DELETE', headers: { authorization } })).status).toBe(204);
    expect((await post()).status).toBe(202);
  });
});
