/**
 * How a Debian package name is spelled in an image name. OCI path components are
 * `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`; Debian names are `[a-z0-9][a-z0-9+.-]+` (Policy 5.6.1),
 * so only `+` needs a spelling, and upper case, which Policy forbids but old indexes may carry.
 * Debian names never contain `_`, so `_` can introduce an escape without ambiguity:
 *
 * | Debian | OCI spelling | example |
 * |---|---|---|
 * | `+` | `_p` | `libstdc++6` ↔ `libstdc_p_p6`, `g++` ↔ `g_p_p` |
 * | upper-case letter `X` | `_u` + `x` | `Foo` → unspellable at the start; `libFoo` ↔ `lib_ufoo` |
 *
 * Every other character stays. The mapping is a bijection between spellable Debian names and
 * the components that decode: `debianNameOf(ociSpellingOf(n)) === n`, and a component that
 * is not the canonical spelling of its decoding (`a__pb`, `a_x`) decodes to null. A name whose
 * spelling would break the OCI grammar (`+` right after `.` or `-`, upper case first) has
 * none; no name of bookworm's index is such (a unit test reads them all).
 */

const OCI_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DEBIAN_NAME = /^[A-Za-z0-9][A-Za-z0-9+.-]+$/;

/** The OCI path-component spelling of a Debian package name, or null when it has none. */
export function ociSpellingOf(debianName: string): string | null {
  if (!DEBIAN_NAME.test(debianName)) return null;
  let out = '';
  for (const c of debianName) {
    if (c === '+') out += '_p';
    else if (c >= 'A' && c <= 'Z') out += `_u${c.toLowerCase()}`;
    else out += c;
  }
  return OCI_COMPONENT.test(out) ? out : null;
}

/** The Debian package name an image-name component spells, or null when it spells none. */
export function debianNameOf(component: string): string | null {
  if (!OCI_COMPONENT.test(component)) return null;
  let out = '';
  for (let i = 0; i < component.length; i++) {
    const c = component[i] as string;
    if (c !== '_') {
      out += c;
      continue;
    }
    const code = component[i + 1];
    if (code === 'p') {
      out += '+';
      i += 1;
    } else if (code === 'u' && /^[a-z]$/.test(component[i + 2] ?? '')) {
      out += (component[i + 2] as string).toUpperCase();
      i += 2;
    } else {
      return null;
    }
  }
  return ociSpellingOf(out) === component ? out : null;
}
