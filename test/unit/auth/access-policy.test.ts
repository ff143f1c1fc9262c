import { describe, expect, it } from 'vitest';
import { AccessPolicy, globMatcher, type AccessRuleConfig } from '../../../src/auth/access-policy.js';
import { grant, parseScopes } from '../../../src/auth/token-scopes.js';

const rule = (repository: string, actions: AccessRuleConfig['actions'], users: string[] = [], groups: string[] = []): AccessRuleConfig => ({ repository, actions, users, groups });
const sorted = (actions: ReadonlySet<string>) => [...actions].sort();

describe('repository globs', () => {
  it('matches * within one component and ** across any number of them', () => {
    const oneLevel = globMatcher('team-a/*');
    expect(oneLevel('team-a/app')).toBe(true);
    expect(oneLevel('team-a/app/sub')).toBe(false);
    expect(oneLevel('team-a')).toBe(false);
    expect(oneLevel('team-ab/app')).toBe(false);
    const anyDepth = globMatcher('team-a/**');
    expect(['team-a', 'team-a/app', 'team-a/app/sub'].map(anyDepth)).toEqual([true, true, true]);
    expect(anyDepth('team-ab/app')).toBe(false);
    expect(globMatcher('**')('anything/at/all')).toBe(true);
    expect(globMatcher('web-*/app')('web-prod/app')).toBe(true);
    expect(globMatcher('a.b/c')('axb/c')).toBe(false); // '.' is literal
    expect(globMatcher('exact/name')('exact/name')).toBe(true);
    expect(globMatcher('exact/name')('exact/name2')).toBe(false);
  });
});

describe('AccessPolicy', () => {
  const rules = [rule('team-a/**', ['push', 'delete'], [], ['a']), rule('team-a/public', ['pull'], ['*']), rule('shared/*', ['push'], ['carol'])];
  const groups = { a: ['alice', 'bob'] };

  it('without rules lets users do everything and anonymous callers pull when anonymous pulls are on', () => {
    const open = new AccessPolicy({ anonymousPull: true, usersConfigured: true });
    expect(sorted(open.actions('alice', 'x/y'))).toEqual(['delete', 'pull', 'push']);
    expect(sorted(open.actions(null, 'x/y'))).toEqual(['pull']);
    expect(sorted(new AccessPolicy({ anonymousPull: false, usersConfigured: true }).actions(null, 'x'))).toEqual([]);
    expect(sorted(new AccessPolicy({ anonymousPull: true, usersConfigured: false }).actions('alice', 'x'))).toEqual(['pull']);
  });

  it('with rules denies push and delete where no rule lets the user, through names, groups or *', () => {
    const policy = new AccessPolicy({ anonymousPull: true, usersConfigured: true, rules, groups });
    expect(sorted(policy.actions('alice', 'team-a/app'))).toEqual(['delete', 'pull', 'push']);
    expect(sorted(policy.actions('bob', 'team-a/app/sub'))).toEqual(['delete', 'pull', 'push']);
    expect(sorted(policy.actions('carol', 'team-a/app'))).toEqual(['pull']); // anonymous pulls are on
    expect(sorted(policy.actions('carol', 'shared/tool'))).toEqual(['pull', 'push']); // push implies pull
    expect(policy.allows('alice', 'shared/tool', 'push')).toBe(false);
    expect(policy.allows('alice', 'elsewhere', 'push')).toBe(false); // no rule: denied
    expect(sorted(policy.actions(null, 'team-a/app'))).toEqual(['pull']);
  });

  it('with anonymous pulls off, a namespace the rules name is readable only by the users they list', () => {
    const policy = new AccessPolicy({ anonymousPull: false, usersConfigured: true, rules, groups });
    expect(policy.allows('carol', 'team-a/app', 'pull')).toBe(false);
    expect(policy.allows('carol', 'team-a/public', 'pull')).toBe(true); // users: ['*']
    expect(policy.allows('alice', 'team-a/app', 'pull')).toBe(true);
    expect(policy.allows('carol', 'hello', 'pull')).toBe(true); // no rule names it: any user reads
    expect(policy.allows(null, 'hello', 'pull')).toBe(false);
    expect(policy.mayListCatalog('carol')).toBe(true);
    expect(policy.mayListCatalog(null)).toBe(false);
  });

  it('grants a token only the actions the rules allow', () => {
    const policy = new AccessPolicy({ anonymousPull: true, usersConfigured: true, rules, groups });
    const asked = parseScopes(['repository:team-a/app:pull,push,delete repository:shared/tool:pull,push,delete repository:other:* registry:catalog:*']);
    expect(grant(asked, 'carol', policy)).toEqual([
      { type: 'repository', name: 'team-a/app', actions: ['pull'] },
      { type: 'repository', name: 'shared/tool', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(grant(parseScopes(['repository:team-a/x:*']), 'alice', policy)).toEqual([{ type: 'repository', name: 'team-a/x', actions: ['*'] }]);
  });
});
