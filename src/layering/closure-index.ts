/**
 * A closure graph in the dense form every layerer works on: store paths sorted in code-unit
 * order and referred to by index, references deduplicated and without self-references. Sorting
 * first is what makes every algorithm independent of the order of `graph.nodes` and of each
 * node's references.
 */
import type { LayeringGraph } from './types.js';

/** Thrown when a graph breaks the `LayeringGraph` contract (unknown reference, duplicate path). */
export class InvalidLayeringGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLayeringGraphError';
  }
}

/** Dense, index-based view of a closure. Index order is ascending path order. */
export interface ClosureIndex {
  /** Store paths in ascending code-unit order; a path's index is its position here. */
  readonly paths: readonly string[];
  /** `narSize` of each path. */
  readonly sizes: readonly number[];
  /** Direct references of each path (indices, ascending, no self-reference). */
  readonly refs: readonly (readonly number[])[];
  /** Direct users (reverse references) of each path, ascending. */
  readonly users: readonly (readonly number[])[];
  /** Indices of `graph.roots`, ascending and deduplicated. */
  readonly roots: readonly number[];
  /**
   * Every index once, each path after all of its references (reverse topological order, ties by
   * index). Reference cycles, which Nix closures do not have, are cut where the walk finds them.
   */
  readonly bottomUp: readonly number[];
}

/** Code-unit comparison, the order the contract asks for (not locale order). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Builds the dense view of `graph`.
 * @throws InvalidLayeringGraphError on a duplicate path, a reference or a root outside the graph.
 */
export function indexClosure(graph: LayeringGraph): ClosureIndex {
  const sorted = [...graph.nodes].sort((a, b) => compareCodeUnits(a.path, b.path));
  const position = new Map<string, number>();
  sorted.forEach((node, i) => {
    if (position.has(node.path)) throw new InvalidLayeringGraphError(`duplicate path ${node.path}`);
    position.set(node.path, i);
  });
  const lookup = (path: string, what: string): number => {
    const i = position.get(path);
    if (i === undefined) throw new InvalidLayeringGraphError(`${what} ${path} is not in the graph`);
    return i;
  };
  const refs = sorted.map((node, i) => {
    const set = new Set<number>();
    for (const ref of node.references) {
      const j = lookup(ref, `reference of ${node.path}:`);
      if (j !== i) set.add(j);
    }
    return [...set].sort((a, b) => a - b);
  });
  const users: number[][] = sorted.map(() => []);
  refs.forEach((list, i) => {
    for (const j of list) users[j]!.push(i);
  });
  const roots = [...new Set(graph.roots.map((r) => lookup(r, 'root')))].sort((a, b) => a - b);
  return {
    paths: sorted.map((n) => n.path),
    sizes: sorted.map((n) => n.narSize),
    refs,
    users,
    roots,
    bottomUp: postOrder(refs),
  };
}

/** Iterative depth-first post-order over all nodes, starting points and children by index. */
function postOrder(refs: readonly (readonly number[])[]): number[] {
  const state = new Uint8Array(refs.length); // 0 new, 1 on stack, 2 done
  const order: number[] = [];
  const stack: number[] = [];
  const cursor: number[] = [];
  for (let start = 0; start < refs.length; start++) {
    if (state[start] !== 0) continue;
    stack.push(start);
    cursor.push(0);
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack.length - 1;
      const node = stack[top]!;
      const children = refs[node]!;
      const next = cursor[top]!;
      if (next < children.length) {
        cursor[top] = next + 1;
        const child = children[next]!;
        if (state[child] === 0) {
          state[child] = 1;
          stack.push(child);
          cursor.push(0);
        }
      } else {
        state[node] = 2;
        order.push(node);
        stack.pop();
        cursor.pop();
      }
    }
  }
  return order;
}

/** Size of each path's runtime closure (itself plus everything it reaches), by index. */
export function closureSizes(index: ClosureIndex): number[] {
  const reach = reachability(index);
  return reach.map((bits) => {
    let total = 0;
    forEachBit(bits, (j) => {
      total += index.sizes[j]!;
    });
    return total;
  });
}

/** For each path, a bitset (32 paths a word) of everything it reaches, itself included. */
export function reachability(index: ClosureIndex): Uint32Array[] {
  const words = (index.paths.length + 31) >>> 5;
  const reach: Uint32Array[] = index.paths.map(() => new Uint32Array(words));
  for (const i of index.bottomUp) {
    const bits = reach[i]!;
    bits[i >>> 5]! |= 1 << (i & 31);
    for (const j of index.refs[i]!) {
      const child = reach[j]!;
      for (let w = 0; w < words; w++) bits[w]! |= child[w]!;
    }
  }
  return reach;
}

/** For each path, a bitset of the paths that reach it (itself excluded). */
export function ancestors(index: ClosureIndex): Uint32Array[] {
  const words = (index.paths.length + 31) >>> 5;
  const up: Uint32Array[] = index.paths.map(() => new Uint32Array(words));
  for (let k = index.bottomUp.length - 1; k >= 0; k--) {
    const i = index.bottomUp[k]!;
    const bits = up[i]!;
    for (const user of index.users[i]!) {
      const above = up[user]!;
      bits[user >>> 5]! |= 1 << (user & 31);
      for (let w = 0; w < words; w++) bits[w]! |= above[w]!;
    }
  }
  return up;
}

export function hasBit(bits: Uint32Array, i: number): boolean {
  return (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
}

/** Calls `fn` with every set bit's position, ascending. */
export function forEachBit(bits: Uint32Array, fn: (i: number) => void): void {
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      fn((w << 5) + 31 - Math.clz32(low));
      word ^= low;
    }
  }
}
