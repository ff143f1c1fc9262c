import { REPOSITORY_ACTIONS, type AccessPolicy, type RepositoryAction } from './access-policy.js';

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

/** The scopes requested, from every `scope` value; malformed ones are skipped (the spec: grant what can be granted). */
export function parseScopes(values: readonly string[]): AccessEntry[] {
  // One entry per type and name, its actions each once: a scope asked again (500 copies made a
  // 40 KB token, past every client's header limit) adds nothing to the token.
  const entries = new Map<string, { type: string; name: string; actions: Set<string> }>();
  for (const value of values) {
    for (const scope of value.split(' ')) {
      // The name may hold ':' (a registry host with a port); type and actions never do.
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last <= first + 1) continue;
      const actions = scope.slice(last + 1).split(',').filter((action) => action !== '');
      if (actions.length === 0) continue;
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      const key = `${type}\u0000${name}`;
      const entry = entries.get(key) ?? { type, name, actions: new Set<string>() };
      for (const action of actions) entry.actions.add(action);
      entries.set(key, entry);
    }
  }
  return [...entries.values()].map(({ type, name, actions }) => ({ type, name, actions: [...actions] }));
}

/**
 * What `user` (null = anonymous) gets of what it asked, as the access policy decides per
 * repository (see access-policy.ts); `*` only with every action. The catalog goes with reading.
 * Anything else asked is left out, not refused (the spec: grant what can be granted).
 * `pullRefused` names repositories whose pull the caller must not get although the rules on the
 * name as spelled allow it (another spelling of the same image is refused: the registry knows
 * which, registry/image-spellings.ts).
 */
export function grant(requested: readonly AccessEntry[], user: string | null, policy: AccessPolicy, pullRefused: ReadonlySet<string> = new Set()): AccessEntry[] {
  const granted: AccessEntry[] = [];
  for (const entry of requested) {
    let actions: string[];
    if (entry.type === 'repository') {
      const rights = withoutPull(policy.actions(user, entry.name), pullRefused.has(entry.name));
      actions = entry.actions.filter((action) => rights.has(action as RepositoryAction) || (action === '*' && rights.size === REPOSITORY_ACTIONS.length));
    } else if (entry.type === 'registry' && entry.name === 'catalog') actions = policy.mayListCatalog(user) ? entry.actions.filter((action) => action === '*') : [];
    else actions = [];
    if (actions.length > 0) granted.push({ type: entry.type, name: entry.name, actions: [...new Set(actions)] });
  }
  return granted;
}

function withoutPull(rights: ReadonlySet<RepositoryAction>, refused: boolean): ReadonlySet<RepositoryAction> {
  return refused ? new Set([...rights].filter((action) => action !== 'pull')) : rights;
}

/** Whether the access claim allows `action` on `type:name` (`*` stands for every action). */
export function allows(access: readonly AccessEntry[], type: string, name: string, action: string): boolean {
  return access.some((entry) => entry.type === type && entry.name === name && (entry.actions.includes(action) || entry.actions.includes('*')));
}
