/**
 * Grammar of repository names and tags from the OCI distribution spec. A name is a sequence of
 * path components separated by `/`; each component is lower-case alphanumerics joined by `.`,
 * `_`, `__` or runs of `-`.
 */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Longest repository name accepted, as distribution/distribution limits it. */
export const MAX_NAME_LENGTH = 255;

/** Why a repository name is invalid, or null when it is valid. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'the repository name is empty';
  if (name.length > MAX_NAME_LENGTH) {
    return `the repository name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`;
  }
  for (const component of name.split('/')) {
    if (component === '') return 'the repository name has an empty path component';
    if (!COMPONENT.test(component)) {
      return `path component "${component}" is not lower-case alphanumerics separated by ".", "_", "__" or "-"`;
    }
  }
  return null;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
