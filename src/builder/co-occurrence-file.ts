import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SIGNATURE_LENGTH, type CoOccurrenceTable } from '../layering/index.js';

/**
 * A frozen co-occurrence table as text: what the registry persists (`cooc-table`) and what an
 * operator may supply instead (`image.coOccurrence.file`, like Nixery's popularity file):
 *
 *   { "format": "stowage-co-occurrence-1", "images": <population>,
 *     "names": { "<package name>": [<images holding it>, "<base64 of 64 little-endian uint32>"], ... } }
 *
 * Names are sorted, so one table always gives the same text and the same version.
 */
export const CO_OCCURRENCE_FORMAT = 'stowage-co-occurrence-1';

/** A table and its version: a digest of its text, part of image cache keys (new table, maybe new layers). */
export interface VersionedTable {
  readonly table: CoOccurrenceTable;
  readonly version: string;
}

export function serialiseCoOccurrence(table: CoOccurrenceTable): string {
  const names = [...table.signatures.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const entries = names.map((name) => {
    const signature = table.signatures.get(name) as Uint32Array;
    const bytes = Buffer.alloc(SIGNATURE_LENGTH * 4);
    for (let j = 0; j < SIGNATURE_LENGTH; j++) bytes.writeUInt32LE(signature[j] ?? 0, j * 4);
    return [name, [table.images.get(name) ?? 0, bytes.toString('base64')]] as const;
  });
  return `${JSON.stringify({ format: CO_OCCURRENCE_FORMAT, images: table.total, names: Object.fromEntries(entries) })}\n`;
}

export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** @throws Error saying what is wrong (and where: `where` names the file or key) when `text` is not a table. */
export function parseCoOccurrence(text: string, where: string): VersionedTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`co-occurrence table ${where} is not JSON: ${(error as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new Error(`co-occurrence table ${where}: ${what}`);
  };
  if (!isRecord(parsed)) return fail('must hold a JSON object');
  if (parsed.format !== CO_OCCURRENCE_FORMAT) fail(`"format" must be "${CO_OCCURRENCE_FORMAT}"`);
  const total = parsed.images;
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) return fail('"images" must be a non-negative integer');
  if (!isRecord(parsed.names)) return fail('"names" must be an object');
  const images = new Map<string, number>();
  const signatures = new Map<string, Uint32Array>();
  for (const [name, entry] of Object.entries(parsed.names)) {
    if (!Array.isArray(entry) || entry.length !== 2) return fail(`the entry of "${name}" must be [count, signature]`);
    const [count, encoded] = entry as [unknown, unknown];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > total) fail(`the count of "${name}" must be an integer from 1 to ${total}`);
    const bytes = typeof encoded === 'string' ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (bytes.length !== SIGNATURE_LENGTH * 4) fail(`the signature of "${name}" must be ${SIGNATURE_LENGTH * 4} bytes of base64`);
    const signature = new Uint32Array(SIGNATURE_LENGTH);
    for (let j = 0; j < SIGNATURE_LENGTH; j++) signature[j] = bytes.readUInt32LE(j * 4);
    images.set(name, count as number);
    signatures.set(name, signature);
  }
  return { table: { total, images, signatures }, version: versionOf(text) };
}

/** The operator's table file, validated. */
export async function loadCoOccurrenceFile(file: string): Promise<VersionedTable> {
  return parseCoOccurrence(await readFile(file, 'utf8'), file);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
