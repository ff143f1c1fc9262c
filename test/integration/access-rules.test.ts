import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { FakePackageSource } from '../support/fake-source.js';
import { run } from '../support/commands.js';

/**
 * Per-namespace access rules with a real token client: skopeo logs in through the token flow, so
 * what it may do is what /token grants under the rules. Anonymous pulls are off, so the rules'
 * namespace is private to its team for reads too.
 */
describe('auth.access with skopeo through the token flow', { timeout: 120_000 }, () => {
  let registry: RunningRegistry;
  let work: string;
  const creds = (user: string) => `${user}:pw-${user}`;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-rules-'));
    const htpasswdFile = join(work, 'htpasswd');
    await writeFile(htpasswdFile, ['alice', 'carol'].map((user) => `${user}:${bcrypt.hashSync(`pw-${user}`, 4)}\n`).join(''));
    registry = await startRegistry(
      { auth: { htpasswdFile, anonymousPull: false, groups: { 'team-a': ['alice'] }, access: [{ repository: 'team-a/**', groups: ['team-a'], actions: ['push'] }] } },
      { source: await FakePackageSource.create() },
    );
  });
  afterAll(async () => {
    await registry?.close();
  });

  const skopeo = (args: string[]) => run('skopeo', ['--insecure-policy', ...args], { timeoutMs: 60_000 });

  it('lets the team push and pull its namespace, and nobody else', async () => {
    const layout = `oci:${join(work, 'layout')}:x`;
    // Built images stay readable by every user.
    await skopeo(['copy', '--quiet', '--src-tls-verify=false', '--src-creds', creds('carol'), `docker://${registry.host}/tool:latest`, layout]);
    await expect(skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds('carol'), layout, `docker://${registry.host}/team-a/app:1`])).rejects.toThrow(/denied|unauthorized|authentication required/i);
    await expect(skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds('alice'), layout, `docker://${registry.host}/elsewhere/app:1`])).rejects.toThrow(/denied|unauthorized|authentication required/i);
    await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds('alice'), layout, `docker://${registry.host}/team-a/app:1`]);
    const inspect = (user: string) => skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds(user), `docker://${registry.host}/team-a/app:1`]);
    expect((await inspect('alice')).stdout).toContain('schemaVersion');
    await expect(inspect('carol')).rejects.toThrow(/denied|unauthorized|authentication required/i);
  });
});
