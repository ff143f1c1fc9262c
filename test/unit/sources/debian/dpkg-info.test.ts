import { describe, expect, it } from 'vitest';
import { dpkgInfoEntries, dpkgInfoName, dpkgListText } from '../../../../src/sources/debian/dpkg-info.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';

const pkg = (name: string, multiArch = ''): DebianPackage => ({
  name, version: '1.0-1', architecture: 'amd64', filename: '', sha256: '', size: 0, installedSize: 0, depends: '', preDepends: '', provides: '', essential: false,
  priority: 'optional', section: 'misc', description: '', multiArch, source: '', homepage: '', suite: 'bookworm', archiveUrl: '',
});

describe("dpkg's info files", () => {
  it('lists tar members as dpkg does: /. first, absolute, no trailing slash, each once', () => {
    expect(dpkgListText(['./', './bin/', './bin/bash', './usr/share/doc/bash/', './bin/'])).toBe('/.\n/bin\n/bin/bash\n/usr/share/doc/bash\n');
    // A tar without its root entry still gets the /. line dpkg always writes.
    expect(dpkgListText(['usr/', 'usr/bin/x'])).toBe('/.\n/usr\n/usr/bin/x\n');
  });

  it('names Multi-Arch: same packages with their architecture', () => {
    expect(dpkgInfoName(pkg('libc6', 'same'))).toBe('libc6:amd64');
    expect(dpkgInfoName(pkg('bash', 'foreign'))).toBe('bash');
  });

  it('writes .list always and .md5sums only when the package ships one', async () => {
    const entries = dpkgInfoEntries(pkg('bash'), ['./', './bin/bash'], 'abc  bin/bash\n');
    expect(entries.map((entry) => entry.path)).toEqual(['var/lib/dpkg/info/bash.list', 'var/lib/dpkg/info/bash.md5sums']);
    const md5 = entries[1];
    const chunks: Buffer[] = [];
    if (md5?.kind === 'file') for await (const chunk of md5.open() as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('abc  bin/bash\n');
    expect(md5?.kind === 'file' ? md5.size : 0).toBe(14);
    expect(dpkgInfoEntries(pkg('x'), [], null).map((entry) => entry.path)).toEqual(['var/lib/dpkg/info/x.list']);
  });
});
