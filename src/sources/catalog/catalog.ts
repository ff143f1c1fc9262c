import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isStorePath } from '../binary-cache/store-path.js';
import type { PackageSummary } from '../types.js';

/**
 * A catalog maps package attribute paths to store paths, per package-set revision and system,
 * so that images can be served from a binary cache without evaluating Nix. The format is
 * documented in docs/catalog.md; `stowage catalog generate` writes it.
 */
export const CATALOG_VERSION = 1;

/** OCI tag grammar: a revision is the image tag that selects it. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SYSTEM = /^[a-z0-9_]+-[a-z0-9_]+$/;
const OUTPUT = /^[A-Za-z0-9_+-]+$/;

const packageSchema = z
  .object({
    /** Output name → store path. */
    outputs: z.record(z.string().regex(OUTPUT, 'an output name'), z.string().refine(isStorePath, 'a store path (/nix/store/<hash>-<name>)')),
    /** Outputs an image gets when the package is named (meta.outputsToInstall without docs). Default: ["out"]. */
    install: z.array(z.string()).min(1).optional(),
    /** For search listings only. */
    version: z.string().optional(),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((pkg, context) => {
    const outputs = Object.keys(pkg.outputs);
    if (outputs.length === 0) context.addIssue({ code: 'custom', message: 'a package needs at least one output' });
    const install = pkg.install ?? ['out'];
    for (const output of install) {
      if (!(output in pkg.outputs)) context.addIssue({ code: 'custom', path: ['install'], message: `installs "${output}", which is not one of its outputs (${outputs.join(', ')})` });
    }
  });

const revisionSchema = z
  .object({
    description: z.string().optional(),
    systems: z.record(z.string().regex(SYSTEM, 'a Nix system such as x86_64-linux'), z.record(z.string().min(1), packageSchema)),
  })
  .strict();

export const catalogSchema = z
  .object({
    version: z.literal(CATALOG_VERSION),
    /** Tags that name another revision (`latest` → `2024-01`). */
    aliases: z.record(z.string().regex(TAG, 'an OCI tag'), z.string()).optional(),
    revisions: z.record(z.string().regex(TAG, 'an OCI tag'), revisionSchema),
  })
  .strict();

export type CatalogDocument = z.infer<typeof catalogSchema>;
export type CatalogPackage = z.infer<typeof packageSchema>;

/** A catalog file that is not valid JSON or breaks the format. */
export class InvalidCatalogError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`catalog ${file} is invalid: ${reason}`);
    this.name = 'InvalidCatalogError';
  }
}

/** @throws InvalidCatalogError */
export function parseCatalogDocument(text: string, file: string): CatalogDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidCatalogError(file, `not JSON: ${(error as Error).message}`);
  }
  const result = catalogSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new InvalidCatalogError(file, problems.join('; '));
  }
  return result.data;
}

/** What a package name resolves to in one revision and system. */
export interface CatalogMatch {
  /** The catalog's attribute path (its own spelling, e.g. `python3Packages.numpy`). */
  readonly attribute: string;
  /** Store paths of the selected outputs, in the order listed. */
  readonly outputs: readonly string[];
}

interface SystemPackages {
  readonly packages: ReadonlyMap<string, CatalogPackage>;
  /** Lower-cased attribute path → the attribute paths with that spelling. */
  readonly folded: ReadonlyMap<string, readonly string[]>;
  readonly identity: string;
}

/**
 * One or more catalog documents merged. Revisions (and aliases) must not repeat across files
 * unless they list different systems.
 */
export class Catalog {
  private readonly bySystem = new Map<string, Map<string, SystemPackages>>();
  private readonly aliases = new Map<string, string>();

  /** @throws InvalidCatalogError on a revision/system listed twice or an alias to nowhere. */
  constructor(documents: ReadonlyArray<{ readonly file: string; readonly document: CatalogDocument }>) {
    for (const { file, document } of documents) {
      for (const [revision, content] of Object.entries(document.revisions)) {
        let systems = this.bySystem.get(revision);
        if (!systems) this.bySystem.set(revision, (systems = new Map()));
        for (const [system, packages] of Object.entries(content.systems)) {
          if (systems.has(system)) throw new InvalidCatalogError(file, `revision ${revision} for ${system} is listed twice`);
          systems.set(system, index(packages));
        }
      }
      for (const [alias, target] of Object.entries(document.aliases ?? {})) {
        if (this.aliases.has(alias) && this.aliases.get(alias) !== target) throw new InvalidCatalogError(file, `alias ${alias} names two revisions`);
        this.aliases.set(alias, target);
      }
    }
    for (const [alias, target] of this.aliases) {
      if (this.bySystem.has(alias)) throw new InvalidCatalogError(documents[0]?.file ?? '', `${alias} is both a revision and an alias`);
      if (!this.bySystem.has(target)) throw new InvalidCatalogError(documents[0]?.file ?? '', `alias ${alias} names the unknown revision ${target}`);
    }
  }

