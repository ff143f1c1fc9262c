import { InvalidPackageNameError } from './errors.js';

/**
 * The grammar package names must match before they reach Nix: dot-separated Nix identifiers
 * (letters, digits, `_` and `-`, not starting with a digit or `-`). Names are also passed to Nix
 * only as string arguments (`--argstr`), never spliced into an expression, so even a name that
 * slipped through could not inject code; the grammar makes errors early and clear.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
export const MAX_ATTR_PATH_LENGTH = 200;

/** @throws InvalidPackageNameError */
export function assertValidAttrPath(name: string): void {
  if (name.length === 0) throw new InvalidPackageNameError(name, 'it is empty');
  if (name.length > MAX_ATTR_PATH_LENGTH) {
    throw new InvalidPackageNameError(name.slice(0, 40) + '…', `longer than ${MAX_ATTR_PATH_LENGTH} characters`);
  }
  for (const part of name.split('.')) {
    if (!IDENTIFIER.test(part)) {
      throw new InvalidPackageNameError(
        name,
        part === ''
          ? 'it has an empty attribute between dots'
          : `"${part}" is not an attribute name (letters, digits, "_" and "-", starting with a letter or "_")`,
      );
    }
  }
}
