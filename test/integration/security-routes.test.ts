import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth, envelopeCode, rawRequest } from '../support/raw-http.js';

/**
 * Issue 11 points 1 and 8: authorization follows the route that matched. Every registered route
 * (collected with fastify's onRoute hook) must declare its access, and every spelling of every
 * path (percent-encoded, double-slashed, dot-segment, mixed-case) is refused without
 * credentials wherever the route needs them, under both `anonymousPull` settings, through the
 * real listening server with raw requests.
 */
const DIGEST = `sha256:${'0'.repeat(64)}`;
const V2_SAMPLES = ['tool/manifests/latest', `tool/blobs/${DIGEST}`, 'tool/tags/list', `tool/referrers/${DIGEST}`, 'tool/blobs/uploads/', 'tool/blobs/uploads/some-id', ''];

interface RouteSeen {
  readonly methods: readonly string[];
  readonly url: string;
  /** Read after startup: later onRoute hooks (the web UI's, for @fastify/static) may still declare it. */
  readonly access: unknown;
}

/** Concrete paths for a route pattern: wildcards and parameters filled with plausible values. */
function samplesOf(url: string): string[] {
  if (url === '/v2/*') return V2_SAMPLES.map((rest) => `/v2/${rest}`);
  if (url === '/static/*') return ['/static/style.css'];
  return [url.replace(/\*$/, 'tool').replace(/:[A-Za-z]+/g, 'x')];
}

/** What a request needs: writes, and an upload's status, always need a user. */
function needsUser(method: string, path: string, access: unknown): boolean {
  if (access === 'write') return true;
  if (path.startsWith('/v2/') && method !== 'GET' && method !== 'HEAD') return true;
  return /^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(path);
}

