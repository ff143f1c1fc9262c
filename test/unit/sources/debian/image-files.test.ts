import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { debianTopLayer } from '../../../../src/sources/debian/image-files.js';
import { debianPathOf } from '../../../../src/sources/debian/package-path.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';
import type { RootFsEntry, RootFsReader } from '../../../../src/sources/types.js';

function pkg(name: string, fields: Partial<DebianPackage> = {}): DebianPackage {
  return {
    name, version: '1.0-1', architecture: 'amd64', filename: '', sha256: '', size: 0, installedSize: 2048, depends: '', preDepends: '', provides: '', essential: false,
    priority: 'optional', section: 'misc', description: `the ${name} package`, multiArch: '', source: '', homepage: '', suite: 'bookworm', archiveUrl: '', ...fields,
  };
}

/** A reader over in-memory package trees: path → file contents (or null for a directory). */
function reader(trees: Record<string, Record<string, string | null>>): RootFsReader {
  return {
    async *entries(path: string): AsyncGenerator<RootFsEntry> {
      for (const [name, content] of Object.entries(trees[path] ?? {})) {
        if (content === null) yield { kind: 'directory', path: name, mode: 0o755, uid: 0, gid: 0 };
        else yield { kind: 'file', path: name, mode: 0o644, uid: 0, gid: 0, size: content.length, open: () => Readable.from([Buffer.from(content)]) };
      }
    },
  };
}

const certs = { 'usr/share/ca-certificates': null, 'usr/share/ca-certificates/mozilla/B.crt': '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----', 'usr/share/ca-certificates/mozilla/A.crt': '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n', 'usr/share/doc/x': 'no' };
const packages = [pkg('ca-certificates'), pkg('mawk'), pkg('gawk'), pkg('base-passwd'), pkg('bash'), pkg('jq')];
const trees: Record<string, Record<string, string | null>> = {
  [debianPathOf(pkg('ca-certificates'))]: certs,
  [debianPathOf(pkg('base-passwd'))]: { 'usr/share/base-passwd/passwd.master': 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n', 'usr/share/base-passwd/group.master': 'root:x:0:\nstaff:x:50:\n' },
  [debianPathOf(pkg('jq'))]: { 'usr/bin': null, 'usr/bin/jq': 'elf' },
};
const control = async (p: DebianPackage) => `Package: ${p.name}\nVersion: ${p.version}\nMaintainer: Someone <s@example.invalid>\nDescription: ${p.description}\n more\n`;
const plan = (roots: string[], shell: boolean) => debianTopLayer({ packages, roots, reader: reader(trees), control, architecture: 'amd64', shell, signal: new AbortController().signal });
const file = (entries: Awaited<ReturnType<typeof plan>>['entries'], path: string) => entries.find((entry) => entry.path === path);

describe('the Debian top layer', () => {
  it('writes dpkg status stanzas from control files, sorted, installed', async () => {
    const top = await plan(['jq'], false);
    const status = file(top.entries, 'var/lib/dpkg/status');
    const text = status?.kind === 'file' ? status.content : '';
    expect(text.split('\n\n').map((stanza) => stanza.split('\n')[0])).toEqual(['base-passwd', 'bash', 'ca-certificates', 'gawk', 'jq', 'mawk'].map((name) => `Package: ${name}`));
    expect(text).toContain('Package: jq\nStatus: install ok installed\nVersion: 1.0-1\nMaintainer: Someone <s@example.invalid>\nDescription: the jq package\n more\n');
    // Format 1 (multiarch): dpkg reads Multi-Arch: same packages' files as libc6:amd64.list.
    expect(file(top.entries, 'var/lib/dpkg/info/format')).toEqual({ kind: 'file', path: 'var/lib/dpkg/info/format', mode: 0o644, content: '1\n' });
  });

  it('assembles the CA bundle in sorted order from the certificates only', async () => {
    const bundle = file((await plan(['jq'], false)).entries, 'etc/ssl/certs/ca-certificates.crt');
    expect(bundle?.kind === 'file' ? bundle.content : '').toBe('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n');
    const conf = file((await plan(['jq'], false)).entries, 'etc/ca-certificates.conf');
    expect(conf?.kind === 'file' ? conf.content.split('\n').slice(1, 3) : []).toEqual(['mozilla/A.crt', 'mozilla/B.crt']);
  });

  it('links alternatives to the highest-priority candidate and takes accounts from base-passwd', async () => {
    const top = await plan(['jq'], false);
    expect(file(top.entries, 'etc/alternatives/awk')).toEqual({ kind: 'symlink', path: 'etc/alternatives/awk', target: '/usr/bin/gawk' });
    expect(file(top.entries, 'usr/bin/awk')).toEqual({ kind: 'symlink', path: 'usr/bin/awk', target: '/etc/alternatives/awk' });
    expect(file(top.entries, 'etc/alternatives/editor')).toBeUndefined();
    const passwd = file(top.entries, 'etc/passwd');
    expect(passwd?.kind === 'file' ? passwd.content : '').toContain('daemon:x:1:1');
    expect(file(top.entries, 'bin')).toEqual({ kind: 'symlink', path: 'bin', target: 'usr/bin' });
    expect(file(top.entries, 'etc/os-release')).toMatchObject({ kind: 'file' });
  });

  it('runs the shell, else the one package program, else nothing', async () => {
    expect((await plan(['jq'], true)).cmd).toEqual(['/bin/bash']);
    expect((await plan(['jq'], false)).cmd).toEqual(['/usr/bin/jq']);
    expect((await plan(['mawk'], false)).cmd).toBeNull();
    expect((await plan(['jq', 'mawk'], false)).cmd).toBeNull();
    expect((await plan(['jq'], false)).env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });
});
