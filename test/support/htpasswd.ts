import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

export const TEST_USER = 'pusher';
export const TEST_PASSWORD = 'correct horse battery staple';

/** An htpasswd file with one bcrypt user, as `htpasswd -B` writes it. */
export async function writeHtpasswd(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'stowage-auth-')), 'htpasswd');
  await writeFile(file, `# test users\n${TEST_USER}:${bcrypt.hashSync(TEST_PASSWORD, 8).replace(/^\$2b\$/, '$2y$')}\n`);
  return file;
}
