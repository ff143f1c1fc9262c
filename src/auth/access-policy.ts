/**
 * Who may do what to which repository: the one place that decides, for Basic credentials on
 * `/v2/*` and for the scopes the token endpoint grants alike.
 *
 * Without rules (`auth.access` empty, the default) every htpasswd user may pull, push and
 * delete everywhere, and anonymous callers pull when `auth.anonymousPull` is on. With rules:
 * - push and delete are denied unless a rule matching the repository lists the user (by name,
 *   through a group, or `*` for any authenticated user) with that action; push implies pull
 *   (pushers ask for blobs before uploading them);
 * - pull: anonymous callers pull when anonymous pulls are on, whatever the rules say. A user
 *   pulls a repository that no rule names (built images stay readable), and a repository that
 *   a rule names only when one of the rules naming it lists the user with pull or push: a
 *   namespace given to a team by rules is private to it when anonymous pulls are off.
 */
export type RepositoryAction = 'pull' | 'push' | 'delete';

export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/** One `auth.access` entry, as the config schema validated it. */
export interface AccessRuleConfig {
  /** A repository name or glob: `*` is any run of characters within one path component, a whole component `**` any number of components (none included). */
  readonly repository: string;
  /** Users (htpasswd names); `*` = any authenticated user. */
  readonly users: readonly string[];
  /** Names of `auth.groups`. */
  readonly groups: readonly string[];
  readonly actions: readonly RepositoryAction[];
}

export interface AccessPolicyOptions {
  readonly anonymousPull: boolean;
  /** Whether any user exists (an htpasswd file is configured); without users nobody pushes. */
  readonly usersConfigured: boolean;
  readonly rules?: readonly AccessRuleConfig[];
  readonly groups?: Readonly<Record<string, readonly string[]>>;
}

interface CompiledRule {
  readonly matches: (repository: string) => boolean;
  readonly includes: (user: string) => boolean;
  readonly actions: ReadonlySet<RepositoryAction>;
}

const NONE: ReadonlySet<RepositoryAction> = new Set();
const ALL: ReadonlySet<RepositoryAction> = new Set(REPOSITORY_ACTIONS);
const PULL: ReadonlySet<RepositoryAction> = new Set(['pull']);

export class AccessPolicy {
  private readonly rules: readonly CompiledRule[];

  constructor(private readonly options: AccessPolicyOptions) {
    const groups = options.groups ?? {};
    this.rules = (options.rules ?? []).map((rule) => {
      const members = new Set([...rule.users, ...rule.groups.flatMap((group) => groups[group] ?? [])]);
      const actions = new Set(rule.actions);
      if (actions.has('push')) actions.add('pull');
      return { matches: globMatcher(rule.repository), includes: (user) => members.has('*') || members.has(user), actions };
    });
  }

  get anonymousPull(): boolean {
    return this.options.anonymousPull;
  }

  /** Whether any user exists (auth.htpasswdFile is set). */
  get usersConfigured(): boolean {
    return this.options.usersConfigured;
  }

  /** Whether rules are configured at all (then push and delete are denied unless a rule allows them). */
  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  /** What `user` (null = anonymous) may do to `repository`. */
  actions(user: string | null, repository: string): ReadonlySet<RepositoryAction> {
    if (user === null || !this.options.usersConfigured) return this.options.anonymousPull ? PULL : NONE;
    if (this.rules.length === 0) return ALL;
    const naming = this.rules.filter((rule) => rule.matches(repository));
    const granted = new Set<RepositoryAction>();
    for (const rule of naming) if (rule.includes(user)) for (const action of rule.actions) granted.add(action);
    if (naming.length === 0 || this.options.anonymousPull) granted.add('pull');
    return granted;
  }

  allows(user: string | null, repository: string, action: RepositoryAction): boolean {
    return this.actions(user, repository).has(action);
  }

  /** The catalog goes with reading: anyone when anonymous pulls are on, else any user. */
  mayListCatalog(user: string | null): boolean {
    return this.options.anonymousPull || (user !== null && this.options.usersConfigured);
  }
}

/** A matcher for a repository glob (see AccessRuleConfig.repository); the schema validated its syntax. */
export function globMatcher(pattern: string): (repository: string) => boolean {
  const wanted = pattern.split('/');
  const component = (glob: string): RegExp => new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('[^/]*')}$`);
  const compiled = wanted.map((glob) => (glob === '**' ? null : component(glob)));
  const match = (i: number, parts: readonly string[], j: number): boolean => {
    if (i === compiled.length) return j === parts.length;
    const glob = compiled[i];
    if (glob === null) {
      for (let k = j; k <= parts.length; k += 1) if (match(i + 1, parts, k)) return true;
      return false;
    }
    return glob !== undefined && j < parts.length && glob.test(parts[j] as string) && match(i + 1, parts, j + 1);
  };
  return (repository) => match(0, repository.split('/'), 0);
}
