import { PackageNotFoundError, UnsatisfiableDependencyError, VirtualPackageError } from '../errors.js';
import { appliesTo, parseRelations } from './resolve/relations.js';
import { versionSatisfies } from './resolve/version.js';
import type { DebianClosure, DebianIndexSnapshot, DebianPackage } from './types.js';

/**
 * INTERIM glue until the archive side's resolver lands (src/sources/debian/resolve/): a
 * breadth-first closure over Depends and Pre-Depends. Per relation: an alternative already in
 * the closure first, else the first alternative a real package (best candidate satisfying
 * the version) or, for a virtual name, its first provider satisfies.
 */
export function interimResolveClosure(snapshot: DebianIndexSnapshot, names: readonly string[]): DebianClosure {
  const chosen = new Map<string, DebianPackage>();
  const dependsOn = new Map<string, string[]>();
  const missing: string[] = [];
  const virtual: Array<{ name: string; providers: string[] }> = [];
  const roots: string[] = [];
  for (const name of names) {
    const real = snapshot.packages.get(name)?.[0];
    if (real) roots.push(real.name);
    else if (snapshot.providers.has(name)) virtual.push({ name, providers: (snapshot.providers.get(name) ?? []).map((p) => p.name) });
    else missing.push(name);
  }
  if (virtual.length > 0) throw new VirtualPackageError(missing, virtual);
  if (missing.length > 0) throw new PackageNotFoundError(missing);
  const queue: Array<{ pkg: DebianPackage; chain: string[] }> = [];
  for (const name of roots) {
    const pkg = snapshot.packages.get(name)?.[0] as DebianPackage;
    if (!chosen.has(name)) {
      chosen.set(name, pkg);
      queue.push({ pkg, chain: [name] });
    }
  }
  while (queue.length > 0) {
    const { pkg, chain } = queue.shift() as { pkg: DebianPackage; chain: string[] };
    const deps: string[] = [];
    for (const relation of [...parseRelations(pkg.preDepends), ...parseRelations(pkg.depends)]) {
      const alternatives = relation.alternatives.filter((alt) => appliesTo(alt, snapshot.architecture));
      if (alternatives.length === 0) continue;
      const ok = (candidate: DebianPackage, alt: (typeof alternatives)[number]): boolean =>
        alt.constraint === null || versionSatisfies(candidate.version, alt.constraint.op, alt.constraint.version);
      let pick: DebianPackage | undefined;
      for (const alt of alternatives) {
        const present = chosen.get(alt.name);
        if (present && ok(present, alt)) pick = present;
        const provider = [...chosen.values()].find((p) => alt.constraint === null && (snapshot.providers.get(alt.name) ?? []).some((q) => q.name === p.name));
        pick ??= provider;
        if (pick) break;
      }
      for (const alt of pick ? [] : alternatives) {
        pick = (snapshot.packages.get(alt.name) ?? []).find((candidate) => ok(candidate, alt));
        if (!pick && alt.constraint === null) pick = snapshot.providers.get(alt.name)?.[0];
        if (pick) break;
      }
      if (!pick) throw new UnsatisfiableDependencyError(chain, relation.text, 'no package in the archive satisfies it');
      deps.push(pick.name);
      if (!chosen.has(pick.name)) {
        chosen.set(pick.name, pick);
        queue.push({ pkg: pick, chain: [...chain, pick.name] });
      }
    }
    dependsOn.set(pkg.name, [...new Set(deps)].filter((name) => name !== pkg.name).sort());
  }
  const packages = [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { packages, dependsOn, roots };
}
