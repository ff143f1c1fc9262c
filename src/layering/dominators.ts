/**
 * Immediate dominators of a directed graph from one entry node, by the iterative algorithm of
 * Cooper, Harvey and Kennedy ("A Simple, Fast Dominance Algorithm", 2001). The dominator tree is
 * unique, so the result does not depend on the algorithm or on edge order; this one is short and
 * fast on the few hundred nodes of an image closure.
 */

/**
 * `idom[v]` for every node reachable from `entry` (`idom[entry] === entry`); -1 for nodes the
 * entry does not reach.
 * @param successors successor lists, indexed by node.
 */
export function immediateDominators(successors: readonly (readonly number[])[], entry: number): Int32Array {
  const n = successors.length;
  const rpoNumber = new Int32Array(n).fill(-1);
  const order = reversePostOrder(successors, entry);
  order.forEach((v, i) => {
    rpoNumber[v] = i;
  });
  const predecessors: number[][] = successors.map(() => []);
  successors.forEach((list, v) => {
    if (rpoNumber[v] === -1) return;
    for (const w of list) predecessors[w]!.push(v);
  });
  const idom = new Int32Array(n).fill(-1);
  idom[entry] = entry;
  const intersect = (a: number, b: number): number => {
    let x = a;
    let y = b;
    while (x !== y) {
      while (rpoNumber[x]! > rpoNumber[y]!) x = idom[x]!;
      while (rpoNumber[y]! > rpoNumber[x]!) y = idom[y]!;
    }
    return x;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const v of order) {
      if (v === entry) continue;
      let candidate = -1;
      for (const p of predecessors[v]!) {
        if (idom[p] === -1) continue;
        candidate = candidate === -1 ? p : intersect(p, candidate);
      }
      if (candidate !== idom[v]) {
        idom[v] = candidate;
        changed = true;
      }
    }
  }
  return idom;
}

function reversePostOrder(successors: readonly (readonly number[])[], entry: number): number[] {
  const seen = new Uint8Array(successors.length);
  const post: number[] = [];
  const stack: number[] = [entry];
  const cursor: number[] = [0];
  seen[entry] = 1;
  while (stack.length > 0) {
    const top = stack.length - 1;
    const v = stack[top]!;
    const list = successors[v]!;
    const next = cursor[top]!;
    if (next < list.length) {
      cursor[top] = next + 1;
      const w = list[next]!;
      if (seen[w] === 0) {
        seen[w] = 1;
        stack.push(w);
        cursor.push(0);
      }
    } else {
      post.push(v);
      stack.pop();
      cursor.pop();
    }
  }
  return post.reverse();
}
