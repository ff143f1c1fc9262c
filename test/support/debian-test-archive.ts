import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { createDebianSource } from '../../src/compose-debian.js';
import { parseConfig } from '../../src/config/load.js';
import type { DebianPackageSource } from '../../src/sources/debian/debian-package-source.js';
import { run } from './commands.js';
import { makeSigningKey, publishSuite, stanza, startFakeArchive, type FakeArchive, type TestSigningKey } from './debian-archive-fixtures.js';

/** A loopback archive and the throwaway key its suites are signed with. */
export interface SignedArchive {
  readonly archive: FakeArchive;
  readonly key: TestSigningKey;
  close(): Promise<void>;
}

/** The fake archive every Debian test over a signed loopback archive starts from. */
export async function startSignedArchive(): Promise<SignedArchive> {
  const key = await makeSigningKey();
  const archive = await startFakeArchive();
  return {
    archive,
    key,
    close: async () => {
      await archive.close();
      await key.cleanup();
    },
  };
}

/** A `.deb` to build: its control fields and the files of its data tar (path → content). */
export interface DebSpec {
  readonly name: string;
  readonly version: string;
  /** Extra control fields (Depends, Multi-Arch, ...), also written to the index stanza. */
  readonly fields?: Record<string, string>;
  readonly files: Record<string, string>;
}

/** Builds a real `.deb` with dpkg-deb (xz data tar unless told) under `work`. */
export async function buildDeb(work: string, spec: DebSpec, compression: 'xz' | 'zstd' | 'gzip' = 'xz'): Promise<string> {
  const root = await mkdtemp(join(work, `${spec.name}-`));
  await mkdir(join(root, 'DEBIAN'));
  const extra = Object.entries(spec.fields ?? {}).map(([field, value]) => `${field}: ${value}\n`).join('');
  await writeFile(
    join(root, 'DEBIAN/control'),
    `Package: ${spec.name}\nVersion: ${spec.version}\nArchitecture: amd64\nMaintainer: Test <t@example.invalid>\n${extra}Description: the ${spec.name} test package\n`,
  );
  for (const [path, content] of Object.entries(spec.files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const deb = join(work, `${spec.name}_${spec.version}_amd64.deb`);
  await run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, deb]);
  return deb;
}

/** The small package set the Debian source's contract line resolves: two tools sharing a library. */
export const TEST_DEBS: readonly DebSpec[] = [
  { name: 'greeter', version: '1.0-1', fields: { Depends: 'libgreet1 (>= 1.0)' }, files: { 'usr/bin/greeter': '#!/bin/sh\necho hello\n' } },
  { name: 'libgreet1', version: '1.2-1', fields: { 'Multi-Arch': 'same' }, files: { 'usr/lib/x86_64-linux-gnu/libgreet.so.1': 'not really a library\n' } },
  { name: 'other-tool', version: '2.0-1', fields: { Depends: 'libgreet1' }, files: { 'usr/bin/other-tool': '#!/bin/sh\necho other\n' } },
];

/**
 * Builds `debs`, puts them in the archive's pool and publishes them, signed, as `suite`
 * (main/amd64), with index stanzas whose Filename, Size and SHA256 are the real files'.
 */
export async function publishDebs(signed: SignedArchive, suite: string, debs: readonly DebSpec[], work: string): Promise<void> {
  const stanzas: string[] = [];
  for (const spec of debs) {
    const bytes = await readFile(await buildDeb(work, spec));
    const filename = `pool/main/${spec.name[0]}/${spec.name}/${spec.name}_${spec.version}_amd64.deb`;
    signed.archive.files.set(filename, bytes);
    stanzas.push(
      stanza(spec.name, spec.version, {
        ...spec.fields,
        Filename: filename,
        Size: String(bytes.length),
        SHA256: createHash('sha256').update(bytes).digest('hex'),
        'Installed-Size': '12',
      }),
    );
  }
  await publishSuite(signed.archive, signed.key, suite, stanzas.join('\n'));
}

/** A Debian source as the composition root makes it, over a loopback archive; `close` removes it all. */
export interface DebianTestSource {
  readonly source: DebianPackageSource;
  readonly signed: SignedArchive;
  close(): Promise<void>;
}

/**
 * The Debian source made by createDebianSource (as `source.kind: debian` makes it) from an apt
 * directory naming a signed loopback archive that holds `debs` as suite `stable`: verified
 * indexes, real `.deb` downloads and reads, nothing beyond 127.0.0.1.
 */
export async function startDebianTestSource(debs: readonly DebSpec[] = TEST_DEBS): Promise<DebianTestSource> {
  const work = await mkdtemp(join(tmpdir(), 'stowage-debian-source-'));
  const signed = await startSignedArchive();
  try {
    await publishDebs(signed, 'stable', debs, work);
    const aptDir = join(work, 'apt');
    await mkdir(join(aptDir, 'sources.list.d'), { recursive: true });
    await writeFile(join(aptDir, 'sources.list.d/test.sources'), `Types: deb\nURIs: ${signed.archive.url}\nSuites: stable\nComponents: main\nSigned-By: ${signed.key.keyring}\n`);
    const config = parseConfig({ source: { kind: 'debian', debian: { aptDir, cacheDir: join(work, 'cache'), retries: 0 } } });
    const source = await createDebianSource(config, work, pino({ level: 'silent' }));
    return {
      source,
      signed,
      close: async () => {
        await signed.close();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await signed.close();
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
