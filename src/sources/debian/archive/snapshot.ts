import { createHash } from 'node:crypto';
import { parseProvides } from '../resolve/relations.js';
import { compareVersions } from '../resolve/version.js';
import type { DebianIndexSnapshot, DebianPackage } from '../types.js';
import type { SuiteIndex } from './suite-index.js';

/**
 * Identity of the indexes behind a snapshot: the SHA256 of the list of its Packages files
 * (suite, path and SHA256 each, in the revision's suite order). Equal fingerprints mean the
 * same candidates; a security update changes it. The revision's name is not part of it, so
 * two tags that happen to select the same files have the same fingerprint.
 */
export function snapshotFingerprint(suites: readonly SuiteIndex[]): string {
  const hash = createHash('sha256');
  for (const suite of suites) {
    for (const file of suite.files) hash.update(`${suite.archiveUrl} ${suite.suite} ${file.path} ${file.sha256}\n`);
  }
  return hash.digest('hex');
}

/**
 * Merges verified suite indexes, given in the revision's suite order, into one snapshot for
 * `architecture`: stanzas of that architecture and `all` only; per name every candidate, the
 * highest version first and, between equal versions, the earlier suite first (a later suite's
 * copy of the same version is dropped); per virtual name the real candidates providing it,
 * in suite order, then index order.
 */
export function buildSnapshot(revision: string, architecture: string, suites: readonly SuiteIndex[]): DebianIndexSnapshot {
  const packages = new Map<string, DebianPackage[]>();
  for (const suite of suites) {
    for (const pkg of suite.packages) {
      if (pkg.architecture !== architecture && pkg.architecture !== 'all') continue;
      const candidates = packages.get(pkg.name);
      if (candidates === undefined) {
        packages.set(pkg.name, [pkg]);
      } else if (!candidates.some((c) => c.version === pkg.version && c.architecture === pkg.architecture)) {
        candidates.push(pkg);
      }
    }
  }
  const suiteOrder = new Map(suites.map((s, i) => [s.suite, i]));
  for (const candidates of packages.values()) {
    if (candidates.length < 2) continue;
    candidates.sort((a, b) => compareVersions(b.version, a.version) || (suiteOrder.get(a.suite) ?? 0) - (suiteOrder.get(b.suite) ?? 0));
  }
  const providers = new Map<string, DebianPackage[]>();
  for (const suite of suites) {
    for (const pkg of suite.packages) {
      if (pkg.provides === '' || !packages.get(pkg.name)?.includes(pkg)) continue;
      for (const provision of safeProvides(pkg.provides)) {
        const list = providers.get(provision.name);
        if (list === undefined) providers.set(provision.name, [pkg]);
        else if (!list.includes(pkg)) list.push(pkg);
      }
    }
  }
  return { revision, architecture, fingerprint: snapshotFingerprint(suites), packages, providers };
}

/** A malformed Provides field provides nothing rather than failing the whole index. */
function safeProvides(field: string): ReturnType<typeof parseProvides> {
  try {
    return parseProvides(field);
  } catch {
    return [];
  }
}
