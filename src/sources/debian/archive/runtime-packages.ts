/**
 * The Debian packages the Debian source needs on the machine that serves it, whatever else is
 * installed: the Dockerfile's runtime stage installs them (a unit test checks that it does),
 * and scripts/setup.sh installs them for the tests.
 * - `gpgv` verifies every InRelease (gpgv.ts); without it no index is accepted.
 * - `debian-archive-keyring` holds the keys it verifies against (DEFAULT_DEBIAN_KEYRING).
 * - `ca-certificates` lets the index and `.deb` downloads reach HTTPS archives and mirrors.
 * The archive itself is named by the machine's apt sources (/etc/apt), which Debian's base
 * images carry.
 */
export const DEBIAN_SOURCE_RUNTIME_PACKAGES = ['gpgv', 'debian-archive-keyring', 'ca-certificates'] as const;
