import type { AptSource } from './apt-sources.js';

/**
 * Which archive state a tag names. The rule, derived from the machine's apt sources:
 *
 * - A **release suite** is a suite whose name has no `-` (`bookworm`). Each release suite `R`
 *   is a tag `R`: the release alone, as published (its point releases included, since the
 *   archive folds them into `R`).
 * - **`latest`** is the first release suite `R` of the apt sources plus the update suites of
 *   it that the sources list: `R-updates` (stable updates) and `R-security` (security
 *   updates), in the sources' order. Backports and other `R-*` suites are opt-in, never implied.
 * - Within a tag, the highest version of a package wins; between equal versions, the earlier
 *   suite of the tag's list.
 *
 * So on a bookworm machine `bookworm` = [bookworm] and `latest` = [bookworm, bookworm-updates,
 * bookworm-security]: a security update changes `latest` and only the packages it updates.
 * A configuration may replace the mapping entirely (`RevisionMap`).
 */

/** Tag → the suites it merges, in priority order. Tags are listed newest first. */
export type RevisionMap = ReadonlyMap<string, readonly string[]>;

/** Suites `latest` adds to its release, when the apt sources list them. */
const UPDATE_SUFFIXES = ['-updates', '-security'];

/**
 * The default mapping for the given sources (see the rule above).
 * @throws Error when the sources list no release suite at all.
 */
export function defaultRevisions(sources: readonly AptSource[]): RevisionMap {
  const suites = [...new Set(sources.flatMap((s) => s.suites))];
  const releases = suites.filter((s) => /^[a-z0-9]+$/.test(s));
  const first = releases[0];
  if (first === undefined) throw new Error(`the apt sources list no release suite (suites: ${suites.join(', ') || 'none'})`);
  const map = new Map<string, readonly string[]>();
  map.set('latest', [first, ...suites.filter((s) => UPDATE_SUFFIXES.some((suffix) => s === `${first}${suffix}`))]);
  for (const release of releases) map.set(release, [release]);
  return map;
}

/** A mapping from a plain object (`{ latest: ['bookworm', 'bookworm-security'], ... }`), keys in order. */
export function revisionMapOf(tags: Readonly<Record<string, readonly string[]>>): RevisionMap {
  const map = new Map<string, readonly string[]>();
  for (const [tag, suites] of Object.entries(tags)) {
    if (suites.length === 0) throw new Error(`revision "${tag}" names no suites`);
    map.set(tag, [...suites]);
  }
  if (map.size === 0) throw new Error('the revision map names no tags');
  return map;
}
