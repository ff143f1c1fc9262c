import type { SourceProgress } from '../types.js';

const STORE_NAME = /^\/nix\/store\/[0-9a-z]{32}-(.+?)(\.drv)?$/;
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** Longest line text kept: a builder may print anything. */
const MAX_TEXT = 300;

/** `/nix/store/<hash>-hello-2.12.1.drv` → `hello-2.12.1`; anything else unchanged. */
export function storeName(path: string): string {
  return STORE_NAME.exec(path)?.[1] ?? path;
}

/**
 * One line of `nix-build`'s stderr (the default log format: no TTY, so no progress bar) as a
 * progress event:
 *   building '/nix/store/…-name.drv'...              → build "building name"
 *   copying path '/nix/store/…-name' from 'URL'...    → download "downloading name from URL"
 *   these 3 derivations will be built: / these 5 paths will be fetched (…):  → log, as is
 *   the indented store paths listed under those       → null (the build and download lines name them)
 *   any other line (what the builders print)         → log
 * Blank lines are null. Terminal escapes are removed and long lines cut.
 */
export function parseNixBuildLine(raw: string): SourceProgress | null {
  const line = raw.replace(ESCAPES, '').trimEnd();
  if (line.trim() === '') return null;
  const building = /^building '([^']+)'/.exec(line);
  if (building) return { kind: 'build', text: `building ${storeName(building[1] as string)}` };
  const copying = /^copying path '([^']+)' from '([^']+)'/.exec(line);
  if (copying) return { kind: 'download', text: `downloading ${storeName(copying[1] as string)} from ${copying[2] as string}` };
  if (/^\s+\/nix\/store\/\S+$/.test(line)) return null;
  return { kind: 'log', text: line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT)}…` : line };
}
