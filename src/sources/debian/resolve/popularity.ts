import { createHash } from 'node:crypto';
import type { DebianIndexSnapshot, DebianPackage } from '../types.js';
import { chooseFor, relationsOf, satisfiesByName } from './choose.js';
import type { Relation } from './relations.js';
import { followedRecommends } from './resolver.js';

/**
 * Popularity of Debian packages for the layering, as Nixery's comes from nixpkgs: by default,
 * for each package name, in how many one-package images of the release it appears, that is
 * how many packages of the release have it in their closure as the resolver builds closures
 * (itself included; the measure `packageSetPopularity` gives a Nix package set; `libc6`
 * scores nearly every package, a leaf application 1). `mode: 'direct'` counts direct
 * dependents only (Nixery's popcount), plus one for the package itself.
 *
 * Two choices make the counts predict which packages images share (docs/layering.md, the
 * real-Debian section, has the figures):
 *
 * - **Closures as the resolver builds them.** A dependency on an Essential package is left to
 *   the Essential set, as in every image (resolver.ts), and a recommended `ca-certificates` is
 *   followed. Following Essential packages' dependencies instead adds half the archive to
 *   `dpkg`, `tar` or `perl-base` and to everything they need, which images never see: those
 *   packages enter an image only when asked for (the `shell` set).
 * - **The release alone.** When a tag merges update suites into its release (`latest` =
 *   bookworm + bookworm-updates + bookworm-security), the counts come from the release
 *   suites' candidates only (a suite named without `-`, the rule of revisions.ts). Every tag
 *   of a release then gives every package the same count, so the layering groups the
 *   packages an update leaves alone as it did before the update, and nodes keep their
 *   layers. Counts over each tag's own packages differ in a few hundred names, enough to
 *   regroup much of every image. Names only the update suites have count 1.
 *
 * The graph has one node per name (its best candidate) and, per relation, one edge chosen by
 * the resolver's rule without a closure context (choose.ts). Relations nothing satisfies are
 * ignored.
 */
export interface DebianPopularityOptions {
  readonly mode?: 'closure' | 'direct';
}

/** The snapshot's graph in compressed form: node i's successors are `targets[offsets[i]..offsets[i+1])`. */
export interface DebianDependencyGraph {
  readonly names: readonly string[];
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
}

const graphs = new WeakMap<DebianIndexSnapshot, DebianDependencyGraph>();

/**
 * Graphs by release (`releaseKey`): every tag of a release (`bookworm`, `latest`) and every
 * snapshot of it (a new source, a refreshed update suite) shares one graph, about 2 s to build
 * on bookworm. Bounded: the releases served, plus one being replaced.
 */
const byRelease = new Map<string, DebianDependencyGraph>();
const RELEASES_KEPT = 4;

/**
 * Identity of a snapshot's release view: its architecture and, per name, each candidate's
 * version, architecture, suite and `.deb` SHA256 (equal `.deb`s, equal control data), names
 * sorted. Two snapshots with equal keys have the same release candidates, so the same graph.
 */
