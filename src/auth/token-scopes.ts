/**
 * Scopes of the distribution token spec: `repository:<name>:<actions>` and
 * `registry:catalog:*`, as clients ask for them (`scope=` once or more, space-separated) and as
 * tokens carry them (the `access` claim).
 */
export interface AccessEntry {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** Who asks: a user from the htpasswd file, or nobody. */
export interface TokenSubject {
  readonly user: string | null;
}

export interface GrantPolicy {
  /** Anonymous callers may pull (auth.anonymousPull). */
  readonly anonymousPull: boolean;
  /** Whether any user exists; without users nobody can push. */
  readonly usersConfigured: boolean;
}

const ACTIONS = ['pull', 'push', 'delete'] as const;

/** The scopes requested, from every `scope` value; malformed ones are skipped (the spec: grant what can be granted). */
export function parseScopes(values: readonly string[]): AccessEntry[] {
  const entries: AccessEntry[] = [];
  for (const value of values) {
    for (const scope of value.split(' ')) {
      // The name may hold ':' (a registry host with a port); type and actions never do.
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last <= first + 1) continue;
      const actions = scope.slice(last + 1).split(',').filter((action) => action !== '');
      if (actions.length === 0) continue;
      entries.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions });
    }
  }
  return entries;
}

/**
 * What a subject gets of what it asked: anonymous callers pull when anonymous pulls are on;
 * users pull, push and delete (whether deletes are allowed at all is the route's business);
 * the catalog goes with pull rights. Anything else asked is left out, not refused.
 */
export function grant(requested: readonly AccessEntry[], subject: TokenSubject, policy: GrantPolicy): AccessEntry[] {
  const rights: readonly string[] = subject.user !== null && policy.usersConfigured ? ACTIONS : policy.anonymousPull ? ['pull'] : [];
  const granted: AccessEntry[] = [];
  for (const entry of requested) {
    let actions: string[];
    if (entry.type === 'repository') actions = entry.actions.filter((action) => rights.includes(action) || (action === '*' && rights.length === ACTIONS.length));
    else if (entry.type === 'registry' && entry.name === 'catalog') actions = rights.includes('pull') ? entry.actions.filter((action) => action === '*') : [];
    else actions = [];
    if (actions.length > 0) granted.push({ type: entry.type, name: entry.name, actions: [...new Set(actions)] });
  }
  return granted;
}

/** Whether the access claim allows `action` on `type:name` (`*` stands for every action). */
export function allows(access: readonly AccessEntry[], type: string, name: string, action: string): boolean {
  return access.some((entry) => entry.type === type && entry.name === name && (entry.actions.includes(action) || entry.actions.includes('*')));
}
