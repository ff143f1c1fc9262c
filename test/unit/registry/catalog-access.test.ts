import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../../src/app.js';
import { parseConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { filteredPage } from '../../../src/storage/sorted-page.js';
import { FakePackageSource } from '../../support/fake-source.js';
import { OCI_MANIFEST, smallImage } from '../../support/push-image.js';

const basic = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:pw-${user}`).toString('base64')}` });

const RULES: ConfigInput['auth'] = {
  groups: { 'team-a': ['alice'] },
  access: [
    { repository: 'team-a/**', groups: ['team-a'], actions: ['push'] },
    { repository: 'shared/*', users: ['*'], actions: ['push'] },
    // A built image only alice may pull (when anonymous pulls are off).
    { repository: 'extra', users: ['alice'], actions: ['pull'] },
  ],
};
// Private names sorting between the readable ones, so pages must skip them.
const PUSHED: Array<[string, string]> = [
  ['alice', 'shared/a'],
  ['alice', 'team-a/app'],
  ['alice', 'team-a/lib'],
  ['carol', 'shared/b'],
  ['alice', 'team-a/zed'],
  ['carol', 'shared/c'],
];

describe.each([false, true])('the catalog and the UI lists with auth.access rules, anonymousPull=%s', (anonymousPull) => {
  let app: App;
  const inject = (url: string, headers: Record<string, string> = {}) => app.server.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'policy-catalog-')), 'htpasswd');
    await writeFile(file, ['alice', 'carol'].map((name) => `${name}:${bcrypt.hashSync(`pw-${name}`, 4)}\n`).join(''));
    const config = parseConfig({ dataDir: await mkdtemp(join(tmpdir(), 'policy-catalog-')), logLevel: 'silent', source: { kind: 'nix', shellPackages: ['minishell'] }, auth: { htpasswdFile: file, anonymousPull, ...RULES } });
    app = await buildApp(config, { source: await FakePackageSource.create(), blobs: new MemoryBlobStore(), metadata: new MemoryMetadataStore(), logger: pino({ level: 'silent' }) });
    for (const [user, name] of PUSHED) {
      const { blobs, manifest } = smallImage({ configBytes: 10, layerBytes: 10, architecture: 'amd64' });
      for (const blob of blobs) {
        const upload = await app.server.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/?digest=${sha256Digest(blob)}`, headers: { ...basic(user), 'content-type': 'application/octet-stream' }, payload: blob });
        expect(upload.statusCode, name).toBe(201);
      }
      const put = await app.server.inject({ method: 'PUT', url: `/v2/${name}/manifests/v1`, headers: { ...basic(user), 'content-type': OCI_MANIFEST }, payload: manifest });
      expect(put.statusCode, name).toBe(201);
    }
    for (const built of ['tool', 'extra']) expect((await inject(`/v2/${built}/manifests/latest`, basic('alice'))).statusCode, built).toBe(200);
  });

  /** Every name of the catalog, following Link headers from `?n=<n>`; no page or Link names what `hidden` matches. */
  async function walk(headers: Record<string, string>, n: number): Promise<string[]> {
    const seen: string[] = [];
    let url: string | null = `/v2/_catalog?n=${n}`;
    for (let pages = 0; url !== null && pages < 50; pages += 1) {
      const page = await inject(url, headers);
      expect(page.statusCode).toBe(200);
      const { repositories } = page.json() as { repositories: string[] };
      expect(repositories.length).toBeLessThanOrEqual(n);
      seen.push(...repositories);
      const link = page.headers.link;
      url = typeof link === 'string' ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? null) : null;
      if (url !== null) expect(repositories.length, 'a page with a next link is full').toBe(n);
      if (url !== null) expect(new URL(url, 'http://x').searchParams.get('last')).toBe(repositories[repositories.length - 1]);
    }
    return seen;
  }

  const everything = ['extra', 'shared/a', 'shared/b', 'shared/c', 'team-a/app', 'team-a/lib', 'team-a/zed', 'tool'];
  // Carol reads shared/* and tool; team-a and extra are named by rules that do not list her.
  const carols = anonymousPull ? everything : ['shared/a', 'shared/b', 'shared/c', 'tool'];

  it('lists to each caller only the names they may pull, over every page size', async () => {
    expect((await inject('/v2/_catalog', basic('alice'))).json()).toEqual({ repositories: everything });
    expect((await inject('/v2/_catalog', basic('carol'))).json()).toEqual({ repositories: carols });
    for (const n of [1, 2, 3, 7]) expect(await walk(basic('carol'), n), `n=${n}`).toEqual(carols);
    expect(await walk(basic('alice'), 3)).toEqual(everything);
    // A token's user sees what the user sees.
    const token = (await inject(`/token?service=stowage&scope=${encodeURIComponent('registry:catalog:*')}`, basic('carol'))).json() as { token: string };
    expect((await inject('/v2/_catalog', { authorization: `Bearer ${token.token}` })).json()).toEqual({ repositories: carols });
    const anonymous = await inject('/v2/_catalog');
    if (anonymousPull) expect(anonymous.json()).toEqual({ repositories: everything });
    else expect(anonymous.statusCode).toBe(401);
  });

  it('starts after `last` even when `last` is a name the caller may not read', async () => {
    expect((await inject('/v2/_catalog?last=team-a/app', basic('carol'))).json()).toEqual({ repositories: carols.filter((name) => name > 'team-a/app') });
    expect((await inject('/v2/_catalog?n=1&last=shared/c', basic('carol'))).json()).toEqual({ repositories: [anonymousPull ? 'team-a/app' : 'tool'] });
  });

  it('shows the UI the same: repository and image lists, and no page of a repository the caller may not pull', async () => {
    const pushed = (headers: Record<string, string>) => inject('/api/v1/repositories', headers).then((response) => response.json() as { repositories: string[] });
    expect((await pushed(basic('carol'))).repositories).toEqual(carols.filter((name) => name.includes('/')));
    expect((await pushed(basic('alice'))).repositories).toEqual(everything.filter((name) => name.includes('/')));
    const images = (await inject('/api/v1/images', basic('carol'))).json() as { images: string[] };
    expect(images.images.some((image) => image.startsWith('tool'))).toBe(true);
    expect(images.images.some((image) => image.startsWith('extra'))).toBe(anonymousPull);
    for (const url of ['/api/v1/repositories/team-a/app', '/api/v1/images/team-a/app', '/api/v1/repositories/team-a/nothing']) {
      expect((await inject(url, basic('carol'))).statusCode, url).toBe(anonymousPull ? (url.includes('nothing') ? 404 : 200) : 403);
    }
    expect((await inject('/api/v1/repositories/team-a/app', basic('alice'))).statusCode).toBe(200);
  });
});

describe('filteredPage', () => {
  const all = Array.from({ length: 20 }, (_, i) => `r${String(i).padStart(2, '0')}`);
  let reads = 0;
  const names = async (after: string | undefined, limit: number) => {
    reads += 1;
    return all.filter((name) => after === undefined || name > after).slice(0, limit);
  };
  const even = (name: string) => Number(name.slice(1)) % 2 === 0;

  it('fills a page across chunks of the store, skipping what the caller may not read', async () => {
    for (const chunk of [1, 2, 3, 7, 1000]) {
      reads = 0;
      expect(await filteredPage(names, undefined, 4, even, chunk), `chunk ${chunk}`).toEqual(['r00', 'r02', 'r04', 'r06']);
      expect(await filteredPage(names, 'r05', 3, even, chunk)).toEqual(['r06', 'r08', 'r10']);
      expect(await filteredPage(names, 'r15', 9, even, chunk)).toEqual(['r16', 'r18']);
      expect(await filteredPage(names, undefined, 5, () => false, chunk)).toEqual([]);
      expect(reads, `chunk ${chunk}: the store is read a chunk at a time`).toBeLessThanOrEqual(4 * (Math.ceil(21 / chunk) + 1));
    }
  });
});
