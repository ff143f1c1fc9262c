/**
 * Regular files already written to a layer, by content, so that a later identical file can be
 * written as a hard link to the first one.
 *
 * Identity is content-based (size, mode, sha256), never inode-based: a NAR stream cannot
 * express hard links, and a layer built from one must be byte-identical to a layer built from
 * a local store whose files happen to be hard-linked by `nix-store --optimise`.
 */
export class HardLinkIndex {
  /** `size:mode` → sha256 hex → tar name of the first file with that content. */
  private readonly groups = new Map<string, Map<string, string>>();

  /**
   * True when an earlier file has the same size and mode, i.e. when a new file's hash is needed
   * before its header can be written. Every other file streams straight through.
   */
  hasCandidates(size: number, mode: number): boolean {
    return this.groups.has(groupKey(size, mode));
  }

  /** Name of the first file written with this exact content, if any. */
  find(size: number, mode: number, sha256: string): string | undefined {
    return this.groups.get(groupKey(size, mode))?.get(sha256);
  }

  /** Record a file that was written with its content; the first name for a content wins. */
  add(size: number, mode: number, sha256: string, name: string): void {
    const key = groupKey(size, mode);
    let group = this.groups.get(key);
    if (!group) {
      group = new Map();
      this.groups.set(key, group);
    }
    if (!group.has(sha256)) group.set(sha256, name);
  }
}

function groupKey(size: number, mode: number): string {
  return `${size}:${mode.toString(8)}`;
}
