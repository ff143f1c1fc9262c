import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PACKAGE_SET, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { run, skopeoPull } from '../support/commands.js';

const FIRST_TEXT = 'Hello, world!\n';
const SECOND_TEXT = 'Hello from the second commit!\n';
const REFRESH_MS = 60_000;

/**
 * A Nix package set served from a git repository the test makes: two commits of the example
 * package set, the second changing what `hello` prints. skopeo pulls `hello` at a commit id, an
 * abbreviated one, a tag and branches; the image's hello, run under chroot, prints the text of
 * the commit each names. Moving a branch shows at that tag once the refresh interval (on an
 * injected clock) has passed.
 */
describe('Nix package set revisions from git', () => {
  let work: string;
  let bare: string;
  let first: string;
  let second: string;
  let registry: RunningRegistry;
  let now = 1_000_000;

  const git = async (args: string[], cwd?: string): Promise<string> =>
    (await run('git', args, { ...(cwd ? { cwd } : {}), env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1' } })).stdout.trim();

  /** Pull `hello:<tag>`, unpack it, and run its hello. */
  async function helloAt(tag: string): Promise<string> {
    const dir = await mkdtemp(join(work, `pull-${tag.slice(0, 12)}-`));
    await skopeoPull(registry.host, `hello:${tag}`, join(dir, 'layout'));
    await run('umoci', ['unpack', '--image', `${join(dir, 'layout')}:x`, join(dir, 'bundle')]);
    return (await run('chroot', [join(dir, 'bundle', 'rootfs'), '/bin/hello'])).stdout;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'stowage-git-'));
    const checkout = join(work, 'checkout');
    await cp(EXAMPLE_PACKAGE_SET, checkout, { recursive: true });
    await git(['init', '--quiet', '--initial-branch', 'main'], checkout);
    await git(['add', '--all'], checkout);
    await git(['commit', '--quiet', '--message', 'first'], checkout);
    await git(['tag', '--annotate', 'v1', '--message', 'the first release'], checkout);
    await git(['checkout', '--quiet', '-b', 'dev'], checkout);
    const hello = join(checkout, 'src', 'hello.sh');
    await writeFile(hello, (await readFile(hello, 'utf8')).replace('"") greet ;;', `"") printf '%s\\n' '${SECOND_TEXT.trim()}' ;;`));
    await git(['commit', '--quiet', '--all', '--message', 'second'], checkout);
    first = await git(['rev-parse', 'main'], checkout);
    second = await git(['rev-parse', 'dev'], checkout);
    bare = join(work, 'pkgs.git');
    await git(['clone', '--quiet', '--bare', checkout, bare]);
    await git(['--git-dir', bare, 'symbolic-ref', 'HEAD', 'refs/heads/main']);
    registry = await startRegistry({ source: { packageSet: bare, gitRefreshMs: REFRESH_MS } }, { now: () => now });
  });

  afterAll(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('serves a commit by its full and abbreviated id', async () => {
    expect(await helloAt(first)).toBe(FIRST_TEXT);
    expect(await helloAt(second.slice(0, 10))).toBe(SECOND_TEXT);
  });

  it('serves an annotated tag and branches', async () => {
    expect(await helloAt('v1')).toBe(FIRST_TEXT);
    expect(await helloAt('dev')).toBe(SECOND_TEXT);
    expect(await helloAt('main')).toBe(FIRST_TEXT);
    expect(await helloAt('latest')).toBe(FIRST_TEXT);
  });

  it('gives a commit the same image by id and by a tag pointing at it, with an SBOM naming the commit', async () => {
    const digest = async (tag: string) => (await fetch(`${registry.url}/v2/hello/manifests/${tag}`, { method: 'HEAD' })).headers.get('docker-content-digest');
    const byId = await digest(first);
    expect(byId).toMatch(/^sha256:/);
    expect(await digest('v1')).toBe(byId);
    expect(await digest('dev')).not.toBe(byId);
    // The image's SBOM names the commit its closure came from.
    const json = async <T>(path: string): Promise<T> => (await fetch(`${registry.url}${path}`)).json() as Promise<T>;
    const [referrer] = (await json<{ manifests: Array<{ digest: string }> }>(`/v2/hello/referrers/${byId}`)).manifests;
    const artifact = await json<{ layers: Array<{ digest: string }> }>(`/v2/hello/manifests/${referrer?.digest}`);
    const sbom = await json<{ creationInfo: { comment: string } }>(`/v2/hello/blobs/${artifact.layers[0]?.digest}`);
    expect(sbom.creationInfo.comment).toContain(`nix:git:${first}`);
  });

  it('picks up a moved branch once the refresh interval has passed', async () => {
    await git(['--git-dir', bare, 'update-ref', 'refs/heads/main', second]);
    expect(await helloAt('main')).toBe(FIRST_TEXT);
    now += REFRESH_MS;
    expect(await helloAt('main')).toBe(SECOND_TEXT);
    expect(await helloAt('latest')).toBe(SECOND_TEXT);
    // A commit is a commit forever, whatever the branches do.
    expect(await helloAt(first.slice(0, 7))).toBe(FIRST_TEXT);
  });

  it('answers 404 MANIFEST_UNKNOWN naming an unknown revision', async () => {
    for (const tag of ['nope', 'deadbeefdeadbeef', 'a..b']) {
      const response = await fetch(`${registry.url}/v2/hello/manifests/${tag}`);
      expect(response.status, tag).toBe(404);
      const body = (await response.json()) as { errors: Array<{ code: string; message: string; detail: { revision: string; known: string[] } }> };
      expect(body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
      expect(body.errors[0]?.message).toContain(`"${tag}"`);
      expect(body.errors[0]?.detail.revision).toBe(tag);
      expect(body.errors[0]?.detail.known).toEqual(expect.arrayContaining(['latest', 'main', 'dev', 'v1']));
    }
  });

  it('lists the known revisions in tags/list of a name never built', async () => {
    const response = await fetch(`${registry.url}/v2/cowsay/tags/list`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { tags: string[] }).tags).toEqual(['dev', 'latest', 'main', 'v1']);
  });

  it('serves the same repository through a file:// URL, with the same image digests', async () => {
    const viaUrl = await startRegistry({ source: { packageSet: `file://${bare}` } });
    try {
      expect(((await (await fetch(`${viaUrl.url}/v2/hello/tags/list`)).json()) as { tags: string[] }).tags).toEqual(['dev', 'latest', 'main', 'v1']);
      const digestOf = async (base: string) => (await fetch(`${base}/v2/hello/manifests/${first}`, { method: 'HEAD' })).headers.get('docker-content-digest');
      expect(await digestOf(viaUrl.url)).toBe(await digestOf(registry.url));
    } finally {
      await viaUrl.close();
    }
  });
});
