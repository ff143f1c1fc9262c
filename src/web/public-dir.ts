import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The `public/` directory with the UI's pages and assets, or null when it is not installed
 * (an image built without it). It sits at the package root: two levels above this file when run
 * from `src/web/` (tsx, tests), three from `dist/src/web/`.
 */
export function findPublicDir(): string | null {
  for (const up of ['../..', '../../..']) {
    const candidate = resolve(import.meta.dirname, up, 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return null;
}
