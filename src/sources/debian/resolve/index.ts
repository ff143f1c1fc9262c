/**
 * Resolution over a Debian index snapshot: dpkg version comparison, relation parsing, the
 * closure resolver with its documented choice rule, the `shell` meta-package, the spelling of
 * Debian names in image names, and popularity for the layering.
 */
export { chooseFor, relationsOf, type Choice, type ChooseContext } from './choose.js';
export { debianNameOf, ociSpellingOf } from './name-spelling.js';
export { debianPopularity, dependencyGraph, type DebianDependencyGraph, type DebianPopularityOptions } from './popularity.js';
export { appliesTo, parseProvides, parseRelations, RelationSyntaxError, type Provision, type Relation, type RelationAlternative } from './relations.js';
export { resolveClosure, type ResolveOptions } from './resolver.js';
export { expandShell, SHELL_META_PACKAGE, SHELL_PACKAGES } from './shell-packages.js';
export { compareVersions, parseVersion, versionSatisfies, type DebianVersion, type VersionOperator } from './version.js';
