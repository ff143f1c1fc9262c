import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Salt and hash of a dummy bcrypt entry; prefixed with a cost, it costs what a real one does. */
const DUMMY_SALT_AND_HASH = 'Rp75yQCkSdFqX7.heEa3QOgjZNEYlKqXN983XwwzqCfNFnOv4Wmui';

/**
 * Users from an htpasswd file (`htpasswd -B`), bcrypt hashes only: the other htpasswd formats
 * (MD5-crypt, SHA1, crypt) are too weak to accept for a registry. Comparing is left to the
 * caller (a worker thread, see credential-verifier.ts); this class only says what to compare.
 */
export class Htpasswd {
  /** The hash unknown users are compared against: the file's most common cost, so they take as long. */
  readonly dummyHash: string;

  private constructor(private readonly hashes: ReadonlyMap<string, string>) {
    this.dummyHash = `$2b$${String(typicalCost([...hashes.values()])).padStart(2, '0')}$${DUMMY_SALT_AND_HASH}`;
  }

  /** @throws Error naming the line of any entry that is not `user:bcrypt-hash`. */
  static async load(file: string): Promise<Htpasswd> {
    const hashes = new Map<string, string>();
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1);
      if (colon <= 0 || !/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
        throw new Error(`${file}:${index + 1}: not a "user:bcrypt-hash" entry (create one with htpasswd -B)`);
      }
      hashes.set(user, hash);
    });
    return new Htpasswd(hashes);
  }

  static fromEntries(entries: Iterable<[string, string]>): Htpasswd {
    return new Htpasswd(new Map(entries));
  }

  /** How many users there are. */
  get size(): number {
    return this.hashes.size;
  }

  /** A fixed set of users is its own current version (see HtpasswdSource). */
  async current(): Promise<Htpasswd> {
    return this;
  }

  /**
   * A fingerprint of the user's entry (null for unknown users), the same in every process that
   * reads the same file: it changes when the password does, so tokens bound to it stop working.
   */
  fingerprint(user: string): string | null {
    const hash = this.hashes.get(user);
    return hash === undefined ? null : createHash('sha256').update(`stowage-user\0${user}\0${hash}`).digest('base64url').slice(0, 22);
  }

  /**
   * What to compare a password with for `user`: their hash, or the dummy one when the user does
   * not exist (`known` false: the answer is then "no" whatever the comparison says).
   */
  hashFor(user: string): { readonly hash: string; readonly known: boolean } {
    const hash = this.hashes.get(user);
    // Apache writes $2y$; it is the same algorithm as $2b$.
    return hash === undefined ? { hash: this.dummyHash, known: false } : { hash: hash.replace(/^\$2y\$/, '$2b$'), known: true };
  }
}

/** The most common bcrypt cost among the hashes (the higher one on a tie); 10 without any. */
function typicalCost(hashes: readonly string[]): number {
  const counts = new Map<number, number>();
  for (const hash of hashes) {
    const cost = Number(hash.slice(4, 6));
    counts.set(cost, (counts.get(cost) ?? 0) + 1);
  }
  let best = 10;
  let bestCount = 0;
  for (const [cost, count] of counts) {
    if (count > bestCount || (count === bestCount && cost > best)) [best, bestCount] = [cost, count];
  }
  return best;
}
