import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AccessEntry } from './token-scopes.js';

export interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly jti: string;
  readonly access: readonly AccessEntry[];
  /**
   * A user's token: the fingerprint of their htpasswd entry when issued, so the token stops
   * working once the user is removed or changes password, as their password and refresh tokens do.
   */
  readonly bind?: string;
}

/** A refresh token's claims: no access, only the right to ask for access tokens as `sub`. */
export interface RefreshClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly use: 'refresh';
  /** Fingerprint of the user's htpasswd entry when issued. */
  readonly bind: string;
}

export interface TokenSignerOptions {
  /** PEM file of a P-256 private key shared by every replica; empty = a key made at start (one replica). */
  readonly keyFile: string;
  /** The `service` the tokens are for (their audience). */
  readonly service: string;
  readonly issuer: string;
  readonly ttlSeconds: number;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Verified tokens remembered (default 1000), so a pull's many requests verify one signature. */
  readonly cacheEntries?: number;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/**
 * Issues and verifies the registry's bearer tokens: JWTs signed with ES256 (node:crypto, the
 * signature in JOSE's r||s form). Verification checks signature, algorithm, audience and the
 * validity window; a verified token is cached until it expires (bounded, oldest dropped first),
 * so the hot path pays one map lookup.
 */
export class TokenSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly now: () => number;
  private readonly cache = new Map<string, TokenClaims>();
  private readonly maxEntries: number;
  private readonly header: string;

  constructor(private readonly options: TokenSignerOptions) {
    this.privateKey = options.keyFile === '' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : createPrivateKey(readFileSync(options.keyFile));
    if (this.privateKey.asymmetricKeyType !== 'ec' || this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`auth.token.keyFile must hold a P-256 (prime256v1) EC private key for ES256`);
    }
    this.publicKey = createPublicKey(this.privateKey);
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.maxEntries = options.cacheEntries ?? 1000;
    this.header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT' }));
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  /** Entries in the verified-token cache (bounded by `cacheEntries`). */
  get cachedEntries(): number {
    return this.cache.size;
  }

  /** An access token for `subject` ('' = anonymous), bound to `bind` (see TokenClaims.bind) when given. */
  issue(subject: string, access: readonly AccessEntry[], bind?: string): { token: string; claims: TokenClaims } {
    const iat = this.now();
    const claims: TokenClaims = { iss: this.options.issuer, sub: subject, aud: this.options.service, exp: iat + this.options.ttlSeconds, nbf: iat - 10, iat, jti: randomUUID(), access, ...(bind !== undefined ? { bind } : {}) };
    return { token: this.sign(claims), claims };
  }

  /**
   * A refresh token (OAuth2 `access_type=offline`) for `subject`: signed like an access token
   * but never accepted as one, valid `ttlSeconds`, and bound to `binding` (a fingerprint of the
   * user's password entry), so it stops working when the user is removed or the password changes.
   */
  issueRefresh(subject: string, binding: string, ttlSeconds: number): string {
    const iat = this.now();
    const claims: RefreshClaims = { iss: this.options.issuer, sub: subject, aud: this.options.service, exp: iat + ttlSeconds, iat, jti: randomUUID(), use: 'refresh', bind: binding };
    return this.sign(claims);
  }

  /** The claims of a valid refresh token for this service, or null (an access token is not one). */
  verifyRefresh(token: string): RefreshClaims | null {
    const claims = this.decode(token) as Partial<RefreshClaims> | null;
    if (claims === null || claims.use !== 'refresh' || typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.bind !== 'string') return null;
    if (claims.aud !== this.options.service || typeof claims.exp !== 'number' || claims.exp <= this.now()) return null;
    return claims as RefreshClaims;
  }

  /** The claims of a valid token for this service, or null (bad signature, other audience, expired, malformed). */
  verify(token: string): TokenClaims | null {
    const now = this.now();
    const cached = this.cache.get(token);
    if (cached !== undefined) {
      if (cached.exp > now) return cached;
      this.cache.delete(token);
      return null;
    }
    const claims = this.decode(token) as (TokenClaims & { use?: unknown }) | null;
    if (claims === null || claims.use !== undefined) return null;
    if (claims.aud !== this.options.service || typeof claims.exp !== 'number' || claims.exp <= now || (typeof claims.nbf === 'number' && claims.nbf > now)) return null;
    if (!Array.isArray(claims.access)) return null;
    this.cache.set(token, claims);
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return claims;
  }

  private sign(claims: object): string {
    const input = `${this.header}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  }

  /** The payload of a JWT this key signed with ES256, or null. */
  private decode(token: string): Record<string, unknown> | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    try {
      const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
      if (alg !== 'ES256') return null;
      if (!verify('sha256', Buffer.from(`${header}.${payload}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) return null;
      const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}
