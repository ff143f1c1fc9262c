/**
 * Seeded generator of realistic pull traces over the Debian package set:
 *
 * - tool images: usually a base shell plus one to four tools chosen by a Zipf law over a ranked
 *   list (well-known tools first, then a seeded long tail of utilities);
 * - app images: an interpreter plus Zipf-chosen libraries of its ecosystem;
 * - service images (databases, web servers, interpreters): every node runs a few, deploys them
 *   on `main` and redeploys them after the security update, sometimes more than once.
 *
 * Pulls before `updateAt` use `main`, the rest `security`. Same options, same trace.
 */
import type { PackageSet, Release } from './package-set.js';
import { type Random, seededRandom, zipfSampler } from './random.js';
import type { Pull } from './trace.js';

export interface TraceOptions {
  /** Seed of the generator: same options, same trace. */
  readonly seed: number;
  /** Number of pulls in the trace. */
  readonly pulls: number;
  /** Number of nodes (`n1`, `n2`, ...). */
  readonly nodes: number;
  /** Fraction of the trace after which the security updates are released. */
  readonly updateAt: number;
  /** Let desktop applications and huge closures into the long tail of tools (a harsher mix). */
  readonly desktopApps: boolean;
}

export const DEFAULT_TRACE: TraceOptions = { seed: 1, pulls: 3000, nodes: 40, updateAt: 0.65, desktopApps: false };

const BASE_SHELL = ['bash', 'coreutils', 'findutils', 'grep', 'sed', 'tar', 'gzip', 'less'];

/** Well-known tools, most used first; the generator appends a seeded long tail. */
const TOOLS = `curl git jq vim wget openssh-client rsync python3 htop procps iproute2 iputils-ping
bind9-dnsutils netcat-openbsd unzip zip make gcc file tree tmux strace lsof tcpdump socat gnupg
xz-utils zstd sqlite3 postgresql-client default-mysql-client redis-tools awscli ansible nodejs npm
golang-go rustc cargo ruby perl php-cli openjdk-17-jdk-headless maven gradle imagemagick ffmpeg
pandoc graphviz ripgrep fd-find fzf bat shellcheck nmap mtr-tiny whois telnet lftp httpie mercurial
subversion emacs-nox neovim zsh fish sudo cron supervisor gettext-base patch diffutils bc gawk
moreutils parallel pv ncdu iotop sysstat ethtool net-tools traceroute mariadb-client docker.io
podman skopeo buildah python3-pip python3-venv ipython3 r-base-core octave gdb valgrind cmake
ninja-build clang llvm git-lfs hugo kubernetes-client restic rclone borgbackup s3cmd
texlive-latex-base ghostscript poppler-utils`.split(/\s+/);

/** Services: each entry is the package list of the service's image. */
const SERVICES: readonly (readonly string[])[] = [
  ['postgresql-15'], ['nginx'], ['redis-server'], ['mariadb-server'], ['python3', 'gunicorn', 'python3-flask'],
  ['nodejs'], ['openjdk-17-jre-headless'], ['apache2'], ['php8.2-fpm', 'php8.2-pgsql'], ['memcached'],
  ['rabbitmq-server'], ['haproxy'], ['ruby', 'puma'], ['prometheus'], ['tomcat10'], ['mosquitto'],
  ['postfix'], ['bind9'], ['squid'], ['varnish'], ['slapd'], ['influxdb'], ['etcd-server'], ['caddy'],
  ['uwsgi', 'python3-django'], ['prometheus-node-exporter'], ['pgbouncer'], ['unbound'],
  ['openssh-server'], ['dovecot-imapd'], ['samba'], ['apache2', 'libapache2-mod-php8.2'],
];

/** Interpreters and the name pattern of their library packages. */
const ECOSYSTEMS: readonly { readonly interpreter: string; readonly libraries: RegExp }[] = [
  { interpreter: 'python3', libraries: /^python3-[a-z0-9.-]+$/ },
  { interpreter: 'nodejs', libraries: /^node-[a-z0-9.-]+$/ },
  { interpreter: 'ruby', libraries: /^ruby-[a-z0-9.-]+$/ },
  { interpreter: 'perl', libraries: /^lib[a-z0-9.-]+-perl$/ },
];

const TAIL_SECTIONS = new Set(['utils', 'net', 'admin', 'devel', 'text', 'web', 'vcs', 'editors', 'shells',
  'database', 'interpreters', 'graphics', 'video', 'sound', 'science', 'math', 'mail', 'misc', 'httpd']);

