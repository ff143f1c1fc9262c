import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClosureGraph, ImageRequest, PackageSource, ResolveOptions } from '../../src/sources/types.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { basicAuth } from '../support/raw-http.js';
import { OCI_MANIFEST } from '../support/push-image.js';

/**
 * The fake source with one more package, `gzip` (the fake's `extra`), as Debian and nixpkgs
 * both have: a package named like the compression option.
 */
class WithGzipPackage implements PackageSource {
  readonly name = 'fake';
  constructor(private readonly inner: FakePackageSource) {}
  get reader() {
    return this.inner.reader;
  }
  cacheKey(request: ImageRequest): Promise<string | null> {
    return this.inner.cacheKey(request);
  }
  resolve(request: ImageRequest, options: ResolveOptions): Promise<ClosureGraph> {
    return this.inner.resolve({ ...request, packages: request.packages.map((name) => (name === 'gzip' ? 'extra' : name)) }, options);
  }
}

/**
 * `tool/gzip` (the packages gzip and tool) and `gzip/tool` (tool, with gzip layers) are two
 * images. They had one canonical name, `gzip/tool`: whichever was pulled first was served for
 * the other, and a rule on `tool` did not hold for `tool/gzip` pulling tool's own digests.
 */
describe('a package named like an option is an image of its own', () => {
  let registry: RunningRegistry;
  const alice = basicAuth('alice', 'pw-alice');
  const eve = basicAuth('eve', 'pw-eve');
  beforeAll(async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'stowage-option-names-')), 'htpasswd');
    await writeFile(file, ['alice', 'eve'].map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
    registry = await startRegistry(
      { auth: { htpasswdFile: file, anonymousPull: false, access: [{ repository: 'tool', users: ['alice'], actions: ['pull'] }] } },
      { source: new WithGzipPackage(await FakePackageSource.create()) },
    );
  });
  afterAll(async () => {
    await registry?.close();
  });
  const manifest = async (name: string, reference: string, authorization: string) =>
    fetch(`${registry.url}/v2/${name}/manifests/${reference}`, { headers: { authorization, accept: OCI_MANIFEST } });
  const packagesOf = async (response: Response): Promise<string> => {
    const body = (await response.json()) as { config: { digest: string } };
    const name = new URL(response.url).pathname.split('/manifests/')[0]!.slice('/v2/'.length);
    const config = await fetch(`${registry.url}/v2/${name}/blobs/${body.config.digest}`, { headers: { authorization: alice } });
    return ((await config.json()) as { config: { Labels: Record<string, string> } }).config.Labels['dev.stowage.packages'] ?? '';
  };

  it('serves each spelling its own image, whichever is pulled first', async () => {
    const option = await manifest('gzip/tool', 'latest', alice);
    expect(option.status).toBe(200);
    const optionDigest = option.headers.get('docker-content-digest');
    expect(await packagesOf(option)).toBe('tool');
    const packages = await manifest('tool/gzip', 'latest', eve);
    expect(packages.status).toBe(200);
    expect(packages.headers.get('docker-content-digest')).not.toBe(optionDigest);
    expect(await packagesOf(packages)).toBe('gzip tool');
    // And again, in the other order, within the pull-verification window.
    expect((await manifest('gzip/tool', 'latest', alice)).headers.get('docker-content-digest')).toBe(optionDigest);
  });

  it('keeps the rule on tool for its digests under the other image\'s name', async () => {
    const digest = (await manifest('gzip/tool', 'latest', alice)).headers.get('docker-content-digest') ?? '';
    expect((await manifest('tool', digest, eve)).status).toBe(403);
    expect((await manifest('tool/gzip', digest, eve)).status).toBe(404);
  });
});
