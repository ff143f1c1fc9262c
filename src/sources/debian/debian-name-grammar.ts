import { InvalidPackageNameError } from '../errors.js';

/**
 * Package names in image names for the Debian universe: Debian's own grammar (policy 5.6.1:
 * lower-case letters, digits, `+`, `-`, `.`, starting with a letter or digit, at least two
 * characters), as far as the OCI name grammar can spell it; names with `+` have the spelling
 * the archive side documents.
 * @throws InvalidPackageNameError
 */
export function assertDebianPackageName(name: string): void {
  if (name.length < 2 || name.length > 200) throw new InvalidPackageNameError(name, 'a Debian package name has 2 to 200 characters');
  if (!/^[a-z0-9][a-z0-9+._-]*$/.test(name)) {
    throw new InvalidPackageNameError(name, 'a Debian package name has lower-case letters, digits, "+", "-" and ".", starting with a letter or digit');
  }
}
