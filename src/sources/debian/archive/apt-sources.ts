import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The machine's apt sources, read so that the project never names an archive host itself: the
 * default Debian archive is whatever apt on this machine uses. Both formats apt reads are
 * understood: deb822 `*.sources` files (`Types:`, `URIs:`, `Suites:`, `Components:`,
 * `Signed-By:`) and one-line `sources.list` entries (`deb [signed-by=K arch=A] URI SUITE COMP...`).
 * Only `deb` (binary) entries are kept; `deb-src` and disabled (`Enabled: no`) entries are not.
 */

/** One binary archive entry: an archive root, its suites and components, and its keyring. */
export interface AptSource {
  /** Archive root URL, always ending in `/`. */
  readonly uri: string;
  readonly suites: readonly string[];
  readonly components: readonly string[];
  /** Keyring file from `Signed-By`/`signed-by=`, or null when the entry names none. */
  readonly signedBy: string | null;
  /** Architectures from `Architectures`/`arch=`, or empty for "the machine's". */
  readonly architectures: readonly string[];
  /** The file it came from, for messages. */
  readonly origin: string;
}

/** Normalises an archive URI so that relative paths resolve below it. */
function archiveRoot(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((w) => w !== '');
}

/**
 * Parses a deb822 `.sources` file: paragraphs separated by blank lines, `#` comments, fields
 * with continuation lines. An inline armoured key in `Signed-By` is not a file and is ignored
 * (signedBy null), so the caller falls back to its default keyring.
 */
export function parseDeb822Sources(text: string, origin = '<deb822>'): AptSource[] {
  const sources: AptSource[] = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let current: string | null = null;
    for (const raw of paragraph.split('\n')) {
      if (raw.startsWith('#') || raw.trim() === '') continue;
      if (/^[ \t]/.test(raw)) {
        if (current !== null) fields.set(current, `${fields.get(current) ?? ''}\n${raw.trim()}`);
        continue;
      }
      const colon = raw.indexOf(':');
      if (colon <= 0) continue;
      current = raw.slice(0, colon).trim().toLowerCase();
      fields.set(current, raw.slice(colon + 1).trim());
    }
    if (!words(fields.get('types')).includes('deb')) continue;
    if (/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes')) continue;
    const signed = (fields.get('signed-by') ?? '').trim();
    const signedBy = signed !== '' && !signed.includes('\n') && !signed.startsWith('-----') ? signed : null;
    for (const uri of words(fields.get('uris'))) {
      sources.push({
        uri: archiveRoot(uri),
        suites: words(fields.get('suites')),
        components: words(fields.get('components')),
        signedBy,
        architectures: words(fields.get('architectures')),
        origin,
      });
    }
  }
  return sources;
}

/** Parses one-line `sources.list` text; `[key=value ...]` options before the URI are honoured. */
export function parseOneLineSources(text: string, origin = '<sources.list>'): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const match = /^(\S+)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)$/.exec(line);
    if (!match || match[1] !== 'deb') continue;
    const options = new Map<string, string>();
    for (const option of words(match[2])) {
      const eq = option.indexOf('=');
      if (eq > 0) options.set(option.slice(0, eq).toLowerCase(), option.slice(eq + 1));
    }
    sources.push({
      uri: archiveRoot(match[3] as string),
      suites: [match[4] as string],
      components: words(match[5]),
      signedBy: options.get('signed-by') ?? null,
      architectures: (options.get('arch') ?? '').split(',').filter((a) => a !== ''),
      origin,
    });
  }
  return sources;
}

/**
 * Every binary entry of the machine's apt configuration under `aptDir` (default `/etc/apt`):
 * `sources.list`, then `sources.list.d/*.list` and `*.sources` in file-name order, as apt reads
 * them. Missing files are skipped.
 */
export async function readAptSources(aptDir = '/etc/apt'): Promise<AptSource[]> {
  const read = (file: string): Promise<string | null> => readFile(file, 'utf8').catch(() => null);
  const sources: AptSource[] = [];
  const main = join(aptDir, 'sources.list');
  const mainText = await read(main);
  if (mainText !== null) sources.push(...parseOneLineSources(mainText, main));
  const dir = join(aptDir, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const file = join(dir, name);
    if (name.endsWith('.list')) {
      const text = await read(file);
      if (text !== null) sources.push(...parseOneLineSources(text, file));
    } else if (name.endsWith('.sources')) {
      const text = await read(file);
      if (text !== null) sources.push(...parseDeb822Sources(text, file));
    }
  }
  return sources;
}
