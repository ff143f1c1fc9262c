import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { startContainerd, type Containerd } from '../support/containerd.js';

const CREDS = `${TEST_USER}:${TEST_PASSWORD}`;

/**
 * Issue 14 point 4: `ctr images push` to a repository that already holds every blob used to hang
 * forever. Every blob HEAD succeeds anonymously, so the manifest PUT is the first request that
 * meets the registry's challenge, after containerd has streamed the body; its retry never
 * completed (containerd 1.6 cannot resend a streamed manifest body). Now an anonymous blob HEAD
 * meets the Bearer challenge (default settings), so containerd fetches a push token before it
 * sends any body. The vitest timeout turns a hang into a failure.
 */
describe('ctr push to a repository holding every blob', { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  let containerd: Containerd;
  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() } }, { source: await FakePackageSource.create() });
    containerd = await startContainerd();
  }, 60_000);
  afterAll(async () => {
    await containerd?.stop();
    await registry?.close();
  });

  it('pushes a second tag of what the repository holds, and the tag serves the manifest', async () => {
    const source = `${registry.host}/tool:latest`;
    const first = `${registry.host}/team/ctrsame:1`;
    const second = `${registry.host}/team/ctrsame:2`;
    await containerd.ctr(['images', 'pull', '--plain-http', source], 40_000);
    await containerd.ctr(['images', 'tag', source, first, second], 10_000);
    await containerd.ctr(['images', 'push', '--plain-http', '--user', CREDS, first], 20_000);
    // Every blob is now in team/ctrsame: the next push sends only the manifest.
    await containerd.ctr(['images', 'push', '--plain-http', '--user', CREDS, second], 20_000);
    const [one, two] = await Promise.all(
      ['1', '2'].map((tag) => fetch(`${registry.url}/v2/team/ctrsame/manifests/${tag}`, { headers: { authorization: `Basic ${Buffer.from(CREDS).toString('base64')}`, accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } })),
    );
    expect(one?.status).toBe(200);
    expect(two?.status).toBe(200);
    expect(two?.headers.get('docker-content-digest')).toBe(one?.headers.get('docker-content-digest'));
  });
});
