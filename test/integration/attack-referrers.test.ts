import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { PushedRepositories } from '../../src/repository/pushed-repositories.js';
import { putBlob } from '../../src/storage/blob-io.js';
import { OCI_MANIFEST } from '../support/push-image.js';

/**
 * A name that became a package list after something was pushed to it (a package added to the
 * set, a namespace dropped from push.namespaces) serves its built image, whatever was pushed
 * before: the referrers API too. Pushed records under the name must neither add artifacts to
 * the built image's referrers (an old push naming the built digest as subject would pass for
 * its signature or SBOM) nor hide the SBOM the registry built for it.
 */
describe('referrers of a package-list name that has old pushed records', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({}, { source: await FakePackageSource.create() });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('lists the built SBOM and nothing pushed', async () => {
    const pulled = await fetch(`${registry.url}/v2/tool/manifests/latest`);
    expect(pulled.status).toBe(200);
    const subject = String(pulled.headers.get('docker-content-digest'));
    const before = (await (await fetch(`${registry.url}/v2/tool/referrers/${subject}`)).json()) as { manifests: Array<{ digest: string; artifactType?: string }> };
    expect(before.manifests.map((m) => m.artifactType)).toEqual(['application/spdx+json']);

    // What a push to "tool" stored while it was not yet a package list.
    const pushed = new PushedRepositories(registry.app.metadata, registry.app.blobs);
    const config = await putBlob(registry.app.blobs, Buffer.from('{}'));
    await pushed.linkBlob('tool', config.digest);
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.signature',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: config.size },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
      }),
    );
    const { digest } = await pushed.putManifest('tool', 'sig', referrer, OCI_MANIFEST);

    const after = (await (await fetch(`${registry.url}/v2/tool/referrers/${subject}`)).json()) as { manifests: Array<{ digest: string; artifactType?: string }> };
    expect(after.manifests.map((m) => m.digest)).not.toContain(digest);
    expect(after.manifests).toEqual(before.manifests);
    // The manifest itself is served as built, as it was.
    expect((await fetch(`${registry.url}/v2/tool/manifests/latest`)).headers.get('docker-content-digest')).toBe(subject);
    // The UI says the same: a built image (a build can be asked for), not a pushed repository.
    const build = await fetch(`${registry.url}/api/v1/builds/tool`, { method: 'POST' });
    expect(build.status).toBe(200);
    expect(((await build.json()) as { status: string }).status).toBe('built');
    expect((await fetch(`${registry.url}/api/v1/repositories/tool`)).status).toBe(404);
  });
});
