import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every blob of an OCI layout directory (as skopeo writes it), by hex digest. */
export async function blobFiles(layout: string): Promise<Map<string, Buffer>> {
  const dir = join(layout, 'blobs', 'sha256');
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}
