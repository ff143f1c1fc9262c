/**
 * Which tags may name a git revision. A tag reaches git only after passing these checks, and
 * then only as a full ref name (`refs/heads/<tag>`) or a commit id, never as an argument of its
 * own, so nothing a client sends can be read by git as an option or a revision expression.
 */

/** The tag that names the repository's default branch (its HEAD). */
export const DEFAULT_BRANCH_TAG = 'latest';

/** Shortest abbreviated commit id accepted: git's own default abbreviation. */
export const MIN_COMMIT_ID_LENGTH = 7;

/** Full or abbreviated commit id: lower-case hex, SHA-1 (40) or SHA-256 (64) repositories. */
export function isCommitIdLike(revision: string): boolean {
  return new RegExp(`^[0-9a-f]{${MIN_COMMIT_ID_LENGTH},64}$`).test(revision);
}

/**
 * Why `name` cannot be a one-component branch or tag name, or null when it can. These are the
 * rules of `git check-ref-format` for one component, plus stowage's: no leading `-` (it would
 * read as an option), no `/` (an OCI tag cannot hold one, so such refs cannot be addressed), and
 * at most 128 characters (the OCI tag limit).
 */
export function refNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.length > 128) return 'is longer than 128 characters';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('.')) return 'starts with "."';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.endsWith('.lock')) return 'ends with ".lock"';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@') return 'is "@"';
  if (name.includes('/')) return 'contains "/"';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  return null;
}

export function isValidRefName(name: string): boolean {
  return refNameProblem(name) === null;
}
