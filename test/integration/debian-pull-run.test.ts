import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { createPodman, type Podman } from '../support/podman.js';
import { run, skopeoPull } from '../support/commands.js';
import { DEBIAN_TEST_CACHE } from '../support/debian.js';

/**
 * Real Debian software through the routed default: the registry resolves names against
 * Debian's archive (as the machine's apt sources name it), fetches the `.deb`s into a cache
 * shared by this run's test files, and podman pulls and runs the images.
 */
describe('Debian images pulled and run with podman', () => {
  let registry: RunningRegistry;
  let podman: Podman;
  let work: string;
  const downloads: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry(
      { source: { kind: 'routed', debian: { cacheDir: DEBIAN_TEST_CACHE } }, builds: { requestWaitMs: 600_000 } },
      { debianFetcher: { onDownload: (pkg) => downloads.push(pkg.sha256) } },
    );
    podman = await createPodman();
    work = await mkdtemp(join(tmpdir(), 'stowage-debian-'));
    await podman.podman(['pull', '--quiet', '--tls-verify=false', `${registry.host}/shell/git/curl`], 900_000);
  }, 900_000);

  afterAll(async () => {
    await podman?.cleanup();
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const runIn = async (image: string, script: string): Promise<string> => (await podman.runImage(`${registry.host}/${image}`, ['/bin/bash', '-c', script])).stdout;

  it('runs git: version, init, commit, log', { timeout: 120_000 }, async () => {
    const out = await runIn('shell/git/curl', [
      'git --version',
      'cd /tmp && git init -q repo && cd repo',
      'echo hello > file && git add file',
      'git -c user.name=t -c user.email=t@example.invalid commit -q -m first',
      'git log --format=%s',
    ].join(' && '));
    expect(out).toMatch(/^git version 2\.\d+/);
    expect(out.trim().split('\n').at(-1)).toBe('first');
  });

  it('runs curl, reading a file URL', { timeout: 120_000 }, async () => {
    const out = await runIn('shell/git/curl', 'curl --version | head -1 && curl -s file:///etc/os-release');
    expect(out).toMatch(/^curl \d+\.\d+/);
    expect(out).toContain('ID=debian');
  });

  it('runs perl with a core module and awk through its alternative', { timeout: 120_000 }, async () => {
    const out = await runIn('shell/git/curl', "perl -MList::Util=sum -e 'print sum(1, 2, 3), qq(\\n)' && awk 'BEGIN { print 6 * 7 }' && readlink /etc/alternatives/awk");
    expect(out.split('\n').slice(0, 3)).toEqual(['6', '42', '/usr/bin/mawk']);
  });

  it('lists the image packages with dpkg -l', { timeout: 120_000 }, async () => {
    const out = await runIn('shell/git/curl', 'dpkg -l 2>&1');
    const installed = out.split('\n').filter((line) => line.startsWith('ii ')).map((line) => line.split(/\s+/)[1]);
    expect(installed).toEqual(expect.arrayContaining(['git', 'curl', 'bash', 'libc6:amd64', 'coreutils']));
    expect(installed.length).toBeGreaterThan(50);
    expect(out).not.toContain('warning');
  });

  it("answers dpkg -L and dpkg -S from the packages' info files, and dpkg --verify from their md5sums", { timeout: 120_000 }, async () => {
    const out = await runIn('shell/git/curl', [
      'dpkg -L git | grep -x /usr/bin/git',
      'dpkg -S /usr/bin/git /bin/bash',
      // libc6 is Multi-Arch: same: its files are libc6:amd64.list and .md5sums.
      'dpkg -L libc6 | grep -c /libc.so.6',
      'dpkg --verify git curl bash libc6 && echo verified',
    ].join(' && ') + ' 2>&1');
    expect(out.split('\n')).toEqual(['/usr/bin/git', 'git: /usr/bin/git', 'bash: /bin/bash', expect.stringMatching(/^[1-9]\d*$/), 'verified', '']);
  });

  it('has the usr-merged layout and the shell as command', async () => {
    await skopeoPull(registry.host, 'shell/git/curl:latest', join(work, 'gc'));
    const layout = join(work, 'gc');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const blob = (digest: string) => readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8');
    const manifest = JSON.parse(await blob(index.manifests[0]?.digest ?? '')) as { config: { digest: string }; layers: unknown[] };
    const config = JSON.parse(await blob(manifest.config.digest)) as { config: { Cmd: string[]; Env: string[] } };
    expect(config.config.Cmd).toEqual(['/bin/bash']);
    expect(config.config.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const out = await runIn('shell/git/curl', 'readlink /bin /lib64 && stat -c %a /tmp && test -x /usr/bin/git && echo ok');
    expect(out).toBe('usr/bin\nusr/lib64\n1777\nok\n');
  });

  it('runs python3 with ssl, sqlite3 and json', { timeout: 900_000 }, async () => {
    await podman.podman(['pull', '--quiet', '--tls-verify=false', `${registry.host}/shell/python3`], 900_000);
    const out = await runIn('shell/python3', "python3 -c 'import ssl, sqlite3, json; print(ssl.OPENSSL_VERSION)'");
    expect(out).toMatch(/^OpenSSL 3\./);
  });

  it('runs jq, whose image command is jq itself without shell', { timeout: 900_000 }, async () => {
    await podman.podman(['pull', '--quiet', '--tls-verify=false', `${registry.host}/shell/jq`], 900_000);
    expect(await runIn('shell/jq', `echo '{"a":1}' | jq .a`)).toBe('1\n');
    await skopeoPull(registry.host, 'jq:latest', join(work, 'jq'));
    const index = JSON.parse(await readFile(join(work, 'jq', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const blob = (digest: string) => readFile(join(work, 'jq', 'blobs', ...digest.split(':')), 'utf8');
    const manifest = JSON.parse(await blob(index.manifests[0]?.digest ?? '')) as { config: { digest: string } };
    expect((JSON.parse(await blob(manifest.config.digest)) as { config: { Cmd: string[] } }).config.Cmd).toEqual(['/usr/bin/jq']);
  });

  it('assembles a CA bundle from ca-certificates', { timeout: 900_000 }, async () => {
    await podman.podman(['pull', '--quiet', '--tls-verify=false', `${registry.host}/shell/ca-certificates/curl`], 900_000);
    const out = await runIn('shell/ca-certificates/curl', 'grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt');
    expect(Number(out.trim())).toBeGreaterThan(100);
  });

  it("shares shell/git's layers with shell/git/curl", async () => {
    const layers = async (name: string): Promise<string[]> => {
      const response = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      const manifest = (await response.json()) as { layers: Array<{ digest: string }> };
      return manifest.layers.map((layer) => layer.digest);
    };
    const git = await layers('shell/git');
    const both = await layers('shell/git/curl');
    // Every package layer of shell/git reappears; only the top layer (dpkg status) differs.
    expect(both).toEqual(expect.arrayContaining(git.slice(0, -1)));
    expect(git.length).toBeGreaterThan(30);
  });

  it('downloads nothing when an image is pulled again', async () => {
    const before = downloads.length;
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${registry.host}/shell/git/curl:latest`, `oci:${join(work, 'again')}:x`]);
    // A second registry on the same .deb cache builds the image again without downloading.
    const second = await startRegistry({ source: { kind: 'debian', debian: { cacheDir: DEBIAN_TEST_CACHE } }, builds: { requestWaitMs: 600_000 } }, { debianFetcher: { onDownload: (pkg) => downloads.push(pkg.sha256) } });
    try {
      await skopeoPull(second.host, 'shell/git/curl:latest', join(work, 'rebuilt'));
    } finally {
      await second.close();
    }
    expect(downloads.length).toBe(before);
    // Rebuilt from the same .debs, every layer has the same bytes, and so has the config: its
    // source label names Debian whether the routed default or a plain Debian source built it.
    const manifestOf = async (dir: string) => {
      const blob = (digest: string) => readFile(join(work, dir, 'blobs', ...digest.split(':')), 'utf8');
      const index = JSON.parse(await readFile(join(work, dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      const manifest = JSON.parse(await blob(index.manifests[0]?.digest ?? '')) as { config: { digest: string }; layers: Array<{ digest: string }> };
      const config = JSON.parse(await blob(manifest.config.digest)) as { config: { Labels: Record<string, string> } };
      return { layers: manifest.layers.map((layer) => layer.digest), config: manifest.config.digest, source: config.config.Labels['dev.stowage.source'] };
    };
    const rebuilt = await manifestOf('rebuilt');
    expect(rebuilt).toEqual(await manifestOf('gc'));
    expect(rebuilt.source).toBe('debian');
  }, 600_000);
});
