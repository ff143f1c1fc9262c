/**
 * The fields of a verified Release text (the signed part of `InRelease`) that the index needs:
 * the SHA256 list of index files, Date and Valid-Until. Parsed from gpgv's output only.
 */

/** One index file the Release vouches for. */
export interface ReleaseFile {
  readonly sha256: string;
  readonly size: number;
}

export interface ReleaseInfo {
  readonly suite: string;
  readonly codename: string;
  /** When the archive published this Release. */
  readonly date: Date | null;
  /** After this instant the Release must not be trusted (security suites carry it), or null. */
  readonly validUntil: Date | null;
  readonly architectures: readonly string[];
  readonly components: readonly string[];
  /** Path relative to `dists/<suite>/` → its hash and size. */
  readonly sha256: ReadonlyMap<string, ReleaseFile>;
  /** True when the archive also serves files under `by-hash/SHA256/<hash>`. */
  readonly acquireByHash: boolean;
}

/** Splits one deb822 paragraph into fields; a continuation line is kept with its newline. */
export function parseFields(paragraph: string): Map<string, string> {
  const fields = new Map<string, string>();
  let current: string | null = null;
  for (const line of paragraph.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current !== null) fields.set(current, `${fields.get(current) ?? ''}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = line.slice(0, colon);
    fields.set(current, line.slice(colon + 1).trim());
  }
  return fields;
}

function parseDate(value: string | undefined): Date | null {
  if (value === undefined || value === '') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time);
}

/**
 * Parses a Release text.
 * @throws Error naming the problem when it has no usable SHA256 list or a malformed entry.
 */
export function parseRelease(text: string): ReleaseInfo {
  const fields = parseFields(text.replace(/\r\n/g, '\n'));
  const sha256 = new Map<string, ReleaseFile>();
  for (const line of (fields.get('SHA256') ?? '').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const match = /^([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)$/.exec(trimmed);
    if (!match) throw new Error(`malformed SHA256 entry "${trimmed}"`);
    sha256.set(match[3] as string, { sha256: (match[1] as string).toLowerCase(), size: Number(match[2]) });
  }
  if (sha256.size === 0) throw new Error('the Release lists no SHA256 hashes');
  const dateText = fields.get('Date');
  const date = parseDate(dateText);
  if (dateText !== undefined && date === null) throw new Error(`malformed Date "${dateText}"`);
  const validText = fields.get('Valid-Until');
  const validUntil = parseDate(validText);
  if (validText !== undefined && validUntil === null) throw new Error(`malformed Valid-Until "${validText}"`);
  const list = (name: string): string[] => (fields.get(name) ?? '').split(/\s+/).filter((w) => w !== '');
  return {
    suite: fields.get('Suite') ?? '',
    codename: fields.get('Codename') ?? '',
    date,
    validUntil,
    architectures: list('Architectures'),
    components: list('Components'),
    sha256,
    acquireByHash: /^yes$/i.test(fields.get('Acquire-By-Hash') ?? ''),
  };
}

/** Why a Release must not be used at `now`, or null when it may. */
export function releaseExpiry(release: ReleaseInfo, now: Date): string | null {
  if (release.validUntil !== null && now.getTime() > release.validUntil.getTime()) {
    return `the Release expired at ${release.validUntil.toISOString()} (Valid-Until), it is now ${now.toISOString()}`;
  }
  return null;
}
