import path from 'node:path';
import { STORE_DIR } from './store-path.js';

/**
 * Why a symlink read from a binary cache is refused, or null when it is accepted.
 *
 * The rule: a target must resolve inside the store directory. A relative target is resolved
 * from the link's own directory (`../lib/libfoo.so`, `../../<other store path>/bin/sh` are fine;
 * `../../../etc/shadow` from a store path's top level is not); an absolute one must be under
 * `/nix/store` after normalising `.` and `..`. Nix itself allows any target. Stowage refuses the
 * others from a cache by default because a cache is a remote input and nothing in an image needs
 * a store object pointing at host paths such as `/etc/shadow`, `/proc/self/root` or
 * `/var/run/docker.sock`: a container runtime resolves such a link inside the container, but
 * tools that unpack or scan layers on a host directory may follow it. `allowExternal` (the
 * `source.binaryCache.allowExternalSymlinks` setting) accepts every target, as Nix does.
 */
export function symlinkProblem(linkPath: string, target: string, allowExternal: boolean): string | null {
  if (allowExternal) return null;
  const resolved = target.startsWith('/') ? path.posix.normalize(target) : path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  if (resolved === STORE_DIR || resolved.startsWith(`${STORE_DIR}/`)) return null;
  return `the symlink ${JSON.stringify(linkPath)} points outside ${STORE_DIR} (${JSON.stringify(target)})`;
}
