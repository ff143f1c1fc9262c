import { PackageNotFoundError, UnsatisfiableDependencyError, VirtualPackageError } from '../../errors.js';
import type { DebianClosure, DebianIndexSnapshot, DebianPackage } from '../types.js';
import { chooseFor, relationsOf } from './choose.js';
import { parseRelations, type Relation } from './relations.js';

/**
 * The closure of requested Debian packages: what `Depends` and `Pre-Depends` need, with version
 * constraints, alternatives and virtual packages chosen by the rule in choose.ts, deterministic
 * for a given snapshot and set of names (the order the names are given in does not matter:
 * they are sorted first).
 *
 * - **Requested names**: a real package resolves to its best candidate. A virtual name
 *   resolves, as `apt-get install` does, only when exactly one package provides it (option
 *   `virtualRoots: 'first-provider'` takes the first by name instead); otherwise
 *   VirtualPackageError lists its providers.
 * - **Order**: breadth first from the requested names; each package's relations in the order
 *   written (Pre-Depends, then Depends).
 * - **Essential packages** (`Essential: yes`: bash, coreutils, dpkg, tar, ...) every Debian
 *   system has, so packages do not declare most dependencies on them. A dependency on one is
 *   followed only when it is already requested or already in the closure; otherwise it is
 *   skipped. Essential packages thus enter an image only through the request, in practice
 *   through the `shell` meta-package (SHELL_PACKAGES). Packages that are merely Priority
 *   required (libc6, mawk) are followed like any other.
 * - **Recommends** are not followed, as `apt-get install --no-install-recommends` does, with
 *   one exception: a recommended `ca-certificates` (git, curl, python3, wget, openssl...
 *   recommend it) joins the closure, because without it TLS clients in the image cannot verify
 *   any server. A recommendation that cannot be satisfied is dropped, never an error.
 * - **Failures**: unknown names → PackageNotFoundError naming all of them; a relation nothing
 *   satisfies → UnsatisfiableDependencyError with the chain from the requested package.
 */

export interface ResolveOptions {
  /** How a requested virtual name with several providers resolves (default `'sole-provider'`). */
  readonly virtualRoots?: 'sole-provider' | 'first-provider';
}

/**
 * @throws PackageNotFoundError (VirtualPackageError when virtual names are among them) for
 *   requested names that cannot be resolved, all of them at once.
 * @throws UnsatisfiableDependencyError for a dependency nothing in the snapshot satisfies.
 */
export function resolveClosure(snapshot: DebianIndexSnapshot, names: readonly string[], options: ResolveOptions = {}): DebianClosure {
  const requested = [...new Set(names)].sort();
  const roots = resolveRoots(snapshot, requested, options);
  const chosen = new Map<string, DebianPackage>();
  const parent = new Map<string, string | null>();
  const edges = new Map<string, Set<string>>();
  const queue: DebianPackage[] = [];
  for (const pkg of roots) {
    if (chosen.has(pkg.name)) continue;
    chosen.set(pkg.name, pkg);
    parent.set(pkg.name, null);
    queue.push(pkg);
  }
  const chainTo = (name: string): string[] => {
    const chain: string[] = [];
    for (let at: string | null | undefined = name; at; at = parent.get(at)) chain.unshift(at);
    return chain;
  };
  for (let head = 0; head < queue.length; head++) {
    const pkg = queue[head] as DebianPackage;
    const deps = new Set<string>();
    edges.set(pkg.name, deps);
    const soft = followedRecommends(pkg);
    for (const relation of [...relationsOf(pkg), ...soft]) {
      const choice = chooseFor(relation, { snapshot, chosen, skipEssential: true });
      if (choice === null || choice.kind === 'essential') continue;
      if (choice.kind === 'unsatisfiable') {
        if (soft.includes(relation)) continue;
        throw new UnsatisfiableDependencyError(chainTo(pkg.name), relation.text, choice.reason);
      }
      if (choice.pkg.name !== pkg.name) deps.add(choice.pkg.name);
      if (choice.kind === 'new') {
        chosen.set(choice.pkg.name, choice.pkg);
        parent.set(choice.pkg.name, pkg.name);
        queue.push(choice.pkg);
      }
    }
  }
  const packages = [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dependsOn = new Map<string, readonly string[]>();
  for (const pkg of packages) dependsOn.set(pkg.name, [...(edges.get(pkg.name) ?? [])].sort());
  return { packages, dependsOn, roots: roots.map((r) => r.name) };
}

/** Recommended packages the resolver follows (see the header). */
const FOLLOWED_RECOMMENDS: ReadonlySet<string> = new Set(['ca-certificates']);

/** The Recommends relations of `pkg` naming a followed package (a malformed field names none). */
export function followedRecommends(pkg: DebianPackage): readonly Relation[] {
  if (!pkg.recommends) return [];
  try {
    return parseRelations(pkg.recommends).filter((relation) => relation.alternatives.some((a) => FOLLOWED_RECOMMENDS.has(a.name)));
  } catch {
    return [];
  }
}

function resolveRoots(snapshot: DebianIndexSnapshot, requested: readonly string[], options: ResolveOptions): DebianPackage[] {
  const roots: DebianPackage[] = [];
  const missing: string[] = [];
  const virtual: Array<{ name: string; providers: string[] }> = [];
  for (const name of requested) {
    const best = snapshot.packages.get(name)?.[0];
    if (best) {
      roots.push(best);
      continue;
    }
    const providers = snapshot.providers.get(name) ?? [];
    const providerNames = [...new Set(providers.map((p) => p.name))].sort();
    const only = providerNames.length === 1 || (providerNames.length > 1 && options.virtualRoots === 'first-provider') ? providerNames[0] : undefined;
    if (only !== undefined) {
      roots.push(snapshot.packages.get(only)?.find((c) => providers.includes(c)) ?? (providers[0] as DebianPackage));
    } else if (providerNames.length > 0 || referencedNames(snapshot).has(name)) {
      virtual.push({ name, providers: providerNames });
    } else {
      missing.push(name);
    }
  }
  if (virtual.length > 0) throw new VirtualPackageError(missing, virtual);
  if (missing.length > 0) throw new PackageNotFoundError(missing);
  return roots;
}

const referenced = new WeakMap<DebianIndexSnapshot, ReadonlySet<string>>();

/** Every name some relation of the snapshot mentions: a name only depended on is virtual, not unknown. */
function referencedNames(snapshot: DebianIndexSnapshot): ReadonlySet<string> {
  let names = referenced.get(snapshot);
  if (names === undefined) {
    const set = new Set<string>();
    for (const candidates of snapshot.packages.values()) {
      for (const pkg of candidates) {
        for (const field of [pkg.depends, pkg.preDepends]) {
          if (field === '') continue;
          try {
            for (const relation of parseRelations(field)) for (const a of relation.alternatives) set.add(a.name);
          } catch {
            // A malformed field names nothing usable.
          }
        }
      }
    }
    names = set;
    referenced.set(snapshot, names);
  }
  return names;
}
