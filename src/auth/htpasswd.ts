import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

/**
 * Users from an htpasswd file (`htpasswd -B`), bcrypt hashes only: the other htpasswd formats
 * (MD5-crypt, SHA1, crypt) are too weak to accept for a registry.
 */
export class Htpasswd {
  private constructor(private readonly hashes: ReadonlyMap<string, string>) {}

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

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.hashes.get(user);
    // Compare against a fixed hash for unknown users too, so timing does not reveal who exists.
    const candidate = hash ?? '$2b$10$Rp75yQCkSdFqX7.heEa3QOgjZNEYlKqXN983XwwzqCfNFnOv4Wmui';
    // Apache writes $2y$; it is the same algorithm as $2b$.
    const ok = await bcrypt.compare(password, candidate.replace(/^\$2y\$/, '$2b$'));
    return ok && hash !== undefined;
  }
}
