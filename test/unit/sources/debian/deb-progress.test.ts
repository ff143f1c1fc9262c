import { describe, expect, it } from 'vitest';
import { describeDeb, reportingDebFiles } from '../../../../src/sources/debian/deb-progress.js';
import type { SourceProgress } from '../../../../src/sources/types.js';
import type { DebianPackage } from '../../../../src/sources/debian/types.js';

const git = { name: 'git', version: '1:2.39.5-0+deb12u2', architecture: 'amd64', size: 7_445_000, sha256: 'a'.repeat(64) } as DebianPackage;
const tiny = { name: 'tzdata', version: '2024a-0+deb12u1', architecture: 'all', size: 300, sha256: 'b'.repeat(64) } as DebianPackage;

describe('reportingDebFiles', () => {
  it('reports each package the first time it is fetched and when it is ready, and nothing for repeats', async () => {
    const events: SourceProgress[] = [];
    const fetched: string[] = [];
    const files = reportingDebFiles({ fetch: async (pkg) => (fetched.push(pkg.name), `/cache/${pkg.name}.deb`) }, (event) => events.push(event));
    expect(await files.fetch(git)).toBe('/cache/git.deb');
    await files.fetch(git);
    await files.fetch(tiny);
    expect(fetched).toEqual(['git', 'git', 'tzdata']);
    expect(events).toEqual([
      { kind: 'download', text: 'fetching git 1:2.39.5-0+deb12u2 (amd64, 7.1 MiB)' },
      { kind: 'log', text: 'git 1:2.39.5-0+deb12u2 is ready' },
      { kind: 'download', text: 'fetching tzdata 2024a-0+deb12u1 (all, 1 KiB)' },
      { kind: 'log', text: 'tzdata 2024a-0+deb12u1 is ready' },
    ]);
  });

  it('passes a failed fetch on without saying the package is ready', async () => {
    const events: SourceProgress[] = [];
    const files = reportingDebFiles({ fetch: async () => Promise.reject(new Error('archive down')) }, (event) => events.push(event));
    await expect(files.fetch(git)).rejects.toThrow('archive down');
    expect(events.map((event) => event.kind)).toEqual(['download']);
  });

  it('describes a .deb by name, version, architecture and size', () => {
    expect(describeDeb({ ...git, size: 2 * 1024 * 1024 })).toBe('git 1:2.39.5-0+deb12u2 (amd64, 2.0 MiB)');
  });
});
