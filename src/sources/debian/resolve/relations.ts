import type { VersionOperator } from './version.js';

/**
 * Relationship fields (Depends, Pre-Depends, Provides) as deb-control(5) writes them:
 * comma-separated relations, each a `|`-separated list of alternatives
 * `name[:archqual] [(op version)] [[arch list]] [<profiles>]`.
 */

/** One alternative of a relation. */
export interface RelationAlternative {
  readonly name: string;
  /** Architecture qualifier after `:` (`any`, `native`, `amd64`), or null. */
  readonly archQualifier: string | null;
  /** Version constraint, or null when any version will do. */
  readonly constraint: { readonly op: VersionOperator; readonly version: string } | null;
  /** Architecture restriction list (`[amd64 !i386]`), or null. */
  readonly architectures: readonly string[] | null;
}

/** A relation: satisfied when any one alternative is. `text` is the relation as written. */
export interface Relation {
  readonly alternatives: readonly RelationAlternative[];
  readonly text: string;
}

/** A relation field broke the grammar. */
export class RelationSyntaxError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`malformed relation "${field}": ${reason}`);
    this.name = 'RelationSyntaxError';
  }
}

const ALTERNATIVE = /^([A-Za-z0-9][A-Za-z0-9+.\-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?\s*(?:\[([^\]]*)\])?\s*(?:<[^>]*>\s*)*$/;

function parseAlternative(text: string, field: string): RelationAlternative {
  const match = ALTERNATIVE.exec(text.trim());
  if (!match) throw new RelationSyntaxError(field, `cannot read "${text.trim()}"`);
  const rawOp = match[3];
  // `<` and `>` are obsolete spellings of `<=` and `>=` (deb-control(5)).
  const op: VersionOperator | undefined = rawOp === '<' ? '<=' : rawOp === '>' ? '>=' : (rawOp as VersionOperator | undefined);
  return {
    name: match[1] as string,
    archQualifier: match[2] ?? null,
    constraint: op !== undefined && match[4] !== undefined ? { op, version: match[4] } : null,
    architectures: match[5] !== undefined ? match[5].split(/\s+/).filter((a) => a !== '') : null,
  };
}

/** Parses a Depends-like field into relations; '' gives none. */
export function parseRelations(field: string): Relation[] {
  const relations: Relation[] = [];
  for (const part of field.split(',')) {
    const text = part.trim();
    if (text === '') continue;
    relations.push({ alternatives: text.split('|').map((a) => parseAlternative(a, field)), text });
  }
  return relations;
}

/** A `Provides` entry: only `=` versions are allowed there. */
export interface Provision {
  readonly name: string;
  readonly version: string | null;
}

/** Parses a Provides field. */
export function parseProvides(field: string): Provision[] {
  return parseRelations(field).map((relation) => {
    const alternative = relation.alternatives[0] as RelationAlternative;
    if (relation.alternatives.length !== 1) throw new RelationSyntaxError(field, 'Provides cannot list alternatives');
    return { name: alternative.name, version: alternative.constraint?.op === '=' ? alternative.constraint.version : null };
  });
}

/**
 * Whether an alternative applies on `architecture`: true without a restriction list; with one,
 * true when a positive entry matches, or when every entry is negated and none matches. `any`
 * and `linux-any` match every architecture stowage serves.
 */
export function appliesTo(alternative: RelationAlternative, architecture: string): boolean {
  const list = alternative.architectures;
  if (list === null || list.length === 0) return true;
  const matches = (entry: string): boolean => entry === architecture || entry === 'any' || entry === 'linux-any' || entry === `linux-${architecture}`;
  const negated = list.filter((a) => a.startsWith('!')).map((a) => a.slice(1));
  if (negated.length === list.length) return !negated.some(matches);
  return list.filter((a) => !a.startsWith('!')).some(matches);
}
