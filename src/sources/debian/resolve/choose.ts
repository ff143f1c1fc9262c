import type { DebianIndexSnapshot, DebianPackage } from '../types.js';
import { appliesTo, parseProvides, parseRelations, type Provision, type Relation, type RelationAlternative } from './relations.js';
import { versionSatisfies } from './version.js';

/**
 * How one relation picks a package, shared by the closure resolver and the popularity graph.
 * The rule, for a relation `a | b | ...` (alternatives that do not apply to the architecture
 * dropped):
 *
 * 1. An alternative already in the closure with a satisfying version satisfies it; so does a
 *    closure package providing an alternative (with a satisfying `=` version when the
 *    relation is versioned). Alternatives are tried in the order written.
 * 2. Else the alternatives that name real packages, in order: an Essential one (with
 *    `skipEssential`) leaves the relation to the Essential set, whatever its version
 *    constraint, and adds nothing; otherwise the first with a satisfying candidate gives its
 *    best such candidate (highest version, earlier suite).
 * 3. Else the first alternative with providers: of its providers with a satisfying provision,
 *    the first by package name (then best candidate).
 * 4. Else the relation cannot be satisfied.
 */

/** Per-snapshot parse results, computed once per package record. */
const parsedDepends = new WeakMap<DebianPackage, readonly Relation[]>();

/**
 * Pre-Depends then Depends of a package, parsed once and remembered for the packages closures
 * meet again and again; `remember: false` for one pass over a whole index.
 */
export function relationsOf(pkg: DebianPackage, remember = true): readonly Relation[] {
  let relations = parsedDepends.get(pkg);
  if (relations === undefined) {
    relations = [...parseRelations(pkg.preDepends), ...parseRelations(pkg.depends)];
    if (remember) parsedDepends.set(pkg, relations);
  }
  return relations;
}

/** Whether `pkg` satisfies `alternative` by its own name and version. */
export function satisfiesByName(pkg: DebianPackage, alternative: RelationAlternative): boolean {
  if (pkg.name !== alternative.name) return false;
  return alternative.constraint === null || versionSatisfies(pkg.version, alternative.constraint.op, alternative.constraint.version);
}

/** Parsed Provides of the (few thousand) providing packages, asked for again and again. */
const parsedProvides = new WeakMap<DebianPackage, readonly Provision[]>();

function provisionsOf(pkg: DebianPackage): readonly Provision[] {
  let provisions = parsedProvides.get(pkg);
  if (provisions === undefined) {
    try {
      provisions = parseProvides(pkg.provides);
    } catch {
      provisions = [];
    }
    parsedProvides.set(pkg, provisions);
  }
  return provisions;
}

/** Whether `pkg` provides `alternative`: unversioned provisions satisfy only unversioned relations. */
export function satisfiesByProvides(pkg: DebianPackage, alternative: RelationAlternative): boolean {
  if (pkg.provides === '') return false;
  for (const provision of provisionsOf(pkg)) {
    if (provision.name !== alternative.name) continue;
    if (alternative.constraint === null) return true;
    if (provision.version !== null && versionSatisfies(provision.version, alternative.constraint.op, alternative.constraint.version)) return true;
  }
  return false;
}

/** What a relation resolved to. */
export type Choice =
  | { readonly kind: 'present'; readonly pkg: DebianPackage }
  | { readonly kind: 'essential'; readonly name: string }
  | { readonly kind: 'new'; readonly pkg: DebianPackage }
  | { readonly kind: 'unsatisfiable'; readonly reason: string };

export interface ChooseContext {
  readonly snapshot: DebianIndexSnapshot;
  /** The closure so far: name → chosen package (empty for the context-free popularity graph). */
  readonly chosen: ReadonlyMap<string, DebianPackage>;
  /** True to leave relations naming Essential packages to the Essential set (step 2). */
  readonly skipEssential: boolean;
}

/** Applies the rule above to one relation. */
export function chooseFor(relation: Relation, context: ChooseContext): Choice | null {
  const { snapshot, chosen } = context;
  const alternatives = relation.alternatives.filter((a) => appliesTo(a, snapshot.architecture));
  if (alternatives.length === 0) return null;
  for (const alternative of alternatives) {
    const present = chosen.get(alternative.name);
    if (present && satisfiesByName(present, alternative)) return { kind: 'present', pkg: present };
    for (const provider of snapshot.providers.get(alternative.name) ?? []) {
      const inClosure = chosen.get(provider.name);
      if (inClosure === provider && satisfiesByProvides(provider, alternative)) return { kind: 'present', pkg: provider };
    }
  }
  for (const alternative of alternatives) {
    const candidates = snapshot.packages.get(alternative.name);
    if (candidates === undefined || chosen.has(alternative.name)) continue;
    if (context.skipEssential && candidates.some((c) => c.essential)) return { kind: 'essential', name: alternative.name };
    const candidate = candidates.find((c) => satisfiesByName(c, alternative));
    if (candidate) return { kind: 'new', pkg: candidate };
  }
  for (const alternative of alternatives) {
    const providers = (snapshot.providers.get(alternative.name) ?? []).filter((p) => !chosen.has(p.name) && satisfiesByProvides(p, alternative));
    if (providers.length === 0) continue;
    const rank = (p: DebianPackage): number => snapshot.packages.get(p.name)?.indexOf(p) ?? 0;
    const byName = [...providers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : rank(a) - rank(b)));
    const first = byName[0] as DebianPackage;
    return { kind: 'new', pkg: first };
  }
  return { kind: 'unsatisfiable', reason: unsatisfiedReason(alternatives, context) };
}

function unsatisfiedReason(alternatives: readonly RelationAlternative[], context: ChooseContext): string {
  return alternatives
    .map((alternative) => {
      const present = context.chosen.get(alternative.name);
      if (present) return `${alternative.name} ${present.version} is already in the closure`;
      const candidates = context.snapshot.packages.get(alternative.name);
      if (candidates) return `${alternative.name} has only ${candidates.map((c) => c.version).join(', ')}`;
      const providers = context.snapshot.providers.get(alternative.name);
      if (providers) return `${alternative.name} is virtual; no provider (${providers.map((p) => p.name).join(', ')}) provides a satisfying version`;
      return `no package is named or provides ${alternative.name}`;
    })
    .join('; ');
}
