import type { DebianPackage } from './types.js';

/**
 * `/var/lib/dpkg/status` for the packages of an image, as dpkg writes it after installing
 * them: one stanza per package, sorted by name, with `Status: install ok installed`, so
 * `dpkg -l` lists them and scanners (Trivy, Grype, Syft) identify every package and version.
 * Fields come from the signed Packages index; Maintainer and Conffiles are not in the index
 * stanza the archive side keeps, so they are left out (dpkg does not need them).
 */
export function dpkgStatus(packages: readonly DebianPackage[]): string {
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map(stanza).join('\n');
}

function stanza(pkg: DebianPackage): string {
  const fields: Array<[string, string]> = [
    ['Package', pkg.name],
    ['Status', 'install ok installed'],
    ['Priority', pkg.priority],
    ['Section', pkg.section],
    ['Installed-Size', String(Math.ceil(pkg.installedSize / 1024))],
    ['Architecture', pkg.architecture],
    ['Multi-Arch', pkg.multiArch],
    ['Source', pkg.source],
    ['Version', pkg.version],
    ['Essential', pkg.essential ? 'yes' : ''],
    ['Provides', pkg.provides],
    ['Pre-Depends', pkg.preDepends],
    ['Depends', pkg.depends],
    ['Description', oneLine(pkg.description) || pkg.name],
    ['Homepage', pkg.homepage],
  ];
  return fields
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${name}: ${oneLine(value)}\n`)
    .join('');
}

/** A field value must not break the stanza format: newlines would start new fields. */
function oneLine(value: string): string {
  return value.replace(/\s*\n\s*/g, ' ').trim();
}
