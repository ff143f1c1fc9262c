/**
 * The `shell` meta-package of the Debian source: the part of Debian's Essential set (plus
 * mawk, Priority required, for `awk`) that makes a working interactive and scripting
 * userland. Essential packages are never pulled in by dependencies (see resolver.ts), so this
 * list is the only way they enter an image. Their own dependencies (libc6, libacl1, libpcre2,
 * ...) are resolved as usual.
 *
 * Kept: the shells (dash as `/bin/sh`, bash), coreutils, the text tools (grep, sed, mawk,
 * diffutils, findutils), archives (tar, gzip), base-files (`/etc/os-release`, the directory
 * skeleton), base-passwd (the standard users and groups), debianutils (`which`,
 * `run-parts`), dpkg (so `dpkg -l` lists the image), perl-base (maintainer-script perl, and
 * what `perl` depends on), libc-bin (`ldconfig`, `getent`), ncurses-base and ncurses-bin
 * (terminfo, `tput`, `clear`), hostname.
 *
 * Left out, as containers do not need them: util-linux, bsdutils and login (mount, logger,
 * su, getty: system administration with PAM), sysvinit-utils and init-system-helpers (init
 * scripts).
 */
export const SHELL_PACKAGES: readonly string[] = [
  'base-files',
  'base-passwd',
  'bash',
  'coreutils',
  'dash',
  'debianutils',
  'diffutils',
  'dpkg',
  'findutils',
  'grep',
  'gzip',
  'hostname',
  'libc-bin',
  'mawk',
  'ncurses-base',
  'ncurses-bin',
  'perl-base',
  'sed',
  'tar',
];

/** The image-name component that stands for SHELL_PACKAGES. */
export const SHELL_META_PACKAGE = 'shell';

/** The requested names with `shell` replaced by SHELL_PACKAGES, duplicates dropped, order kept. */
export function expandShell(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((name) => (name === SHELL_META_PACKAGE ? SHELL_PACKAGES : [name])))];
}
