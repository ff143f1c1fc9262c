import type { Platform } from '../oci/image.js';

/** The OCI platform of a Nix system, or null when stowage does not know it. */
export function platformOfSystem(system: string): Platform | null {
  switch (system) {
    case 'x86_64-linux':
      return { os: 'linux', architecture: 'amd64' };
    case 'aarch64-linux':
      return { os: 'linux', architecture: 'arm64', variant: 'v8' };
    case 'i686-linux':
      return { os: 'linux', architecture: '386' };
    case 'armv7l-linux':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'riscv64-linux':
      return { os: 'linux', architecture: 'riscv64' };
    case 'powerpc64le-linux':
      return { os: 'linux', architecture: 'ppc64le' };
    default:
      return null;
  }
}
