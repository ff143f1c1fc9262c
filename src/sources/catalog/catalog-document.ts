import { readFile, rename, writeFile } from 'node:fs/promises';
import { CATALOG_VERSION, parseCatalogDocument, type CatalogDocument, type CatalogPackage } from './catalog.js';

/** One revision's packages for one system, as a generator or importer produced them. */
export interface CatalogEntry {
  readonly revision: string;
  readonly system: string;
  readonly packages: Readonly<Record<string, CatalogPackage>>;
  readonly description?: string;
  /** Tags to point at this revision (`latest`). */
  readonly aliases?: readonly string[];
}

/**
 * Put `entry` into the catalog at `file`: a new document, or (unless `replace`) the existing
 * one with this revision's packages for this system replaced and everything else kept. The
 * result is validated and written atomically (temp file, then rename).
 * @throws InvalidCatalogError when the existing file or the result is invalid.
 */
export async function writeCatalogEntry(file: string, entry: CatalogEntry, options: { replace?: boolean } = {}): Promise<CatalogDocument> {
  let document: CatalogDocument = { version: CATALOG_VERSION, revisions: {} };
  if (!options.replace) {
    const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (existing !== null) document = parseCatalogDocument(existing, file);
  }
  const revision = document.revisions[entry.revision] ?? { systems: {} };
  const packages = Object.fromEntries(Object.entries(entry.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const updated: CatalogDocument = {
    ...document,
    ...(entry.aliases?.length || document.aliases
      ? { aliases: { ...document.aliases, ...Object.fromEntries((entry.aliases ?? []).map((alias) => [alias, entry.revision])) } }
      : {}),
    revisions: {
      ...document.revisions,
      [entry.revision]: {
        ...(entry.description !== undefined ? { description: entry.description } : revision.description !== undefined ? { description: revision.description } : {}),
        systems: { ...revision.systems, [entry.system]: packages },
      },
    },
  };
  const text = `${JSON.stringify(updated, null, 2)}\n`;
  parseCatalogDocument(text, file);
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, file);
  return updated;
}

/**
 * Packages from `nix-env -qaP --json --out-path [--meta]` output (the usual way to list nixpkgs):
 * each attribute's `outputs`, with `install` from `meta.outputsToInstall` (documentation outputs
 * dropped) or else its `outputName`. Entries without output paths are skipped.
 */
export function packagesFromNixEnv(json: unknown): { packages: Record<string, CatalogPackage>; skipped: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('nix-env output must be a JSON object keyed by attribute path');
  const packages: Record<string, CatalogPackage> = {};
  const skipped: string[] = [];
  for (const [attribute, raw] of Object.entries(json as Record<string, unknown>)) {
    const item = (raw ?? {}) as { outputs?: unknown; outputName?: unknown; version?: unknown; meta?: { outputsToInstall?: unknown; description?: unknown } };
    const outputs = item.outputs;
    if (typeof outputs !== 'object' || outputs === null || Object.values(outputs).some((path) => typeof path !== 'string' || path === '')) {
      skipped.push(attribute);
      continue;
    }
    const names = Object.keys(outputs);
    const documentation = new Set(['man', 'doc', 'info', 'devdoc']);
    const wanted = Array.isArray(item.meta?.outputsToInstall) ? item.meta.outputsToInstall.filter((name): name is string => typeof name === 'string') : [];
    let install = wanted.filter((name) => names.includes(name) && !documentation.has(name));
    if (install.length === 0) install = [typeof item.outputName === 'string' && names.includes(item.outputName) ? item.outputName : (names.includes('out') ? 'out' : (names[0] as string))];
    packages[attribute] = {
      outputs: outputs as Record<string, string>,
      ...(install.length === 1 && install[0] === 'out' ? {} : { install }),
      ...(typeof item.version === 'string' && item.version !== '' ? { version: item.version } : {}),
      ...(typeof item.meta?.description === 'string' ? { description: item.meta.description } : {}),
    };
  }
  return { packages, skipped };
}
