import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNix32 } from '../../src/sources/binary-cache/nix-base32.js';
import { writeCatalogEntry } from '../../src/sources/catalog/catalog-document.js';
import { dir, fakeStorePath, file, link, narOf, narTokens } from '../support/binary-cache-fixtures.js';
import { startCacheServer, type CacheServer, type Fault } from '../support/binary-cache-server.js';
import { EXAMPLE_REVISION, SYSTEM, makeExampleCache, resignNarInfo, type ExampleCache } from '../support/binary-cache.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';

const EVIL = {
  'evil-dotdot': { path: fakeStorePath('dotdot', 'evil-dotdot'), nar: narTokens('nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'name', '..', 'node', '(', 'type', 'regular', 'contents', 'pwned', ')', ')', ')') },
  'evil-slash': { path: fakeStorePath('slash', 'evil-slash'), nar: narTokens('nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'name', 'etc/passwd', 'node', '(', 'type', 'regular', 'contents', 'root::0:0', ')', ')', ')') },
  'evil-symlink': { path: fakeStorePath('symlink', 'evil-symlink'), nar: narOf(dir({ bin: dir({ sh: link('/etc/shadow') }), ok: file('x') })) },
} as const;

interface ErrorBody {
  errors: Array<{ code: string; message: string; detail?: Record<string, unknown> }>;
}

/**
 * Broken binary caches: each case copies a good cache (made by nix copy), breaks it, serves it
 * over HTTP to a fresh catalog-source registry and asks for an image. The answer must be a
 * clear error naming the problem, asked again it must fail again (nothing cached), and every
 * blob committed meanwhile must be one the repaired cache's image also has (nothing bad stored).
 */
