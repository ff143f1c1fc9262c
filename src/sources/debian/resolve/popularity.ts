import type { DebianIndexSnapshot, DebianPackage } from '../types.js';
import { chooseFor, relationsOf, satisfiesByName } from './choose.js';
import type { Relation } from './relations.js';

/**
 * Popularity of Debian packages for the layering, from the real dependency graph of a
 * snapshot, as Nixery's comes from nixpkgs: by default, for each package name, how many
 * packages of the snapshot have it in their dependency closure, itself included (the same
 * measure `packageSetPopularity` gives a Nix package set; `libc6` scores nearly every
 * package, a leaf application 1). `mode: 'direct'` counts direct dependents only (Nixery's
 * popcount), plus one for the package itself.
 *
 * The graph has one node per name (its best candidate) and, per relation, one edge chosen by
 * the resolver's rule without a closure context (choose.ts). Unlike an image closure,
 * dependencies on Essential packages are followed here: every package does need them, and
 * the `shell` layers are then the most popular, as they are in every `shell/...` image.
 * Relations nothing satisfies are ignored.
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

/** The snapshot's dependency graph (computed once per snapshot). */
export function dependencyGraph(snapshot: DebianIndexSnapshot): DebianDependencyGraph {
  const known = graphs.get(snapshot);
  if (known) return known;
  const names = [...snapshot.packages.keys()].sort();
  const indexOf = new Map(names.map((n, i) => [n, i]));
  const offsets = new Int32Array(names.length + 1);
  const targets: number[] = [];
  const none = new Map<string, DebianPackage>();
  const seen = new Int32Array(names.length).fill(-1);
  for (let i = 0; i < names.length; i++) {
    offsets[i] = targets.length;
    seen[i] = i;
    const pkg = (snapshot.packages.get(names[i] as string) as readonly DebianPackage[])[0] as DebianPackage;
    let relations: ReturnType<typeof relationsOf>;
    try {
      relations = relationsOf(pkg, false);
    } catch {
      continue;
    }
    for (const relation of relations) {
      const target = indexOf.get(targetOf(relation, snapshot, none) ?? '');
      if (target !== undefined && seen[target] !== i) {
        seen[target] = i;
        targets.push(target);
      }
    }
  }
  offsets[names.length] = targets.length;
  const graph = { names, offsets, targets: Int32Array.from(targets) };
  graphs.set(snapshot, graph);
  return graph;
}

/**
 * The name a relation's edge points to. The common case, one alternative naming a real
 * package with no architecture list, is looked up directly; the rest goes through `chooseFor`.
 */
function targetOf(relation: Relation, snapshot: DebianIndexSnapshot, none: ReadonlyMap<string, DebianPackage>): string | undefined {
  const only = relation.alternatives.length === 1 ? relation.alternatives[0] : undefined;
  if (only !== undefined && only.architectures === null) {
    const candidate = snapshot.packages.get(only.name)?.find((c) => satisfiesByName(c, only));
    if (candidate) return candidate.name;
  }
  const choice = chooseFor(relation, { snapshot, chosen: none, skipEssential: false });
  return choice !== null && (choice.kind === 'new' || choice.kind === 'present') ? choice.pkg.name : undefined;
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
  return new Map(names.map((n, i) => [n, counts[i] as number]));
}
