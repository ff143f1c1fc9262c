import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../src/auth/access-policy.js';
import type { AccessDecider, AccessDecision, AccessTarget, RefusalKind } from '../../../src/registry/access-decision.js';
import { routePermissions } from '../../../src/registry/route-permission.js';
import type { ImageNameOptions } from '../../../src/image-name/image-name.js';

const request = { headers: {}, caller: 'carol' } as unknown as FastifyRequest;
const imageNames: ImageNameOptions = { maxPackages: 64, shellPackages: ['busybox'], systems: ['x86_64-linux'], compression: 'gzip' };
const policy = new AccessPolicy({ anonymousPull: false, usersConfigured: true, rules: [{ repository: 'team/**', users: ['alice'], groups: [], actions: ['push'] }] });

/** A decider that records what it is asked and answers `decision`. */
function recording(decision: AccessDecision): { decide: AccessDecider; asked: AccessTarget[] } {
  const asked: AccessTarget[] = [];
  return { asked, decide: async (_request, target) => (asked.push(target), decision) };
}

describe('the web UI’s permissions', () => {
  it('ask the registry’s decider what the DELETE route would answer, and offer Delete only when it allows', async () => {
    const yes = recording({ allowed: true, caller: 'alice', basicChallenge: false });
    expect(await routePermissions(yes.decide, policy, true, imageNames).mayDelete(request, 'team/app')).toEqual({ allowed: true });
    expect(yes.asked).toEqual([{ access: 'write', v2: true, scope: { type: 'repository', name: 'team/app', action: 'delete', challenge: 'repository:team/app:delete', blobHead: false } }]);
    const kinds: RefusalKind[] = ['invalid-token', 'token-scope', 'anonymous-token', 'no-users', 'no-credentials', 'fetch-token', 'malformed', 'wrong-password', 'rules'];
    for (const kind of kinds) {
      const no = recording({ allowed: false, kind, code: kind === 'rules' ? 'DENIED' : 'UNAUTHORIZED', user: 'carol' });
      const answer = await routePermissions(no.decide, policy, true, imageNames).mayDelete(request, 'team/app');
      expect({ kind, allowed: answer.allowed, worded: (answer.reason ?? '') !== '' }).toEqual({ kind, allowed: false, worded: true });
    }
  });

  it('do not ask at all where deletes are off', async () => {
    const yes = recording({ allowed: true, caller: 'alice', basicChallenge: false });
    expect(await routePermissions(yes.decide, policy, false, imageNames).mayDelete(request, 'team/app')).toMatchObject({ allowed: false, signIn: false });
    expect(yes.asked).toEqual([]);
  });

  it('let the caller the access control let through see what the access rules let them pull', () => {
    const permissions = routePermissions(recording({ allowed: true, caller: null, basicChallenge: false }).decide, policy, true, imageNames);
    expect(permissions.mayPull(request, 'team/app')).toBe(false);
    expect(permissions.mayPull({ ...request, caller: 'alice' } as FastifyRequest, 'team/app')).toBe(true);
    expect(permissions.mayPull(request, 'elsewhere')).toBe(true);
    expect(permissions.mayPull({ ...request, caller: null } as FastifyRequest, 'elsewhere')).toBe(false);
  });
});
