import { describe, expect, it } from 'vitest';
import { PackagesFormatError, PackagesParser, parsePackages } from '../../../../src/sources/debian/archive/packages-parser.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';
import { stanza } from '../../../support/debian-archive-fixtures.js';

const context = { suite: 'bookworm', archiveUrl: 'http://127.0.0.1:9/debian/' };

async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('Packages parsing', () => {
  const text = [
    stanza('git', '1:2.39.5-0+deb12u2', {
      Depends: 'libc6 (>= 2.34), libcurl3-gnutls (>= 7.56.1),\n perl',
      'Pre-Depends': 'dpkg (>= 1.15)',
      Provides: 'git-core',
      'Multi-Arch': 'foreign',
      Source: 'git (1:2.39.5-0+deb12u2)',
      Homepage: 'http://127.0.0.1/git',
      Tag: 'devel::rcs,\n role::program',
      'Installed-Size': '44000',
    }),
    stanza('bash', '5.2.15-2+b13', { Essential: 'yes', Priority: 'required', Description: 'GNU Bourne Again SHell – ünïcode' }),
  ].join('\n');

  it('keeps the fields stowage uses, in bytes and first lines, whatever the chunking', async () => {
    for (const size of [1, 7, 64, 1 << 20]) {
      const packages = await parsePackages(chunked(text, size), context);
      expect(packages.map((p) => p.name)).toEqual(['git', 'bash']);
      const git = packages[0] as DebianPackage;
      expect(git.version).toBe('1:2.39.5-0+deb12u2');
      expect(git.installedSize).toBe(44000 * 1024);
      expect(git.depends).toBe('libc6 (>= 2.34), libcurl3-gnutls (>= 7.56.1), perl');
      expect(git.preDepends).toBe('dpkg (>= 1.15)');
      expect(git.provides).toBe('git-core');
      expect(git.description).toBe('the git package');
      expect(git.multiArch).toBe('foreign');
      expect(git.source).toBe('git (1:2.39.5-0+deb12u2)');
      expect(git.essential).toBe(false);
      expect(git.suite).toBe('bookworm');
      expect(git.archiveUrl).toBe(context.archiveUrl);
      expect(git.filename).toBe('pool/main/g/git/git_1:2.39.5-0+deb12u2_amd64.deb');
      expect(git.sha256).toMatch(/^[0-9a-f]{64}$/);
      const bash = packages[1] as DebianPackage;
      expect(bash.essential).toBe(true);
      expect(bash.priority).toBe('required');
      expect(bash.description).toBe('GNU Bourne Again SHell – ünïcode');
      expect(bash.depends).toBe('');
    }
  });

  it('shares repeated values between records', async () => {
    const packages = await parsePackages(chunked(`${stanza('a', '1')}\n${stanza('b', '1')}`, 5), context);
    expect(packages[0]?.section).toBe('utils');
    expect(Object.is(packages[0]?.architecture, packages[1]?.architecture)).toBe(true);
  });

  it('emits a last stanza without a trailing newline and tolerates CRLF', async () => {
    const packages = await parsePackages(chunked(stanza('a', '1').replace(/\n/g, '\r\n').trimEnd(), 3), context);
    expect(packages.map((p) => [p.name, p.version])).toEqual([['a', '1']]);
  });

  it('refuses stanzas without hashes or with unsafe file names', () => {
    const refuse = (text: string): unknown => {
      const parser = new PackagesParser(context, () => undefined);
      try {
        parser.push(Buffer.from(text));
        parser.end();
      } catch (error) {
        return error;
      }
      return null;
    };
    expect(refuse(stanza('a', '1', { SHA256: 'abc' }))).toBeInstanceOf(PackagesFormatError);
    expect(refuse('Package: a\nVersion: 1\nArchitecture: amd64\nFilename: x.deb\nSize: 1\n')).toMatchObject({ message: expect.stringMatching(/"a".*no SHA256/) });
    expect(refuse(stanza('a', '1', { Filename: '../../etc/passwd' }))).toMatchObject({ message: expect.stringMatching(/unsafe Filename/) });
    expect(refuse(stanza('a', '1', { Size: '-1' }))).toMatchObject({ message: expect.stringMatching(/Size/) });
    expect(refuse('garbage line\n')).toBeInstanceOf(PackagesFormatError);
  });
});
