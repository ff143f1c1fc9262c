import type { Readable } from 'node:stream';
import type { RootFsEntry, RootFsReader, RootFsTopLayer } from '../types.js';
import { chooseAlternatives } from './alternatives.js';
import { dpkgStatus } from './dpkg-status.js';
import { debianPathOf } from './package-path.js';
import type { DebianPackage } from './types.js';

type TopEntry = RootFsTopLayer['entries'][number];

/** The standard Debian PATH (what /etc/profile and login set for root). */
export const DEBIAN_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';
const NSSWITCH = [
  'passwd:         files',
  'group:          files',
  'shadow:         files',
  'gshadow:        files',
  'hosts:          files dns',
  'networks:       files',
  'protocols:      db files',
  'services:       db files',
  'ethers:         db files',
  'rpc:            db files',
  '',
].join('\n');
/** Used only when base-files is not in the image (it ships the real one). */
const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';

export interface DebianTopLayerInput {
  readonly packages: readonly DebianPackage[];
  /** Names of the requested packages (their chosen providers), for Cmd. */
  readonly roots: readonly string[];
  readonly reader: RootFsReader;
  /** A package's own control file, for the dpkg status stanza. */
  readonly control: (pkg: DebianPackage, signal: AbortSignal) => Promise<string>;
  readonly architecture: string;
  readonly shell: boolean;
  readonly signal: AbortSignal;
}

/**
 * What dpkg and the maintainer scripts would have left behind, for an image made by
 * unpacking packages only: the usr-merge links, `/var/lib/dpkg/status` (and the info
 * database's format; each package's own info files are in its layer), the CA bundle that
 * ca-certificates' postinst assembles, update-alternatives links, `/etc/passwd` and
 * `/etc/group` (base-passwd's master files when it is in the image, as its postinst copies
 * them), nsswitch, os-release (when base-files is absent), `/tmp` 1777 and `/root`.
 *
 * Cmd: with `shell`, `/bin/bash` (or `/bin/sh` without bash); else, for one requested package
 * that ships `/usr/bin/<name>`, that program; else none.
 */
export async function debianTopLayer(input: DebianTopLayerInput): Promise<RootFsTopLayer> {
  const byName = new Map(input.packages.map((pkg) => [pkg.name, pkg]));
  const entries: TopEntry[] = [
    { kind: 'symlink', path: 'bin', target: 'usr/bin' },
    { kind: 'symlink', path: 'sbin', target: 'usr/sbin' },
    { kind: 'symlink', path: 'lib', target: 'usr/lib' },
    ...(input.architecture === 'amd64' ? [{ kind: 'symlink', path: 'lib64', target: 'usr/lib64' } as const] : []),
    { kind: 'directory', path: 'tmp', mode: 0o1777 },
    { kind: 'directory', path: 'root', mode: 0o700 },
    { kind: 'directory', path: 'var/lib/dpkg/info', mode: 0o755 },
    // The multiarch database format: dpkg then looks for `libc6:amd64.list`, the names the
    // package layers give Multi-Arch: same packages' info files (dpkg-info.ts).
    { kind: 'file', path: 'var/lib/dpkg/info/format', mode: 0o644, content: '1\n' },
    { kind: 'directory', path: 'var/lib/dpkg/updates', mode: 0o755 },
    { kind: 'file', path: 'var/lib/dpkg/status', mode: 0o644, content: dpkgStatus(input.packages, await controlsOf(input)) },
    { kind: 'file', path: 'var/lib/dpkg/available', mode: 0o644, content: '' },
    { kind: 'file', path: 'etc/nsswitch.conf', mode: 0o644, content: NSSWITCH },
  ];
  const basePasswd = byName.get('base-passwd');
  const masters = basePasswd ? await readFiles(input.reader, basePasswd, (path) => /^usr\/share\/base-passwd\/(passwd|group)\.master$/.test(path), input.signal) : new Map<string, string>();
  entries.push({ kind: 'file', path: 'etc/passwd', mode: 0o644, content: masters.get('usr/share/base-passwd/passwd.master') ?? PASSWD });
  entries.push({ kind: 'file', path: 'etc/group', mode: 0o644, content: masters.get('usr/share/base-passwd/group.master') ?? GROUP });
  if (!byName.has('base-files')) entries.push({ kind: 'file', path: 'etc/os-release', mode: 0o644, content: OS_RELEASE });

  const caPackage = byName.get('ca-certificates');
  if (caPackage) entries.push(...(await caBundle(input.reader, caPackage, input.signal)));

  for (const alternative of chooseAlternatives(new Set(byName.keys()))) {
    entries.push({ kind: 'symlink', path: `etc/alternatives/${alternative.name}`, target: alternative.target });
    entries.push({ kind: 'symlink', path: alternative.link.slice(1), target: `/etc/alternatives/${alternative.name}` });
  }
  return { entries, cmd: await chooseCmd(input, byName), env: [DEBIAN_PATH] };
}

async function controlsOf(input: DebianTopLayerInput): Promise<Map<string, string>> {
  const controls = new Map<string, string>();
  for (const pkg of input.packages) controls.set(pkg.name, await input.control(pkg, input.signal));
  return controls;
}

async function chooseCmd(input: DebianTopLayerInput, byName: ReadonlyMap<string, DebianPackage>): Promise<string[] | null> {
  if (input.shell) return byName.has('bash') ? ['/bin/bash'] : byName.has('dash') ? ['/bin/sh'] : null;
  const only = input.roots.length === 1 ? byName.get(input.roots[0] as string) : undefined;
  if (!only) return null;
  const program = `usr/bin/${only.name}`;
  for await (const entry of input.reader.entries(debianPathOf(only), input.signal)) {
    if (entry.path === program && entry.kind !== 'directory') return [`/${program}`];
  }
  return null;
}

/**
 * What `update-ca-certificates` makes on first install: `/etc/ca-certificates.conf` listing
 * every certificate under `/usr/share/ca-certificates` (all enabled), and the bundle
 * `/etc/ssl/certs/ca-certificates.crt`, their concatenation in that (sorted) order.
 */
async function caBundle(reader: RootFsReader, pkg: DebianPackage, signal: AbortSignal): Promise<TopEntry[]> {
  const prefix = 'usr/share/ca-certificates/';
  const certs = await readFiles(reader, pkg, (path) => path.startsWith(prefix) && path.endsWith('.crt'), signal);
  const names = [...certs.keys()].sort();
  const bundle = names.map((name) => withNewline(certs.get(name) as string)).join('');
  const conf = `# Generated by stowage as update-ca-certificates would: every certificate is enabled.\n${names.map((name) => name.slice(prefix.length)).join('\n')}\n`;
  return [
    { kind: 'file', path: 'etc/ca-certificates.conf', mode: 0o644, content: conf },
    { kind: 'file', path: 'etc/ssl/certs/ca-certificates.crt', mode: 0o644, content: bundle },
  ];
}

/** The contents of a package's small files whose path matches (read from its data tar). */
async function readFiles(reader: RootFsReader, pkg: DebianPackage, wanted: (path: string) => boolean, signal: AbortSignal): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const entry of reader.entries(debianPathOf(pkg), signal)) {
    if (entry.kind === 'file' && wanted(entry.path)) found.set(entry.path, await readText(entry));
  }
  return found;
}

async function readText(entry: Extract<RootFsEntry, { kind: 'file' }>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.open() as AsyncIterable<Buffer> & Readable) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
