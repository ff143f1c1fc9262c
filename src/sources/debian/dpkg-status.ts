import type { DebianPackage } from './types.js';

/**
 * `/var/lib/dpkg/status` for the packages of an image, as dpkg writes it after installing
 * them: one stanza per package, sorted by name, with `Status: install ok installed`, so
 * `dpkg -l` lists them and scanners (Trivy, Grype, Syft) identify every package and version.
 * Each stanza is the package's own `control` file (what dpkg copies) when `controls` has it,
 * else one made from the signed index's fields (without Maintainer, which dpkg warns about).
 */
export function dpkgStatus(packages: readonly DebianPackage[], controls: ReadonlyMap<string, string> = new Map()): string {
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((pkg) => fromControl(controls.get(pkg.name)) ?? stanza(pkg)).join('\n');
}

/** A control file with `Status:` added after `Package:`; null when it is not usable. */
function fromControl(control: string | undefined): string | null {
  if (control === undefined) return null;
  const lines = control.replace(/\r/g, '').split('\n').filter((line) => line.trim() !== '' && !/^Status:/i.test(line));
  if (!/^Package: /.test(lines[0] ?? '')) return null;
  return [lines[0], 'Status: install ok installed', ...lines.slice(1)].join('\n') + '\n';
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
