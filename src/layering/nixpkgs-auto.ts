/**
 * nixpkgs' newer default layering (`pkgs/build-support/docker/auto-layer.py`), reimplemented from
 * its description:
 *
 * - Every path is labelled with the set of "primary" paths it belongs to; paths with equal labels
 *   share a layer. Initially there are no primaries and everything is one layer.
 * - Repeatedly the largest remaining path (by NAR size) becomes a primary P with label {P}. Every
 *   dependency D of P drops from its label the primaries that depend on P (they reach D through P
 *   now) and, unless its label still holds some dependency of P, gains P. So D stays with P unless
 *   something outside P's closure also uses it, in which case it goes to the layer of the set of
 *   primaries that use it.
 * - The first split that would exceed the layer limit is discarded and the algorithm stops.
 * - Layers are ordered by the total size of their closure, so a layer comes after its dependencies.
 *
 * Popularity is ignored. Size ties are broken by path so the result is deterministic.
 */
import { ancestors, compareCodeUnits, forEachBit, hasBit, indexClosure, reachability } from './closure-index.js';
import type { Layer, Layerer, LayeringGraph, Popularity } from './types.js';

export class NixpkgsAutoLayerer implements Layerer {
  readonly name = 'nixpkgs-auto';

  group(graph: LayeringGraph, _popularity: Popularity, budget: number): Layer[] {
    const index = indexClosure(graph);
    const n = index.paths.length;
    if (n === 0) return [];
    const limit = Math.max(1, budget);
    const deps = reachability(index); // includes the path itself
    const users = ancestors(index);

    // label[i]: sorted primary indices; key[i]: its string form, counted in `layerCount`.
    const label: number[][] = index.paths.map(() => []);
    const key: string[] = label.map(() => '');
    const layerCount = new Map<string, number>([['', n]]);
    const bySize = index.paths.map((_, i) => i).sort((a, b) => index.sizes[b]! - index.sizes[a]! || a - b);

    for (const primary of bySize) {
      const changes = new Map<number, number[]>();
      changes.set(primary, [primary]);
      forEachBit(deps[primary]!, (d) => {
        if (d === primary) return;
        const kept = label[d]!.filter((p) => !hasBit(users[primary]!, p));
        if (!kept.some((p) => hasBit(deps[primary]!, p))) kept.push(primary);
        changes.set(d, kept.sort((a, b) => a - b));
      });
      const counts = new Map(layerCount);
      for (const [i, next] of changes) {
        const before = key[i]!;
        const after = next.join(',');
        counts.set(before, counts.get(before)! - 1);
        if (counts.get(before) === 0) counts.delete(before);
        counts.set(after, (counts.get(after) ?? 0) + 1);
      }
      if (counts.size > limit) break;
      for (const [i, next] of changes) {
        label[i] = next;
        key[i] = next.join(',');
      }
      layerCount.clear();
      for (const [k, v] of counts) layerCount.set(k, v);
    }

    const groups = new Map<string, number[]>();
    key.forEach((k, i) => {
      const list = groups.get(k);
      if (list) list.push(i);
      else groups.set(k, [i]);
    });
    const layers = [...groups.values()].map((members) => {
      const reach = new Uint32Array(deps[0]!.length);
      for (const m of members) {
        const bits = deps[m]!;
        for (let w = 0; w < reach.length; w++) reach[w]! |= bits[w]!;
      }
      let closureSize = 0;
      forEachBit(reach, (j) => {
        closureSize += index.sizes[j]!;
      });
      return { paths: members.map((m) => index.paths[m]!).sort(compareCodeUnits), closureSize };
    });
    layers.sort((a, b) => a.closureSize - b.closureSize || compareCodeUnits(a.paths[0]!, b.paths[0]!));
    return layers.map((l) => ({ paths: l.paths }));
  }
}
