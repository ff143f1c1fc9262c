import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { AccessPolicy } from './auth/access-policy.js';
import { BcryptWorkers } from './auth/bcrypt-workers.js';
import { CredentialVerifier, type CredentialCheck } from './auth/credential-verifier.js';
import { HtpasswdFile } from './auth/htpasswd-file.js';
import { TokenSigner } from './auth/token-signer.js';
import type { Config } from './config/schema.js';
import type { AuthOptions } from './registry/access-control.js';

export interface AuthWiring {
  /** Observes every password check that runs bcrypt (tests count them). */
  readonly onCheck?: (check: CredentialCheck) => void;
  readonly logger: Logger;
  /** Where the htpasswd reload gauges are registered. */
  readonly metrics: Registry;
  /** Epoch ms; the htpasswd file is looked at again at most every 5 s of it. */
  readonly now?: () => number;
}

/** Part of the composition root: users, access rules and the token flow (config.auth). */
export async function createAuth(auth: Config['auth'], wiring: AuthWiring): Promise<AuthOptions> {
  return {
    verifier: auth.htpasswdFile ? new CredentialVerifier(await htpasswdFile(resolve(auth.htpasswdFile), wiring), { compare: new BcryptWorkers().compare, onCheck: wiring.onCheck }) : null,
    anonymousPull: auth.anonymousPull,
    policy: new AccessPolicy({ anonymousPull: auth.anonymousPull, usersConfigured: auth.htpasswdFile !== '', rules: auth.access, groups: auth.groups }),
    realm: auth.realm,
    ...(auth.token.enabled ? { tokens: tokenAuth(auth.token) } : {}),
  };
}

/** The htpasswd file, re-read when it changes; a reload that fails is logged and shown in /metrics. */
async function htpasswdFile(path: string, { logger, metrics, now }: AuthWiring): Promise<HtpasswdFile> {
  const log = logger.child({ module: 'auth', htpasswd: path });
  const file = await HtpasswdFile.open({
    path,
    ...(now ? { now } : {}),
    onReload: (reload) => {
      if (reload.ok) log.info({ users: reload.users }, 'htpasswd file changed: users reloaded');
      else log.error({ reason: reload.error }, 'htpasswd file changed but cannot be loaded; keeping the previous users');
    },
  });
  new Gauge({
    name: 'stowage_htpasswd_reload_failing',
    help: '1 while the htpasswd file on disk cannot be loaded and the users loaded before it are served',
    registers: [metrics],
    collect() {
      this.set(file.lastError === null ? 0 : 1);
    },
  });
  new Gauge({
    name: 'stowage_htpasswd_users',
    help: 'Users in the htpasswd file in use',
    registers: [metrics],
    collect() {
      this.set(file.size);
    },
  });
  return file;
}

/** The token flow's signer and settings (auth.token). */
function tokenAuth(token: { service: string; realm: string; keyFile: string; ttlSeconds: number; refreshTtlSeconds: number; challengeAnonymousReads: boolean }) {
  const signer = new TokenSigner({ keyFile: token.keyFile === '' ? '' : resolve(token.keyFile), service: token.service, issuer: token.service, ttlSeconds: token.ttlSeconds });
  return { signer, service: token.service, realm: token.realm, refreshTtlSeconds: token.refreshTtlSeconds, challengeAnonymousReads: token.challengeAnonymousReads };
}