/** The spellings an attacker would try for one path; none may change the access decision. */
export function spellingsOf(path: string): string[] {
  const segments = path.split('/').slice(1);
  const encodeFirst = (segment: string) => (segment === '' ? '' : `%${segment.charCodeAt(0).toString(16)}${segment.slice(1)}`);
  const spellings = [
    path,
    `/${segments.map(encodeFirst).join('/')}`,
    path.replace(/^\/v2/, '/v%32'),
    path.replace(/^\/v2/, '/%76%32'),
    path.replace(/\//g, '//'),
    `/${segments[0] ?? ''}/.${path.slice((segments[0] ?? '').length + 1)}`,
    `/x/..${path}`,
    `/${segments.map((segment) => segment.charAt(0).toUpperCase() + segment.slice(1)).join('/')}`,
  ];
  return [...new Set(spellings)];
}

describe.each([false, true])('access control with anonymousPull=%s', (anonymousPull) => {
  let registry: RunningRegistry;
  const routes: RouteSeen[] = [];
  const login = basicAuth(TEST_USER, TEST_PASSWORD);

  beforeAll(async () => {
    const onRoute = (route: RouteOptions): void => {
      routes.push({
        methods: ([] as string[]).concat(route.method),
        url: route.url,
        get access() {
          return route.config?.access;
        },
      });
    };
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd(), anonymousPull } }, { source: await FakePackageSource.create(), onRoute });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('sees every route declare its access', () => {
    const urls = routes.map((route) => route.url);
    for (const expected of ['/v2/*', '/v2', '/healthz', '/readyz', '/metrics', '/api/v1/builds', '/api/v1/builds/*', '/api/v1/info', '/', '/static/*']) {
      expect(urls, expected).toContain(expected);
    }
    const undeclared = routes.filter((route) => route.access === undefined).map((route) => `${route.methods.join(',')} ${route.url}`);
    expect(undeclared).toEqual([]);
    for (const route of routes) if (typeof route.access === 'string') expect(['public', 'read', 'login', 'write']).toContain(route.access);
  });

  it('refuses every spelling of every path that needs credentials', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of routes) {
      for (const method of route.methods) {
        for (const path of samplesOf(route.url)) {
          const protectedPath = route.access !== 'public' && (!anonymousPull || needsUser(method, path, route.access));
          for (const spelling of spellingsOf(path)) {
            const response = await rawRequest(registry.host, method, spelling);
            checked += 1;
            const what = `${method} ${spelling} -> ${response.status}`;
            if (response.status >= 500 && route.access !== 'public') failures.push(`${what} (server error)`);
            if (!protectedPath) continue;
            // Unmatched spellings answer 404 where anonymous reads are allowed: they reach nothing.
            const allowed = anonymousPull ? [401, 404] : [401];
            if (!allowed.includes(response.status)) failures.push(what);
            if (spelling === path && response.status !== 401) failures.push(`${what} (the plain path must ask for credentials)`);
            if (method !== 'HEAD' && envelopeCode(response) === null) failures.push(`${what} (not an OCI envelope)`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });

  it('refuses the issue’s reproductions: writes and closed reads through an encoded /v2 prefix', async () => {
    const digest = `sha256:${'1'.repeat(64)}`;
    for (const prefix of ['/%762', '/v%32', '/%76%32']) {
      for (const [method, path] of [
        ['POST', `/team/app/blobs/uploads/?digest=${digest}`],
        ['PUT', '/team/app/manifests/latest'],
        ['DELETE', '/team/app/manifests/latest'],
        ['DELETE', `/team/app/blobs/${digest}`],
      ] as const) {
        expect((await rawRequest(registry.host, method, `${prefix}${path}`, { body: '{}' })).status, `${method} ${prefix}${path}`).toBe(401);
      }
      const read = await rawRequest(registry.host, 'GET', `${prefix}/tool/manifests/latest`);
      expect(read.status, `GET ${prefix}`).toBe(anonymousPull ? 200 : 401);
    }
  });

  it('lets a valid user through every route, and anonymous readers through reads when allowed', async () => {
    expect(routes.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const route of routes) {
      for (const method of route.methods) {
        for (const path of samplesOf(route.url)) {
          const authenticated = await rawRequest(registry.host, method, path, { headers: { authorization: login } });
          if (authenticated.status === 401) failures.push(`${method} ${path} refused a valid user`);
          const readable = route.access === 'public' || (anonymousPull && !needsUser(method, path, route.access));
          if (!readable) continue;
          if (/^\/v2\/?$/.test(path)) {
            // The ping is a login check: with the token flow (the default) it answers anonymous callers with the Bearer
            // challenge, so docker fetches a token with the password it has; it refuses bad credentials so `docker login` can tell.
            const ping = await rawRequest(registry.host, method, path);
            if (ping.status !== 401 || !String(ping.headers['www-authenticate']).startsWith('Bearer realm=')) failures.push(`${method} ${path} did not challenge an anonymous ping`);
            if ((await rawRequest(registry.host, method, path, { headers: { authorization: basicAuth('nobody', 'wrong') } })).status !== 401) failures.push(`${method} ${path} took bad credentials`);
            continue;
          }
          if (path === '/token' && method === 'POST') {
            // The OAuth2 form checks the password in the body: a grant is required, a wrong password is a 401.
            if ((await rawRequest(registry.host, method, path)).status !== 400) failures.push(`${method} ${path} took a request without a grant`);
            const form = { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password&username=nobody&password=wrong&service=stowage&client_id=t' };
            if ((await rawRequest(registry.host, method, path, form)).status !== 401) failures.push(`${method} ${path} took bad credentials`);
            continue;
          }
          if (path === '/token') {
            // The token endpoint is where logins are checked: anonymous callers get a token, bad credentials a 401.
            if ((await rawRequest(registry.host, method, path)).status !== 200) failures.push(`${method} ${path} refused an anonymous caller`);
            if ((await rawRequest(registry.host, method, path, { headers: { authorization: basicAuth('nobody', 'wrong') } })).status !== 401) failures.push(`${method} ${path} took bad credentials`);
            continue;
          }
          // Bad credentials on a read that needs none are ignored, not checked.
          const anonymous = await rawRequest(registry.host, method, path, { headers: { authorization: basicAuth('nobody', 'wrong') } });
          if (anonymous.status === 401) failures.push(`${method} ${path} refused an anonymous read`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps the build status, metrics and web API behind credentials when anonymous pulls are off', async () => {
    for (const path of ['/api/v1/builds', '/api/v1/builds/tool', '/metrics', '/api/v1/info', '/api/v1/images', '/']) {
      const response = await rawRequest(registry.host, 'GET', path);
      if (anonymousPull) expect(response.status, path).not.toBe(401);
      else {
        expect(response.status, path).toBe(401);
        expect(response.headers['www-authenticate']).toContain('Basic');
      }
    }
    expect((await rawRequest(registry.host, 'GET', '/healthz')).status).toBe(200);
  });
});