describe('bad binary caches get clear errors and nothing is cached or served', () => {
  let good: ExampleCache;
  let hello: string;
  let catalogFile: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    good = await makeExampleCache({ compression: 'zstd' });
    hello = good.catalog.packages.hello?.outputs.out as string;
    for (const { path, nar } of Object.values(EVIL)) await addCraftedPath(good, path, nar);
    catalogFile = join(good.dir, '..', `evil-catalog-${process.pid}.json`);
    await writeCatalogEntry(catalogFile, {
      revision: EXAMPLE_REVISION,
      system: SYSTEM,
      packages: { ...good.catalog.packages, ...Object.fromEntries(Object.entries(EVIL).map(([name, { path }]) => [name, { outputs: { out: path } }])) },
    });
  }, 600_000);

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await good?.cleanup();
    await rm(catalogFile, { force: true });
  });

  /** A copy of the good cache, broken by `breakIt`, served over HTTP to a fresh registry. */
  async function brokenSetup(breakIt: (dir: string) => Promise<void>, fault?: Fault): Promise<{ registry: RunningRegistry; dir: string; server: CacheServer }> {
    const copy = await mkdtemp(join(tmpdir(), 'stowage-broken-cache-'));
    await cp(good.dir, copy, { recursive: true });
    await breakIt(copy);
    const server = await startCacheServer(copy);
    server.fault = fault;
    const registry = await startRegistry({
      source: { kind: 'catalog', catalogs: [catalogFile], binaryCache: { url: server.url, trustedPublicKeys: [good.publicKey], retries: 1 } },
    });
    cleanups.push(async () => {
      await registry.close();
      await server.close();
      await rm(copy, { recursive: true, force: true });
    });
    return { registry, dir: copy, server };
  }

  async function getManifest(registry: RunningRegistry, name: string): Promise<{ status: number; body: ErrorBody | null; headers: Headers }> {
    const response = await fetch(`${registry.url}/v2/${name}/manifests/${EXAMPLE_REVISION}`, { signal: AbortSignal.timeout(120_000) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: response.status === 200 ? null : (JSON.parse(text) as ErrorBody) };
  }

  async function blobs(registry: RunningRegistry): Promise<string[]> {
    const root = join(registry.dataDir, 'storage', 'blobs', 'sha256');
    const found: string[] = [];
    for (const prefix of await readdir(root).catch(() => [] as string[])) {
      for (const name of await readdir(join(root, prefix))) found.push(name);
    }
    return found.sort();
  }

  async function expectFailure(registry: RunningRegistry, name: string, status: number, code: string, message: RegExp): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const result = await getManifest(registry, name);
      expect(result.status, JSON.stringify(result.body)).toBe(status);
      expect(result.body?.errors[0]?.code).toBe(code);
      expect(result.body?.errors[0]?.message).toMatch(message);
    }
  }

  const narFileOf = async (cacheDir: string, storePath: string) => {
    const narinfo = await readFile(join(cacheDir, `${storePath.slice(11, 43)}.narinfo`), 'utf8');
    return join(cacheDir, /^URL: (.*)$/m.exec(narinfo)?.[1] as string);
  };
  const editNarInfo = async (cacheDir: string, storePath: string, edit: (text: string) => string | Promise<string>) => {
    const file = join(cacheDir, `${storePath.slice(11, 43)}.narinfo`);
    await writeFile(file, await edit(await readFile(file, 'utf8')));
  };

  /** A case on `hello`: fails as expected, then works once the cache is repaired, having stored nothing extra. */
  async function helloCase(breakIt: (dir: string) => Promise<void>, status: number, code: string, message: RegExp, fault?: Fault): Promise<void> {
    const { registry, dir: copy, server } = await brokenSetup(breakIt, fault);
    await expectFailure(registry, 'hello', status, code, message);
    expect((await getManifest(registry, 'hello')).body?.errors[0]?.message).toContain(hello);
    const afterFailure = await blobs(registry);
    // Repair: the good cache's files, no fault.
    server.fault = undefined;
    await cp(good.dir, copy, { recursive: true, force: true });
    const repaired = await getManifest(registry, 'hello');
    expect(repaired.status).toBe(200);
    const afterSuccess = await blobs(registry);
    for (const blob of afterFailure) expect(afterSuccess).toContain(blob);
    expect(afterFailure.length).toBeLessThan(afterSuccess.length);
  }

  it('a corrupted NAR', async () => {
    await helloCase(async (copy) => {
      const file = await narFileOf(copy, hello);
      const bytes = await readFile(file);
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] = (bytes[middle] as number) ^ 0xff;
      await writeFile(file, bytes);
    }, 502, 'UNKNOWN', /FileHash|decompress|the NAR/);
  }, 120_000);

  it('a wrong NarHash (signed)', async () => {
    await helloCase(
      (copy) => editNarInfo(copy, hello, (text) => resignNarInfo(text.replace(/^NarHash: .*$/m, `NarHash: sha256:${encodeNix32(createHash('sha256').update('other').digest())}`), good.secretKeyFile)),
      502, 'UNKNOWN', /does not match its NarHash/,
    );
  }, 120_000);

  it('a missing narinfo', async () => {
    await helloCase((copy) => rm(join(copy, `${hello.slice(11, 43)}.narinfo`)), 502, 'UNKNOWN', /has no \/nix\/store/);
  }, 120_000);

  it('a bad signature', async () => {
    await helloCase((copy) => editNarInfo(copy, hello, (text) => text.replace(/^(Sig: [^:]+:)(.)/gm, (_all, prefix: string, first: string) => `${prefix}${first === 'A' ? 'B' : 'A'}`)), 502, 'UNKNOWN', /not trusted: its signature does not verify/);
  }, 120_000);

  it('a missing signature', async () => {
    await helloCase((copy) => editNarInfo(copy, hello, (text) => text.replace(/^Sig: .*\n/gm, '')), 502, 'UNKNOWN', /not trusted: it has no signature/);
  }, 120_000);

  it('a truncated NAR file', async () => {
    await helloCase(async (copy) => {
      const file = await narFileOf(copy, hello);
      const { length } = await readFile(file);
      await truncate(file, Math.floor(length / 2));
    }, 502, 'UNKNOWN', /FileSize|truncated/);
  }, 120_000);

  it('a download cut off in the middle (503, retried later)', async () => {
    let narUrl = '';
    await helloCase(
      async (copy) => {
        narUrl = (await narFileOf(copy, hello)).slice(copy.length + 1);
      },
      503,
      'UNAVAILABLE',
      /reading nar\/.*failed/,
      (_request, response, path) => {
        if (path !== narUrl) return false;
        void readFile(join(good.dir, narUrl)).then((bytes) => {
          response.writeHead(200, { 'content-length': String(bytes.length) });
          response.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
          setTimeout(() => response.destroy(), 10);
        });
        return true;
      },
    );
  }, 120_000);

  it('a narinfo declaring an absurd size', async () => {
    await helloCase((copy) => editNarInfo(copy, hello, (text) => resignNarInfo(text.replace(/^NarSize: .*$/m, 'NarSize: 999999999999999'), good.secretKeyFile)), 502, 'UNKNOWN', /NarSize 999999999999999 is above the limit/);
  }, 120_000);

  it.each([
    ['a ".." entry name', 'evil-dotdot', /invalid entry name "\.\."/],
    ['a "/" in an entry name', 'evil-slash', /invalid entry name "etc\/passwd"/],
    ['a symlink pointing outside the store', 'evil-symlink', /points outside \/nix\/store \("\/etc\/shadow"\)/],
  ])('a NAR with %s', async (_what, name, message) => {
    const { registry } = await brokenSetup(async () => undefined);
    await expectFailure(registry, name, 502, 'UNKNOWN', message);
    expect(await blobs(registry)).toEqual([]);
  }, 120_000);
});

/** Put a hand-made NAR into a cache directory with a narinfo signed by the cache's key. */
async function addCraftedPath(cache: ExampleCache, storePath: string, nar: Buffer): Promise<void> {
  const fileHash = encodeNix32(createHash('sha256').update(nar).digest());
  await writeFile(join(cache.dir, 'nar', `${fileHash}.nar`), nar);
  const text = [
    `StorePath: ${storePath}`,
    `URL: nar/${fileHash}.nar`,
    'Compression: none',
    `FileHash: sha256:${fileHash}`,
    `FileSize: ${nar.length}`,
    `NarHash: sha256:${fileHash}`,
    `NarSize: ${nar.length}`,
    'References: ',
    '',
  ].join('\n');
  await writeFile(join(cache.dir, `${storePath.slice(11, 43)}.narinfo`), await resignNarInfo(text, cache.secretKeyFile));
}
