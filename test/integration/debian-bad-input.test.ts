import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { access, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { DEBIAN_TEST_CACHE } from '../support/debian.js';
import type { DebianPackage } from '../../src/sources/debian/types.js';

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Faults on the Debian side, each a clear OCI error with nothing stored. Indexes come from
 * Debian's archive (the machine's apt sources); `.deb` downloads go through a loopback server
 * that fetches the real file and then tampers with it or cuts it off, for the packages chosen.
 */
describe('Debian bad input and faults', () => {
  let registry: RunningRegistry;
  let tamperer: Server;
  let tampererUrl: string;
  let debCache: string;
  const downloads: DebianPackage[] = [];
  /** Package file name fragment → what the loopback server does with it. */
  const faults = new Map<string, 'tamper' | 'cut'>([['/hello_', 'tamper'], ['/tree_', 'cut']]);

  beforeAll(async () => {
    tamperer = createServer((request, response) => {
      const original = new URL(request.url ?? '/', 'http://loopback').searchParams.get('u') ?? '';
      const fault = [...faults].find(([fragment]) => original.includes(fragment))?.[1];
      fetch(original).then(async (upstream) => {
        const bytes = Buffer.from(await upstream.arrayBuffer());
        if (fault === 'tamper') bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
        response.writeHead(upstream.status, { 'content-length': String(bytes.length) });
        if (fault === 'cut') {
          response.write(bytes.subarray(0, bytes.length >> 1));
          setTimeout(() => response.destroy(), 50);
        } else {
          response.end(bytes);
        }
      }, () => response.destroy());
    });
    await new Promise<void>((resolve) => tamperer.listen(0, '127.0.0.1', resolve));
    tampererUrl = `http://127.0.0.1:${(tamperer.address() as AddressInfo).port}/`;
    // Verified indexes from the shared cache, but no shared .debs: a hello or tree that another
    // test or a bench left cached would be served without the faulty download this test needs.
    debCache = await mkdtemp(join(tmpdir(), 'stowage-debian-faults-'));
    await mkdir(DEBIAN_TEST_CACHE, { recursive: true });
    for (const entry of await readdir(DEBIAN_TEST_CACHE)) if (entry !== 'debs') await symlink(join(DEBIAN_TEST_CACHE, entry), join(debCache, entry));
    registry = await startRegistry(
      { source: { kind: 'debian', debian: { cacheDir: debCache, retries: 1 } }, builds: { requestWaitMs: 280_000 } },
      {
        debianFetcher: {
          onDownload: (pkg) => downloads.push(pkg),
          get: (url, signal) => fetch(`${tampererUrl}?u=${encodeURIComponent(url)}`, { signal }),
        },
      },
    );
  }, 300_000);

  afterAll(async () => {
    await registry?.close();
    await new Promise((resolve) => tamperer?.close(resolve));
    if (debCache) await rm(debCache, { recursive: true, force: true });
  });

  const pull = async (target: RunningRegistry, name: string) => {
    const response = await fetch(`${target.url}/v2/${name}/manifests/latest`, { headers: { accept: ACCEPT } });
    return { status: response.status, body: (await response.json()) as { errors: Array<{ code: string; message: string; detail?: Record<string, unknown> }> } };
  };
  const cachedDeb = (pkg: DebianPackage) => access(join(debCache, 'debs', 'sha256', pkg.sha256.slice(0, 2), `${pkg.sha256}.deb`)).then(() => true, () => false);

  it('names every unknown package', { timeout: 300_000 }, async () => {
    const { status, body } = await pull(registry, 'no-such-package-a/no-such-package-b');
    expect(status).toBe(404);
    expect(body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(body.errors[0]?.message).toContain('no-such-package-a');
    expect(body.errors[0]?.message).toContain('no-such-package-b');
  });

  it('refuses a virtual-only name, naming its providers', { timeout: 300_000 }, async () => {
    const { status, body } = await pull(registry, 'awk');
    expect(status).toBe(404);
    expect(body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(body.errors[0]?.message).toMatch(/virtual package.*mawk/);
  });

  it('refuses a .deb whose hash does not match the signed index, storing nothing', { timeout: 300_000 }, async () => {
    const { status, body } = await pull(registry, 'hello');
    expect(status).toBe(502);
    expect(body.errors[0]?.message).toMatch(/refusing pool\/.*hello_.*SHA256/);
    const hello = downloads.find((pkg) => pkg.name === 'hello') as DebianPackage;
    expect(hello).toBeDefined();
    expect(await cachedDeb(hello)).toBe(false);
    // Nothing was recorded: the next pull downloads (and refuses) it again.
    const before = downloads.filter((pkg) => pkg.name === 'hello').length;
    expect((await pull(registry, 'hello')).status).toBe(502);
    expect(downloads.filter((pkg) => pkg.name === 'hello').length).toBeGreaterThan(before);
  });

  it('answers 503 naming the archive when a download is cut off every time', { timeout: 300_000 }, async () => {
    const { status, body } = await pull(registry, 'tree');
    expect(status).toBe(503);
    expect(body.errors[0]?.code).toBe('UNAVAILABLE');
    const tree = downloads.find((pkg) => pkg.name === 'tree') as DebianPackage;
    expect(body.errors[0]?.message).toContain(tree.archiveUrl);
    expect(body.errors[0]?.message).toMatch(/cut off|terminated|socket|aborted/i);
    // One attempt and one retry, then nothing stored.
    expect(downloads.filter((pkg) => pkg.name === 'tree')).toHaveLength(2);
    expect(await cachedDeb(tree)).toBe(false);
  });

  it('answers 503 naming the archive when it cannot be reached', { timeout: 300_000 }, async () => {
    const unreachable = await startRegistry(
      { source: { kind: 'debian', debian: { cacheDir: debCache, retries: 1 } } },
      { debianFetcher: { get: (_url, signal) => fetch('http://127.0.0.1:1/pool/x.deb', { signal }) } },
    );
    try {
      const { status, body } = await pull(unreachable, 'hello');
      expect(status).toBe(503);
      expect(body.errors[0]?.code).toBe('UNAVAILABLE');
      expect(String(body.errors[0]?.detail?.upstream)).toMatch(/^https?:\/\/.+\/$/);
      expect(body.errors[0]?.message).toContain(String(body.errors[0]?.detail?.upstream));
    } finally {
      await unreachable.close();
    }
  });

  it('answers 503 naming the archive when its index cannot be fetched', { timeout: 300_000 }, async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'stowage-debian-empty-'));
    const noIndex = await startRegistry({ source: { kind: 'debian', debian: { cacheDir, archives: ['http://127.0.0.1:1/debian/'], suites: ['bookworm'], retries: 0 } } });
    try {
      const { status, body } = await pull(noIndex, 'hello');
      expect(status).toBe(503);
      expect(body.errors[0]?.message).toContain('http://127.0.0.1:1/debian/');
    } finally {
      await noIndex.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
