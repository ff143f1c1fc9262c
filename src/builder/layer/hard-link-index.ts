/**
 * Regular files already written to a layer, by content, so that a later identical file can be
 * written as a hard link to the first one.
 *
 * Identity is content-based (size, mode, sha256), never inode-based: a NAR stream cannot
 * express hard links, and a layer built from one must be byte-identical to a layer built from
 * a local store whose files happen to be hard-linked by `nix-store --optimise`.
 *
 * A file written without hashing may be recorded with a way to hash it later (reading it again):
 * its hash is computed only when a later file of the same size and mode turns up, which for
 * files of more than a few KiB is rare, so most of them are read once and never hashed.
 */
export class HardLinkIndex {
  /** `size:mode` → sha256 hex → tar name of the first file with that content, plus files not yet hashed. */
  private readonly groups = new Map<string, Group>();

  /**
   * True when an earlier file has the same size and mode, i.e. when a new file's hash is needed
   * before its header can be written. Every other file streams straight through.
   */
  hasCandidates(size: number, mode: number): boolean {
    return this.groups.has(groupKey(size, mode));
  }

  /**
   * Name of the first file written with this exact content, if any. Hashes the files of the
   * same size and mode recorded unhashed first, in the order they were written.
   */
  async find(size: number, mode: number, sha256: string): Promise<string | undefined> {
    const group = this.groups.get(groupKey(size, mode));
    if (!group) return undefined;
    while (group.unhashed.length > 0) {
      const first = group.unhashed[0];
      if (!first) break;
      const hash = await first.hash();
      group.unhashed.shift();
      if (!group.byHash.has(hash)) group.byHash.set(hash, first.name);
    }
    return group.byHash.get(sha256);
  }

  /** Record a file that was written with its content; the first name for a content wins. */
  add(size: number, mode: number, sha256: string, name: string): void {
    const group = this.group(size, mode);
    if (!group.byHash.has(sha256)) group.byHash.set(sha256, name);
  }

  /**
   * Record a file written without its hash; `hash` must give the sha256 hex of the content
   * written (the store is immutable, so reading the file again does).
   */
  addUnhashed(size: number, mode: number, name: string, hash: () => Promise<string>): void {
    this.group(size, mode).unhashed.push({ name, hash });
  }

  private group(size: number, mode: number): Group {
    const key = groupKey(size, mode);
    let group = this.groups.get(key);
    if (!group) {
      group = { byHash: new Map(), unhashed: [] };
      this.groups.set(key, group);
    }
    return group;
  }
}

interface Group {
  readonly byHash: Map<string, string>;
  readonly unhashed: Array<{ readonly name: string; readonly hash: () => Promise<string> }>;
}

function groupKey(size: number, mode: number): string {
  return `${size}:${mode.toString(8)}`;
}
