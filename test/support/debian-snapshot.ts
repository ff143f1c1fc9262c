import { parsePackages } from '../../src/sources/debian/archive/packages-parser.js';
import { buildSnapshot } from '../../src/sources/debian/archive/snapshot.js';
import type { SuiteIndex } from '../../src/sources/debian/archive/suite-index.js';
import type { DebianIndexSnapshot } from '../../src/sources/debian/types.js';
import { stanza } from './debian-archive-fixtures.js';

/** A package for `snapshotOf`: name, version and extra fields (Depends, Provides, Essential...). */
export type PackageSpec = readonly [name: string, version: string, fields?: Record<string, string>];

/** A snapshot built from in-memory stanzas, one list per suite in priority order. */
export async function snapshotOf(suites: Record<string, readonly PackageSpec[]>, revision = 'test'): Promise<DebianIndexSnapshot> {
  const indexes: SuiteIndex[] = [];
  for (const [suite, specs] of Object.entries(suites)) {
    const text = specs.map(([name, version, fields]) => stanza(name, version, fields)).join('\n');
    const packages = await parsePackages([Buffer.from(text)], { suite, archiveUrl: 'http://127.0.0.1:9/debian/' });
    indexes.push({
      archiveUrl: 'http://127.0.0.1:9/debian/',
      suite,
      architecture: 'amd64',
      release: { suite, codename: suite, date: null, validUntil: null, architectures: ['amd64'], components: ['main'], sha256: new Map(), acquireByHash: false },
      releaseSha256: suite,
      files: [{ path: 'main/binary-amd64/Packages', sha256: suite.padEnd(64, '0'), size: text.length }],
      packages,
    });
  }
  return buildSnapshot(revision, 'amd64', indexes);
}