  /** Every tag the catalog answers: revisions and aliases, sorted. */
  tags(system?: string): string[] {
    const revisions = [...this.bySystem].filter(([, bySystem]) => system === undefined || bySystem.has(system)).map(([revision]) => revision);
    const aliases = [...this.aliases].filter(([, target]) => revisions.includes(target)).map(([alias]) => alias);
    return [...revisions, ...aliases].sort();
  }

  /** The revision a tag names (itself, or an alias's target), or undefined when unknown. */
  revisionOf(tag: string): string | undefined {
    const revision = this.aliases.get(tag) ?? tag;
    return this.bySystem.has(revision) ? revision : undefined;
  }

  /** True when the tag names a revision that has packages for `system`. */
  has(tag: string, system: string): boolean {
    const revision = this.revisionOf(tag);
    return revision !== undefined && (this.bySystem.get(revision)?.has(system) ?? false);
  }

  /**
   * A stable identity of what `tag` names for `system`: the revision and a digest of its
   * packages, so that image caches stay valid until the catalog's content for it changes.
   */
  identity(tag: string, system: string): string | undefined {
    const revision = this.revisionOf(tag);
    const packages = revision === undefined ? undefined : this.bySystem.get(revision)?.get(system);
    return packages ? `${revision}:${packages.identity}` : undefined;
  }

  /** The systems a revision (or alias) has packages for, sorted. */
  systems(tag: string): string[] {
    const revision = this.revisionOf(tag);
    return revision === undefined ? [] : [...(this.bySystem.get(revision)?.keys() ?? [])].sort();
  }

  /** Every package of `tag` for `system` (empty when unknown), sorted by attribute path. */
  packages(tag: string, system: string): PackageSummary[] {
    const revision = this.revisionOf(tag);
    const packages = revision === undefined ? undefined : this.bySystem.get(revision)?.get(system);
    return packages ? summaries(packages) : [];
  }

  /**
   * Resolve a package name: the exact attribute path, else the one attribute path equal to it
   * ignoring case (image names are lower case: `python3packages.numpy` finds
   * `python3Packages.numpy`), else `<attribute>.<output>` selecting one output. A package named
   * alone contributes its `install` outputs.
   */
  lookup(tag: string, system: string, name: string): CatalogMatch | undefined {
    const revision = this.revisionOf(tag);
    const packages = revision === undefined ? undefined : this.bySystem.get(revision)?.get(system);
    if (!packages) return undefined;
    const whole = findAttribute(packages, name);
    if (whole !== undefined) {
      const pkg = packages.packages.get(whole) as CatalogPackage;
      return { attribute: whole, outputs: (pkg.install ?? ['out']).map((output) => pkg.outputs[output] as string) };
    }
    const dot = name.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const attribute = findAttribute(packages, name.slice(0, dot));
    if (attribute === undefined) return undefined;
    const pkg = packages.packages.get(attribute) as CatalogPackage;
    const wanted = name.slice(dot + 1);
    const output = wanted in pkg.outputs ? wanted : Object.keys(pkg.outputs).find((candidate) => candidate.toLowerCase() === wanted.toLowerCase());
    return output === undefined ? undefined : { attribute: `${attribute}.${output}`, outputs: [pkg.outputs[output] as string] };
  }
}

/** The packages of a revision for a system, by attribute path, for search. */
function summaries(packages: SystemPackages): PackageSummary[] {
  return [...packages.packages]
    .map(([name, pkg]) => ({ name, ...(pkg.version ? { version: pkg.version } : {}), ...(pkg.description ? { description: pkg.description } : {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function findAttribute(packages: SystemPackages, name: string): string | undefined {
  if (packages.packages.has(name)) return name;
  const matches = packages.folded.get(name.toLowerCase());
  return matches?.length === 1 ? matches[0] : undefined;
}

function index(packages: Record<string, CatalogPackage>): SystemPackages {
  const map = new Map(Object.entries(packages));
  const folded = new Map<string, string[]>();
  for (const attribute of map.keys()) {
    const key = attribute.toLowerCase();
    const list = folded.get(key);
    if (list) list.push(attribute);
    else folded.set(key, [attribute]);
  }
  const canonical = [...map.keys()].sort().map((attribute) => {
    const pkg = map.get(attribute) as CatalogPackage;
    const outputs = Object.keys(pkg.outputs).sort().map((output) => [output, pkg.outputs[output]]);
    return [attribute, outputs, pkg.install ?? ['out']];
  });
  const identity = createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 32);
  return { packages: map, folded, identity };
}
