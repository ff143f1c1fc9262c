import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { run, skopeoPull } from '../support/commands.js';
import { spdxSchemaErrors } from '../support/spdx-schema.js';

interface Descriptor { mediaType: string; digest: string; size: number; artifactType?: string }
interface SpdxPackage { name: string; versionInfo?: string; packageFileName?: string; checksums?: Array<{ algorithm: string; checksumValue: string }> }

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * A built image's SBOM through the referrers API: skopeo pulls `shell/hello`, the referrers of
 * its manifest list one SPDX artifact, and the SBOM fetched from it is valid SPDX 2.3 and names
 * every store path in the image with the NAR hash Nix has for it.
 */
describe('SBOMs of built images', () => {
  let registry: RunningRegistry;
  let work: string;
  let manifestDigest: string;

  const get = async (path: string, accept = OCI_MANIFEST): Promise<Response> => fetch(`${registry.url}${path}`, { headers: { accept } });

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'stowage-sbom-'));
    await skopeoPull(registry.host, 'shell/hello:latest', join(work, 'layout'));
    const index = JSON.parse(await readFile(join(work, 'layout', 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    manifestDigest = index.manifests[0]?.digest ?? '';
    await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:x`, join(work, 'bundle')]);
  });

  afterAll(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function referrersOf(digest: string, query = ''): Promise<Descriptor[]> {
    const response = await get(`/v2/shell/hello/referrers/${digest}${query}`, 'application/vnd.oci.image.index.v1+json');
    expect(response.status).toBe(200);
    return ((await response.json()) as { manifests: Descriptor[] }).manifests;
  }

  it('lists one SPDX artifact whose subject is the pulled manifest, and a valid SBOM in it', async () => {
    expect(manifestDigest).toMatch(/^sha256:/);
    const referrers = await referrersOf(manifestDigest);
    expect(referrers).toHaveLength(1);
    expect(referrers[0]).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json' });

    const artifactResponse = await get(`/v2/shell/hello/manifests/${referrers[0]?.digest}`);
    expect(artifactResponse.status).toBe(200);
    const artifact = (await artifactResponse.json()) as { artifactType: string; config: Descriptor; layers: Descriptor[]; subject: Descriptor };
    expect(artifact.subject.digest).toBe(manifestDigest);
    expect(artifact.config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', size: 2 });
    expect(artifact.layers).toHaveLength(1);
    expect((await get(`/v2/shell/hello/blobs/${artifact.config.digest}`)).status).toBe(200);

    const sbomResponse = await get(`/v2/shell/hello/blobs/${artifact.layers[0]?.digest}`);
    expect(sbomResponse.status).toBe(200);
    const sbom = (await sbomResponse.json()) as { spdxVersion: string; packages: SpdxPackage[] };
    expect(spdxSchemaErrors(sbom)).toEqual([]);
    expect(sbom.spdxVersion).toBe('SPDX-2.3');

    // Every store path in the image, with the hash Nix itself records for it.
    const storeDir = join(work, 'bundle', 'rootfs', 'nix', 'store');
    const inImage = (await readdir(storeDir)).map((name) => `/nix/store/${name}`).sort();
    expect(inImage.length).toBeGreaterThan(2);
    const listed = new Map(sbom.packages.filter((pkg) => pkg.packageFileName).map((pkg) => [pkg.packageFileName, pkg]));
    expect([...listed.keys()].sort()).toEqual(inImage);
    for (const path of inImage) {
      const nix32 = (await run('nix-store', ['--query', '--hash', path])).stdout.trim().replace(/^sha256:/, '');
      const hex = (await run('nix-hash', ['--type', 'sha256', '--to-base16', nix32])).stdout.trim();
      expect(listed.get(path)?.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: hex }]);
    }
    expect(listed.get(inImage.find((path) => /-hello-[0-9]/.test(path)))).toMatchObject({ name: 'hello', versionInfo: '2.12.1' });
  });

  it('filters referrers by artifact type', async () => {
    expect(await referrersOf(manifestDigest, '?artifactType=application/spdx%2Bjson')).toHaveLength(1);
    expect(await referrersOf(manifestDigest, '?artifactType=application/vnd.example')).toEqual([]);
  });

  it('gives the Docker manifest of the image its own SBOM artifact', async () => {
    const response = await get('/v2/shell/hello/manifests/latest', DOCKER_MANIFEST);
    expect(response.headers.get('content-type')).toBe(DOCKER_MANIFEST);
    const dockerDigest = response.headers.get('docker-content-digest') ?? '';
    expect(dockerDigest).not.toBe(manifestDigest);
    const referrers = await referrersOf(dockerDigest);
    expect(referrers).toHaveLength(1);
    expect(referrers[0]?.digest).not.toBe((await referrersOf(manifestDigest))[0]?.digest);
  });

  it('lists nothing for a digest that is not an image of that name', async () => {
    expect(await referrersOf(`sha256:${'0'.repeat(64)}`)).toEqual([]);
  });
});
