import { resolve } from 'node:path';
import { AccessPolicy } from './auth/access-policy.js';
import { BcryptWorkers } from './auth/bcrypt-workers.js';
import { CredentialVerifier, type CredentialCheck } from './auth/credential-verifier.js';
import { Htpasswd } from './auth/htpasswd.js';
import { TokenSigner } from './auth/token-signer.js';
import type { Config } from './config/schema.js';
import type { AuthOptions } from './registry/access-control.js';

/** Part of the composition root: users, access rules and the token flow (config.auth). */
export async function createAuth(auth: Config['auth'], onCheck?: (check: CredentialCheck) => void): Promise<AuthOptions> {
  return {
    verifier: auth.htpasswdFile ? new CredentialVerifier(await Htpasswd.load(resolve(auth.htpasswdFile)), { compare: new BcryptWorkers().compare, onCheck }) : null,
    anonymousPull: auth.anonymousPull,
    policy: new AccessPolicy({ anonymousPull: auth.anonymousPull, usersConfigured: auth.htpasswdFile !== '', rules: auth.access, groups: auth.groups }),
    realm: auth.realm,
    ...(auth.token.enabled ? { tokens: tokenAuth(auth.token) } : {}),
  };
}

/** The token flow's signer and settings (auth.token). */
function tokenAuth(token: { service: string; realm: string; keyFile: string; ttlSeconds: number; refreshTtlSeconds: number; challengeAnonymousReads: boolean }) {
  const signer = new TokenSigner({ keyFile: token.keyFile === '' ? '' : resolve(token.keyFile), service: token.service, issuer: token.service, ttlSeconds: token.ttlSeconds });
  return { signer, service: token.service, realm: token.realm, refreshTtlSeconds: token.refreshTtlSeconds, challengeAnonymousReads: token.challengeAnonymousReads };
}
