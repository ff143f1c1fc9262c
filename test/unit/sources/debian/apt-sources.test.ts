import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDeb822Sources, parseOneLineSources, readAptSources } from '../../../../src/sources/debian/archive/apt-sources.js';

describe('apt sources', () => {
  it('parses deb822 paragraphs, skipping deb-src, disabled entries and comments', () => {
    const text = [
      'Types: deb deb-src',
      '# a comment',
      'URIs: http://127.0.0.1:9/debian http://127.0.0.2/mirror/',
      'Suites: bookworm bookworm-updates',
      'Components: main contrib',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb-src',
      'URIs: http://127.0.0.1:9/src',
      'Suites: bookworm',
      'Components: main',
      '',
      'Types: deb',
      'Enabled: no',
      'URIs: http://127.0.0.1:9/off',
      'Suites: bookworm',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://127.0.0.1:9/inline',
      'Suites: sid',
      'Components: main',
      'Architectures: amd64 arm64',
      'Signed-By:',
      ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
      ' .',
      ' -----END PGP PUBLIC KEY BLOCK-----',
    ].join('\n');
    const sources = parseDeb822Sources(text, 'x.sources');
    expect(sources.map((s) => s.uri)).toEqual(['http://127.0.0.1:9/debian/', 'http://127.0.0.2/mirror/', 'http://127.0.0.1:9/inline/']);
    expect(sources[0]).toEqual({
      uri: 'http://127.0.0.1:9/debian/',
      suites: ['bookworm', 'bookworm-updates'],
      components: ['main', 'contrib'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
      architectures: [],
      origin: 'x.sources',
    });
    expect(sources[2]?.signedBy).toBeNull();
    expect(sources[2]?.architectures).toEqual(['amd64', 'arm64']);
  });

  it('parses one-line entries with options', () => {
    const text = [
      '# comment',
      'deb [arch=amd64,arm64 signed-by=/k.gpg] http://127.0.0.1:9/debian bookworm main non-free',
      'deb-src http://127.0.0.1:9/debian bookworm main',
      'deb http://127.0.0.1:9/security bookworm-security main # trailing',
    ].join('\n');
    expect(parseOneLineSources(text, 'sources.list')).toEqual([
      { uri: 'http://127.0.0.1:9/debian/', suites: ['bookworm'], components: ['main', 'non-free'], signedBy: '/k.gpg', architectures: ['amd64', 'arm64'], origin: 'sources.list' },
      { uri: 'http://127.0.0.1:9/security/', suites: ['bookworm-security'], components: ['main'], signedBy: null, architectures: [], origin: 'sources.list' },
    ]);
  });

  it('reads sources.list then sources.list.d in name order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-apt-'));
    try {
      await mkdir(join(dir, 'sources.list.d'));
      await writeFile(join(dir, 'sources.list'), 'deb http://127.0.0.1:9/a a main\n');
      await writeFile(join(dir, 'sources.list.d', 'b.sources'), 'Types: deb\nURIs: http://127.0.0.1:9/b\nSuites: b\nComponents: main\n');
      await writeFile(join(dir, 'sources.list.d', 'a.list'), 'deb http://127.0.0.1:9/c c main\n');
      await writeFile(join(dir, 'sources.list.d', 'ignored.txt'), 'deb http://127.0.0.1:9/d d main\n');
      expect((await readAptSources(dir)).map((s) => s.suites[0])).toEqual(['a', 'c', 'b']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds the Debian archive in this machine\'s apt sources', async () => {
    const sources = await readAptSources();
    const suites = sources.flatMap((s) => s.suites);
    expect(suites).toEqual(expect.arrayContaining(['bookworm', 'bookworm-updates', 'bookworm-security']));
    for (const source of sources) expect(source.uri).toMatch(/^https?:\/\/.+\/$/);
  });
});