export function generateTrace(set: PackageSet, options: TraceOptions = DEFAULT_TRACE): Pull[] {
  const random = seededRandom(options.seed);
  const tools = rankedTools(set, random, options.desktopApps);
  const pickTool = zipfSampler(tools.length, 1.0, random);
  const pickService = zipfSampler(SERVICES.length, 0.9, random);
  const ecosystems = ECOSYSTEMS.map((e) => ({ interpreter: e.interpreter, libraries: rankedLibraries(set, e.libraries) }));
  const pickLibrary = ecosystems.map((e) => zipfSampler(e.libraries.length, 1.0, random));
  const updateIndex = Math.round(options.pulls * options.updateAt);
  const nodes = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);

  // Service deployments are placed first at random slots; tool and app pulls fill the rest.
  const slots = new Array<Pull | undefined>(options.pulls);
  const place = (from: number, to: number, make: (release: Release) => Pull): void => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const at = from + Math.floor(random() * Math.max(1, to - from));
      if (slots[at] === undefined) {
        slots[at] = make(at < updateIndex ? 'main' : 'security');
        return;
      }
    }
  };
  for (const node of nodes) {
    const count = 2 + Math.floor(random() * 4);
    const services = new Set<number>();
    while (services.size < count) services.add(pickService());
    for (const s of services) {
      const variant = random();
      const packages = variant < 0.4 ? [...SERVICES[s]!] : variant < 0.8 ? [...SERVICES[s]!, ...BASE_SHELL] : [...SERVICES[s]!, 'curl', 'ca-certificates'];
      const redeploys = 1 + Math.floor(random() * 2);
      place(0, updateIndex, (release) => ({ node, release, packages }));
      if (random() < 0.5) place(0, updateIndex, (release) => ({ node, release, packages }));
      for (let r = 0; r < redeploys; r++) place(updateIndex, options.pulls, (release) => ({ node, release, packages }));
    }
  }
  for (let at = 0; at < options.pulls; at++) {
    if (slots[at] !== undefined) continue;
    const node = nodes[Math.floor(random() * nodes.length)]!;
    const release: Release = at < updateIndex ? 'main' : 'security';
    const packages = new Set<string>();
    if (random() < 0.7) {
      const count = 1 + geometric(random, 0.55, 3);
      const chosen = new Set<string>();
      while (chosen.size < count) chosen.add(tools[pickTool()]!);
      if (random() < 0.8) for (const p of BASE_SHELL) packages.add(p);
      for (const t of chosen) packages.add(t);
    } else {
      const e = Math.floor(random() * ecosystems.length);
      const ecosystem = ecosystems[e]!;
      packages.add(ecosystem.interpreter);
      const count = 1 + geometric(random, 0.5, 4);
      for (let k = 0; k < count; k++) packages.add(ecosystem.libraries[pickLibrary[e]!()]!);
    }
    slots[at] = { node, release, packages: [...packages].sort() };
  }
  return slots.map((p) => p!);
}

/** Extra picks beyond the first: geometric with continuation `p`, capped at `max`. */
function geometric(random: Random, p: number, max: number): number {
  let k = 0;
  while (k < max && random() < p) k++;
  return k;
}

/** Toolkits whose presence marks a desktop application, which containers rarely ship. */
const DESKTOP_TOOLKITS = ['libgtk-3-0', 'libgtk2.0-0', 'libgtk-4-1', 'libqt5core5a', 'libqt6core6', 'libwxbase3.2-1'];
const MAX_TAIL_CLOSURE = 300;

function rankedTools(set: PackageSet, random: Random, desktopApps: boolean): string[] {
  const head = TOOLS.filter((t) => set.has(t));
  const seen = new Set(head);
  const desktop = new Set(DESKTOP_TOOLKITS.filter((t) => set.has(t)).map((t) => set.indexOf(t)));
  const headless = (name: string): boolean => {
    if (desktopApps) return true;
    const closure = set.closure([name]);
    return closure.length <= MAX_TAIL_CLOSURE && !closure.some((p) => desktop.has(p));
  };
  // The long tail: headless command-line packages (desktop applications and huge closures are
  // not what people put in container images).
  const tail = set.packages
    .filter((p) => TAIL_SECTIONS.has(p.section) && !seen.has(p.name) && !/^lib|-(dev|doc|data|common|dbg)$/.test(p.name))
    .map((p) => p.name);
  shuffle(tail, random);
  return [...head, ...tail.filter(headless).slice(0, 400)];
}

/** Libraries of one ecosystem, most depended-upon first (a stand-in for download counts). */
function rankedLibraries(set: PackageSet, pattern: RegExp): string[] {
  const users = new Map<number, number>();
  for (const p of set.packages) for (const r of p.refs) users.set(r, (users.get(r) ?? 0) + 1);
  return set.packages
    .map((p, i) => ({ name: p.name, users: users.get(i) ?? 0 }))
    .filter((p) => pattern.test(p.name) && !/-(dev|doc)$/.test(p.name))
    .sort((a, b) => b.users - a.users || (a.name < b.name ? -1 : 1))
    .slice(0, 300)
    .map((p) => p.name);
}

function shuffle<T>(items: T[], random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
