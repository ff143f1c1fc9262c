import type { RootFsImage, StoreReader } from '../sources/types.js';

/**
 * The small layer on top of every image that makes it usable like an ordinary Linux root:
 * `/bin` and `/usr/bin` links to the requested packages' executables (so `/bin/sh` and
 * `/usr/bin/env` exist when a shell was asked for), `/tmp` with mode 1777, and `/etc/passwd`,
 * `/etc/group` and `/etc/nsswitch.conf` with `root` and `nobody`.
 *
 * When two requested packages provide the same executable name, the package that sorts first
 * wins, so the result never depends on request order.
 */
export type TopLayerEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly content: string };

export interface TopLayerPlan {
  readonly entries: readonly TopLayerEntry[];
  /** Executable names linked into /bin, for the image config (e.g. whether /bin/sh exists). */
  readonly binaries: ReadonlySet<string>;
  /** Store path of the CA bundle in the closure (for SSL_CERT_FILE), or null. */
  readonly caBundle: string | null;
  /** Env and Cmd decided by the source (root-fs images); absent = derived from the above. */
  readonly config?: { readonly env: readonly string[]; readonly cmd: readonly string[] | null };
}

/**
 * The top layer of a root-filesystem image (Debian): what the package's maintainer scripts
 * would have made is the source's to say (dpkg status, CA bundle, alternatives, /etc), and so
 * are Env and Cmd.
 */
export async function planRootFsTopLayer(rootFs: RootFsImage, shell: boolean, signal: AbortSignal): Promise<TopLayerPlan> {
  const top = await rootFs.topLayer({ shell, signal });
  return { entries: top.entries, binaries: new Set(), caBundle: null, config: { env: top.env, cmd: top.cmd } };
}

/** Store paths worth looking into for a CA bundle: the roots and paths named like nixpkgs' cacert. */
const CA_PACKAGE = /^[a-z0-9]{32}-(?:nss-)?(?:cacert|ca-certificates)(?:-[0-9][^/]*)?$/;
const CA_BUNDLE_NAMES = ['ca-bundle.crt', 'ca-certificates.crt'];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/var/empty:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';
const NSSWITCH = 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n';

/** Plan the top layer from the requested packages' root outputs, in package order. */
export async function planTopLayer(
  reader: StoreReader,
  rootsInPackageOrder: readonly string[],
  closurePaths: readonly string[],
  signal?: AbortSignal,
): Promise<TopLayerPlan> {
  const caBundle = await findCaBundle(reader, rootsInPackageOrder, closurePaths, signal);
  const links = new Map<string, string>();
  for (const root of rootsInPackageOrder) {
    const listing = await reader.list(`${root}/bin`, signal);
    for (const entry of listing ?? []) {
      if (entry.kind === 'directory' || links.has(entry.name)) continue;
      links.set(entry.name, `${root}/bin/${entry.name}`);
    }
  }
  const names = [...links.keys()].sort(compareBytes);
  const entries: TopLayerEntry[] = [
    { kind: 'directory', path: 'bin', mode: 0o755 },
    ...names.map((name): TopLayerEntry => ({ kind: 'symlink', path: `bin/${name}`, target: links.get(name) as string })),
    { kind: 'directory', path: 'etc', mode: 0o755 },
    { kind: 'file', path: 'etc/group', mode: 0o644, content: GROUP },
    { kind: 'file', path: 'etc/nsswitch.conf', mode: 0o644, content: NSSWITCH },
    { kind: 'file', path: 'etc/passwd', mode: 0o644, content: PASSWD },
    ...(caBundle === null
      ? []
      : [
          { kind: 'directory', path: 'etc/ssl', mode: 0o755 } as const,
          { kind: 'directory', path: 'etc/ssl/certs', mode: 0o755 } as const,
          ...CA_BUNDLE_NAMES.map((name): TopLayerEntry => ({ kind: 'symlink', path: `etc/ssl/certs/${name}`, target: caBundle })),
        ]),
    { kind: 'directory', path: 'root', mode: 0o700 },
    { kind: 'directory', path: 'tmp', mode: 0o1777 },
    { kind: 'directory', path: 'usr', mode: 0o755 },
    { kind: 'directory', path: 'usr/bin', mode: 0o755 },
    ...names.map((name): TopLayerEntry => ({ kind: 'symlink', path: `usr/bin/${name}`, target: links.get(name) as string })),
  ];
  return { entries, binaries: new Set(names), caBundle };
}

async function findCaBundle(
  reader: StoreReader,
  roots: readonly string[],
  closurePaths: readonly string[],
  signal?: AbortSignal,
): Promise<string | null> {
  const candidates = [...roots, ...closurePaths.filter((path) => CA_PACKAGE.test(path.slice(path.lastIndexOf('/') + 1)))];
  for (const path of new Set(candidates)) {
    const listing = await reader.list(`${path}/etc/ssl/certs`, signal);
    const found = CA_BUNDLE_NAMES.find((name) => listing?.some((entry) => entry.name === name && entry.kind !== 'directory'));
    if (found) return `${path}/etc/ssl/certs/${found}`;
  }
  return null;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