function releaseKey(release: DebianIndexSnapshot, names: readonly string[]): string {
  const lines = [release.architecture];
  for (const name of names) {
    let line = name;
    for (const c of release.packages.get(name) ?? []) line += ` ${c.version} ${c.architecture} ${c.suite} ${c.sha256}`;
    lines.push(line);
  }
  // One update of the whole text: per-field updates cost more than the graph saves.
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** The graph of the snapshot's release suites (see above), computed once per release. */
export function dependencyGraph(snapshot: DebianIndexSnapshot): DebianDependencyGraph {
  const known = graphs.get(snapshot);
  if (known) return known;
  const release = releaseView(snapshot);
  const names = [...release.packages.keys()].sort();
  const key = releaseKey(release, names);
  const shared = byRelease.get(key);
  if (shared) {
    graphs.set(snapshot, shared);
    return shared;
  }
  const graph = buildGraph(release, names);
  graphs.set(snapshot, graph);
  byRelease.set(key, graph);
  if (byRelease.size > RELEASES_KEPT) byRelease.delete(byRelease.keys().next().value as string);
  return graph;
}

/** One node per name of `release` (sorted `names`), one edge per relation (see above). */
function buildGraph(release: DebianIndexSnapshot, names: readonly string[]): DebianDependencyGraph {
  const indexOf = new Map(names.map((n, i) => [n, i]));
  const offsets = new Int32Array(names.length + 1);
  const targets: number[] = [];
  const seen = new Int32Array(names.length).fill(-1);
  for (let i = 0; i < names.length; i++) {
    offsets[i] = targets.length;
    seen[i] = i;
    const pkg = (release.packages.get(names[i] as string) as readonly DebianPackage[])[0] as DebianPackage;
    let relations: readonly Relation[];
    try {
      relations = [...relationsOf(pkg, false), ...followedRecommends(pkg)];
    } catch {
      continue;
    }
    for (const relation of relations) {
      const target = indexOf.get(targetOf(relation, release) ?? '');
      if (target !== undefined && seen[target] !== i) {
        seen[target] = i;
        targets.push(target);
      }
    }
  }
  offsets[names.length] = targets.length;
  return { names, offsets, targets: Int32Array.from(targets) };
}

const NONE: ReadonlyMap<string, DebianPackage> = new Map();

/**
 * The name a relation's edge points to, or undefined when it adds nothing (an Essential
 * package, or nothing satisfies it). The common case, one alternative naming a real package
 * with no architecture list, is looked up directly; the rest goes through `chooseFor`.
 */
function targetOf(relation: Relation, snapshot: DebianIndexSnapshot): string | undefined {
  const only = relation.alternatives.length === 1 ? relation.alternatives[0] : undefined;
  if (only !== undefined && only.architectures === null) {
    const candidates = snapshot.packages.get(only.name);
    if (candidates?.some((c) => c.essential)) return undefined;
    const candidate = candidates?.find((c) => satisfiesByName(c, only));
    if (candidate) return candidate.name;
  }
  const choice = chooseFor(relation, { snapshot, chosen: NONE, skipEssential: true });
  return choice !== null && (choice.kind === 'new' || choice.kind === 'present') ? choice.pkg.name : undefined;
}

/** Whether a suite is a release suite (`bookworm`) rather than one of its update suites (`bookworm-security`). */
const isReleaseSuite = (suite: string): boolean => !suite.includes('-');

/**
 * The snapshot with only its release suites' candidates and providers; the snapshot itself
 * when it has no others, or when it has no release suite at all.
 */
export function releaseView(snapshot: DebianIndexSnapshot): DebianIndexSnapshot {
  let updates = false;
  let releases = false;
  for (const candidates of snapshot.packages.values()) {
    for (const c of candidates) {
      if (isReleaseSuite(c.suite)) releases = true;
      else updates = true;
    }
    if (updates && releases) break;
  }
  if (!updates || !releases) return snapshot;
  const keep = (map: ReadonlyMap<string, readonly DebianPackage[]>): Map<string, readonly DebianPackage[]> => {
    const out = new Map<string, readonly DebianPackage[]>();
    for (const [name, candidates] of map) {
      const kept = candidates.filter((c) => isReleaseSuite(c.suite));
      if (kept.length > 0) out.set(name, kept);
    }
    return out;
  };
  return { ...snapshot, packages: keep(snapshot.packages), providers: keep(snapshot.providers) };
}

/** Package name → popularity (see above); every name of the snapshot has an entry, at least 1. */
export function debianPopularity(snapshot: DebianIndexSnapshot, options: DebianPopularityOptions = {}): Map<string, number> {
  const { names, offsets, targets } = dependencyGraph(snapshot);
  const counts = new Int32Array(names.length);
  if (options.mode === 'direct') {
    for (let i = 0; i < names.length; i++) {
      counts[i] = (counts[i] as number) + 1;
      for (let e = offsets[i] as number; e < (offsets[i + 1] as number); e++) counts[targets[e] as number] = (counts[targets[e] as number] as number) + 1;
    }
  } else {
    // One breadth-first walk per package; `stamp` marks what this walk has seen without clearing.
    const stamp = new Int32Array(names.length).fill(-1);
    const queue = new Int32Array(names.length);
    for (let root = 0; root < names.length; root++) {
      let head = 0;
      let tail = 0;
      queue[tail++] = root;
      stamp[root] = root;
      while (head < tail) {
        const node = queue[head++] as number;
        counts[node] = (counts[node] as number) + 1;
        for (let e = offsets[node] as number; e < (offsets[node + 1] as number); e++) {
          const next = targets[e] as number;
          if (stamp[next] !== root) {
            stamp[next] = root;
            queue[tail++] = next;
          }
        }
      }
    }
  }
  const out = new Map<string, number>();
  names.forEach((name, i) => out.set(name, counts[i] as number));
  for (const name of snapshot.packages.keys()) if (!out.has(name)) out.set(name, 1);
  return out;
}
