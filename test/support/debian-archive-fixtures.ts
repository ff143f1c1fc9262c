import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** A throwaway OpenPGP key made with gpg, and its public keyring for gpgv. */
export interface TestSigningKey {
  readonly home: string;
  readonly keyring: string;
  clearsign(text: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

/** How to make a test key; the defaults make a sound ed25519 key that never expires. */
export interface SigningKeyOptions {
  readonly uid?: string;
  readonly algorithm?: string;
  /** gpg expiry (`never`, `1d`, ...). */
  readonly expire?: string;
  /** gpg `--faked-system-time` for making the key and signing (`20200101T000000!`). */
  readonly fakedTime?: string;
  /** gpg `--digest-algo` for signatures. */
  readonly digest?: string;
}

/** Makes a key without a passphrase in a private GNUPGHOME. */
export async function makeSigningKey(options: SigningKeyOptions | string = {}): Promise<TestSigningKey> {
  const o: SigningKeyOptions = typeof options === 'string' ? { uid: options } : options;
  const uid = o.uid ?? 'Stowage Test Archive Key';
  const home = await mkdtemp(join(tmpdir(), 'stowage-gpg-'));
  const env = { ...process.env, GNUPGHOME: home };
  const base = ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...(o.fakedTime ? ['--faked-system-time', o.fakedTime] : [])];
  await run('gpg', [...base, '--quick-generate-key', uid, o.algorithm ?? 'ed25519', 'sign', o.expire ?? 'never'], { env });
  const keyring = join(home, 'archive-keyring.gpg');
  await run('gpg', ['--batch', '--output', keyring, '--export', uid], { env });
  return {
    home,
    keyring,
    async clearsign(text: string): Promise<Buffer> {
      const input = join(home, `input-${Math.random().toString(16).slice(2)}`);
      await writeFile(input, text);
      await run('gpg', [...base, '--yes', ...(o.digest ? ['--digest-algo', o.digest] : []), '--clearsign', '--output', `${input}.asc`, input], { env });
      return readFile(`${input}.asc`);
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

/** A stanza with the fields the parser needs; `extra` lines are appended verbatim. */
export function stanza(name: string, version: string, extra: Record<string, string> = {}): string {
  const sha = createHash('sha256').update(`${name}_${version}`).digest('hex');
  const fields: Record<string, string> = {
    Package: name,
    Version: version,
    'Installed-Size': '10',
    Architecture: 'amd64',
    Filename: `pool/main/${name[0]}/${name}/${name}_${version}_amd64.deb`,
    Size: '1000',
    SHA256: sha,
    Section: 'utils',
    Priority: 'optional',
    Description: `the ${name} package\n more text that is dropped`,
    ...extra,
  };
  return `${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
}

/** A Release text listing `files` (path below dists/<suite>/ → bytes). */
export function releaseText(suite: string, files: ReadonlyMap<string, Buffer>, extra: Record<string, string> = {}): string {
  const lines = [...files].map(([path, bytes]) => ` ${createHash('sha256').update(bytes).digest('hex')} ${String(bytes.length).padStart(8)} ${path}`);
  const fields = { Suite: suite, Codename: suite, Date: 'Sat, 11 Jul 2026 10:16:37 UTC', Architectures: 'amd64', Components: 'main', ...extra };
  return `${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\nSHA256:\n${lines.join('\n')}\n`;
}

/** A loopback archive: serves a mutable path → bytes map and counts requests per path. */
export interface FakeArchive {
  readonly url: string;
  readonly files: Map<string, Buffer>;
  readonly requests: Map<string, number>;
  /** Paths answered with this status instead of their file. */
  readonly failures: Map<string, number>;
  close(): Promise<void>;
}

export async function startFakeArchive(): Promise<FakeArchive> {
  const files = new Map<string, Buffer>();
  const requests = new Map<string, number>();
  const failures = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname).replace(/^\/archive\//, '');
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const failure = failures.get(path);
    const body = files.get(path);
    if (failure !== undefined) {
      res.writeHead(failure).end();
    } else if (body === undefined) {
      res.writeHead(404).end();
    } else {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/archive/`,
    files,
    requests,
    failures,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Publishes a signed suite with one gzip Packages file for main/amd64. */
export async function publishSuite(archive: FakeArchive, key: TestSigningKey, suite: string, packagesText: string, extra: Record<string, string> = {}): Promise<Buffer> {
  const packages = gzipSync(Buffer.from(packagesText));
  archive.files.set(`dists/${suite}/main/binary-amd64/Packages.gz`, packages);
  const listed = new Map([['main/binary-amd64/Packages.gz', packages]]);
  const signed = await key.clearsign(releaseText(suite, listed, extra));
  archive.files.set(`dists/${suite}/InRelease`, signed);
  return packages;
}
