import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { basicAuth } from '../support/raw-http.js';
import { startCriContainerd, type CriContainerd } from '../support/cri.js';

/**
 * Kubernetes imagePullSecrets: the kubelet hands the secret's credentials to the CRI in
 * `PullImageRequest.auth`, and containerd's CRI fetches a token with them, with the OAuth2 form
 * of the token endpoint (`POST /token`). Anonymous pulls are off, so nothing gets through without.
 */
describe('CRI PullImage with credentials (imagePullSecrets), anonymous pulls off', { timeout: 180_000 }, () => {
  let registry: RunningRegistry;
  let cri: CriContainerd;
  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd(), anonymousPull: false } }, { source: await FakePackageSource.create() });
    cri = await startCriContainerd([registry.host]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([cri?.stop(), registry?.close()]);
  });

  /** Token requests answered, by method and status, from the registry's own metrics. */
  const tokenRequests = async (method: string, status: string): Promise<number> => {
    const text = await (await fetch(`${registry.url}/metrics`, { headers: { authorization: basicAuth(TEST_USER, TEST_PASSWORD) } })).text();
    const line = text.split('\n').find((row) => row.startsWith('stowage_http_requests_total{') && row.includes('route="/token"') && row.includes(`method="${method}"`) && row.includes(`status="${status}"`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  it('refuses a pull without credentials and with a wrong password', async () => {
    await expect(cri.pullImage(`${registry.host}/tool:latest`)).rejects.toThrow(/401|unauthorized|authorization/i);
    await expect(cri.pullImage(`${registry.host}/tool:latest`, { username: TEST_USER, password: 'wrong' })).rejects.toThrow(/401|unauthorized|authorization/i);
  });

  it('pulls with the secret’s username and password, through POST /token', async () => {
    const before = await tokenRequests('POST', '200');
    const ref = await cri.pullImage(`${registry.host}/tool:latest`, { username: TEST_USER, password: TEST_PASSWORD });
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await tokenRequests('POST', '200')).toBeGreaterThan(before);
  });

  it('pulls with an identity token: a refresh token from POST /token', async () => {
    const offline = await fetch(`${registry.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: TEST_USER, password: TEST_PASSWORD, service: 'stowage', client_id: 'kubelet-test', access_type: 'offline' }),
    });
    const { refresh_token: refreshToken } = (await offline.json()) as { refresh_token: string };
    // containerd sends an identity token as grant_type=refresh_token; the GET fallback could not use it.
    const ref = await cri.pullImage(`${registry.host}/extra:latest`, { identityToken: refreshToken });
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    await expect(cri.pullImage(`${registry.host}/extra:latest`, { identityToken: `${refreshToken.slice(0, -4)}AAAA` })).rejects.toThrow(/401|unauthorized|authorization/i);
  });
});
