/**
 * Debian version comparison, exactly as dpkg does it (deb-version(7)): `[epoch:]upstream[-revision]`.
 * Epochs compare as numbers; upstream and revision compare by alternating runs of non-digits
 * (compared character by character with letters before non-letters and `~` before everything,
 * even the end of the string) and digits (compared as numbers).
 */

/** A parsed version. */
export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  /** '' when the version has no `-revision`. */
  readonly revision: string;
}

/** Splits a version into epoch, upstream version and revision (lenient, as dpkg's comparison is). */
export function parseVersion(version: string): DebianVersion {
  const text = version.trim();
  const colon = text.indexOf(':');
  let epoch = 0;
  let rest = text;
  if (colon > 0 && /^\d+$/.test(text.slice(0, colon))) {
    epoch = Number(text.slice(0, colon));
    rest = text.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** dpkg's `order()`: the weight of one character of a non-digit run; 0 for the end. */
function order(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1;
  return c + 256;
}

/** dpkg's `verrevcmp()` on one part (upstream or revision). */
function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : Number.NaN);
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === 0x30) i++;
    while (at(b, j) === 0x30) j++;
    let firstDiff = 0;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (firstDiff === 0) firstDiff = at(a, i) - at(b, j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Negative when `a` is older than `b`, 0 when dpkg holds them equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  const upstream = compareParts(va.upstream, vb.upstream);
  if (upstream !== 0) return Math.sign(upstream);
  return Math.sign(compareParts(va.revision, vb.revision));
}

/** A version relation operator as the index writes it (`<` and `>` are dpkg's obsolete `<=`, `>=`). */
export type VersionOperator = '<<' | '<=' | '=' | '>=' | '>>';

/** True when `version` satisfies `op want`. */
export function versionSatisfies(version: string, op: VersionOperator, want: string): boolean {
  const c = compareVersions(version, want);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
