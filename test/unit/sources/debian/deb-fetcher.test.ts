import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpDebFetcher, type HttpGet } from '../../../../src/sources/debian/deb-fetcher.js';
import { SourceIntegrityError, SourceUnavailableError } from '../../../../src/sources/errors.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';

const ARCHIVE = 'http://archive.invalid/debian/';
const BYTES = Buffer.from('!<arch>\n' + 'x'.repeat(5000));

function pkg(bytes: Buffer = BYTES, name = 'hello'): DebianPackage {
  return {
    name, version: '1.0-1', architecture: 'amd64', filename: `pool/main/h/${name}/${name}_1.0-1_amd64.deb`,
    sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, installedSize: 10_240,
    depends: '', preDepends: '', provides: '', essential: false, priority: 'optional', section: 'misc',
    description: 'test', multiArch: '', source: '', homepage: '', suite: 'bookworm', archiveUrl: ARCHIVE,
  };
}

/** A fake archive: answers from `respond`, counting requests per URL. */
function archive(respond: (url: string, attempt: number) => Response | Promise<Response>): { get: HttpGet; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    get: async (url) => {
      requests.push(url);
      return respond(url, requests.filter((seen) => seen === url).length);
    },
  };
}

/** A response whose body stops after `cut` bytes with an error, as a dropped connection does. */
function cutOff(bytes: Buffer, cut: number): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, cut));
      controller.error(new Error('socket hang up'));
    },
  });
  return new Response(stream, { status: 200 });
}

describe('HttpDebFetcher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-debs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fetcher = (get: HttpGet, retries = 2) => new HttpDebFetcher({ dir, concurrency: 2, retries, timeoutMs: 5_000, backoffMs: 1, maxBytes: 1024 ** 3, get });
  const cached = async () => (await readdir(join(dir, 'sha256'), { recursive: true }).catch(() => [] as string[])).filter((name) => name.endsWith('.deb'));

  it('downloads once, verifies, and serves later opens from the cache', async () => {
    const fake = archive(() => new Response(BYTES));
    const debs = fetcher(fake.get);
    const path = await debs.fetch(pkg());
    expect(await readFile(path)).toEqual(BYTES);
    await debs.fetch(pkg());
    const chunks: Buffer[] = [];
    for await (const chunk of await debs.open(pkg())) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(BYTES);
    expect(fake.requests).toEqual([`${ARCHIVE}pool/main/h/hello/hello_1.0-1_amd64.deb`]);
  });

  it('fetches each .deb once for concurrent requests', async () => {
    const fake = archive(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response(BYTES);
    });
    const debs = fetcher(fake.get);
    const paths = await Promise.all(Array.from({ length: 8 }, () => debs.fetch(pkg())));
    expect(new Set(paths).size).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('refuses bytes whose hash differs from the index, storing nothing', async () => {
    const tampered = Buffer.from(BYTES);
    tampered[100] = 0x79;
    const fake = archive(() => new Response(tampered));
    const error = await fetcher(fake.get).fetch(pkg()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceIntegrityError);
    expect((error as Error).message).toContain('SHA256');
    // An integrity failure is not retried: the archive's answer is wrong, not flaky.
    expect(fake.requests).toHaveLength(1);
    expect(await cached()).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a body longer than the index says', async () => {
    const fake = archive(() => new Response(Buffer.concat([BYTES, Buffer.from('extra')])));
    await expect(fetcher(fake.get).fetch(pkg())).rejects.toBeInstanceOf(SourceIntegrityError);
    expect(await cached()).toEqual([]);
  });

  it('retries a download cut off mid-way, then succeeds', async () => {
    const fake = archive((_url, attempt) => (attempt === 1 ? cutOff(BYTES, 1000) : new Response(BYTES)));
    const path = await fetcher(fake.get).fetch(pkg());
    expect(await readFile(path)).toEqual(BYTES);
    expect(fake.requests).toHaveLength(2);
  });

  it('names the archive as unavailable when every attempt fails, storing nothing', async () => {
    const fake = archive((_url, attempt) => (attempt % 2 === 0 ? new Response('busy', { status: 503 }) : cutOff(BYTES, 10)));
    const error = await fetcher(fake.get, 2).fetch(pkg()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as SourceUnavailableError).detail.upstream).toBe(ARCHIVE);
    expect(fake.requests).toHaveLength(3);
    expect(await cached()).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('keeps at most `concurrency` downloads in flight', async () => {
    let active = 0;
    let most = 0;
    const fake = archive(async (url) => {
      active++;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 10));
      active--;
      return new Response(Buffer.from(`!<arch>\n${url}`));
    });
    const debs = fetcher(fake.get);
    const packages = Array.from({ length: 6 }, (_, i) => {
      const name = `p${i}`;
      const bytes = Buffer.from(`!<arch>\n${ARCHIVE}pool/main/h/${name}/${name}_1.0-1_amd64.deb`);
      return pkg(bytes, name);
    });
    await Promise.all(packages.map((item) => debs.fetch(item)));
    expect(fake.requests).toHaveLength(6);
    expect(most).toBe(2);
  });
});
