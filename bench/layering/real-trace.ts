/**
 * A small pull trace for the real-registry bench: few nodes, a few dozen pulls, tools with
 * modest closures, so that building and downloading the images stays within a few hundred MB
 * of `.deb`s. Same shape as the simulation's traces (trace-generator.ts), scaled down:
 *
 * - tool images: usually the base shell plus one to three tools chosen by a Zipf law over a list
 *   of well-known command-line tools, most used first, kept when the Debian graph says their
 *   closure adds at most `maxToolMb` MB (installed) to the base shell;
 * - service images: every node deploys one or two services before the update and redeploys
 *   them after it.
 *
 * Pulls before `updateAt` use `main` (the release as published), the rest `security` (with its
 * updates). Same options, same trace.
 */
import type { PackageSet, Release } from './package-set.js';
import { seededRandom, zipfSampler } from './random.js';
import type { Pull } from './trace.js';

export interface RealTraceOptions {
  readonly seed: number;
  readonly pulls: number;
  readonly nodes: number;
  readonly updateAt: number;
  /** Largest closure a tool may add to the base shell, in MB installed. */
  readonly maxToolMb: number;
}

export const DEFAULT_REAL_TRACE: RealTraceOptions = { seed: 1, pulls: 36, nodes: 4, updateAt: 0.6, maxToolMb: 30 };

const BASE_SHELL = ['bash', 'coreutils', 'findutils', 'grep', 'sed', 'tar', 'gzip', 'less'];

/** Well-known command-line tools, most used first (the head of the simulation's list, plus small utilities). */
const TOOLS = `curl jq wget openssh-client htop iproute2 iputils-ping netcat-openbsd unzip zip make file
tree tmux strace lsof socat xz-utils zstd sqlite3 vim-tiny nano bc gawk patch diffutils mtr-tiny
whois telnet pv ncdu`.split(/\s+/);

/** Services (each entry is an image's package list), most deployed first. */
const SERVICES: readonly (readonly string[])[] = [['nginx'], ['python3', 'curl'], ['redis-server']];

/** Names every image name component accepts as written (no `+`, no upper case). */
const PLAIN_NAME = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/;

/** The tools the trace draws from, in rank order. */
export function realTools(set: PackageSet, maxToolMb: number): string[] {
  const base = new Set(set.closure(BASE_SHELL));
  return TOOLS.filter((tool) => {
    if (!set.has(tool) || !PLAIN_NAME.test(tool)) return false;
    const extra = set.closure([tool]).filter((p) => !base.has(p));
    return extra.reduce((sum, p) => sum + set.size('main', p), 0) <= maxToolMb * 1e6;
  });
}

export function generateRealTrace(set: PackageSet, options: RealTraceOptions = DEFAULT_REAL_TRACE): Pull[] {
  const random = seededRandom(options.seed);
  const tools = realTools(set, options.maxToolMb);
  const pickTool = zipfSampler(tools.length, 1.0, random);
  const pickService = zipfSampler(SERVICES.length, 0.9, random);
  const updateIndex = Math.round(options.pulls * options.updateAt);
  const nodes = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const slots = new Array<Pull | undefined>(options.pulls);
  const place = (from: number, to: number, pull: (release: Release) => Pull): void => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const at = from + Math.floor(random() * Math.max(1, to - from));
      if (slots[at] === undefined) {
        slots[at] = pull(at < updateIndex ? 'main' : 'security');
        return;
      }
    }
  };
  for (const node of nodes) {
    const services = new Set<number>();
    const count = 1 + Math.floor(random() * 2);
    while (services.size < count) services.add(pickService());
    for (const s of services) {
      const packages = [...SERVICES[s]!].sort();
      place(0, updateIndex, (release) => ({ node, release, packages }));
      place(updateIndex, options.pulls, (release) => ({ node, release, packages }));
    }
  }
  for (let at = 0; at < options.pulls; at++) {
    if (slots[at] !== undefined) continue;
    const node = nodes[Math.floor(random() * nodes.length)]!;
    const release: Release = at < updateIndex ? 'main' : 'security';
    const packages = new Set<string>(random() < 0.8 ? BASE_SHELL : []);
    const count = 1 + Math.floor(random() * random() * 3);
    const chosen = new Set<string>();
    while (chosen.size < count) chosen.add(tools[pickTool()]!);
    for (const tool of chosen) packages.add(tool);
    slots[at] = { node, release, packages: [...packages].sort() };
  }
  return slots.map((pull) => pull!);
}
