/**
 * Tar headers, encoded byte for byte as tar-stream 3 encodes them (which is what every layer
 * digest so far was made with): ustar, with a name too long for ustar's name and prefix
 * fields, a non-ASCII name or a linkname over 100 bytes carried in a PAX header instead.
 * Written here rather than through tar-stream's pack, whose per-entry streams cost more CPU
 * than the rest of the tar encoding (layers of tens of thousands of small files).
 */

/** What an entry's header holds; owners are numeric, names are never written. */
export interface TarHeader {
  /** Relative name; a directory's ends in `/`. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits (the type bits are not written). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content bytes; 0 for everything but files. */
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Target of a symlink or hard link. */
  readonly linkname?: string;
}

export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory';

export const TAR_BLOCK = 512;
const TYPE_FLAGS: Readonly<Record<TarEntryType | 'pax-header', number>> = { file: 0, link: 1, symlink: 2, directory: 5, 'pax-header': 72 };
const ZERO = 0x30;
const USTAR = Buffer.from('ustar\u000000', 'latin1');

/** Zeros to pad `size` bytes of content to a whole block (a view of a shared zero buffer). */
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? EMPTY : ZEROS.subarray(0, TAR_BLOCK - rest);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * TAR_BLOCK);
const ZEROS = Buffer.alloc(TAR_BLOCK);
const EMPTY = Buffer.alloc(0);

/** The header block(s) of one entry: one ustar block, or a PAX header, its records and a block. */
export function encodeTarHeader(header: TarHeader): Buffer {
  return ustarBlock(header.type, header) ?? paxBlocks(header);
}

/** One ustar block, or undefined when the names do not fit (as tar-stream decides it). */
function ustarBlock(type: TarEntryType | 'pax-header', header: TarHeader): Buffer | undefined {
  let name = header.name;
  // Non-ASCII names go to PAX: ustar's fields have no encoding.
  if (Buffer.byteLength(name) !== name.length) return undefined;
  let prefix = '';
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, slash)}` : name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  const linkname = header.linkname ?? '';
  if (prefix.length > 155 || Buffer.byteLength(linkname) > 100) return undefined;
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(name, 0, 'latin1');
  block.write(octal(header.mode & 0o7777, 6), 100, 'latin1');
  block.write(octal(header.uid, 6), 108, 'latin1');
  block.write(octal(header.gid, 6), 116, 'latin1');
  writeSize(block, header.size);
  block.write(octal(header.mtime, 11), 136, 'latin1');
  block[156] = ZERO + TYPE_FLAGS[type];
  if (linkname) block.write(linkname, 157, 'utf8');
  USTAR.copy(block, 257);
  block.write(octal(0, 6), 329, 'latin1');
  block.write(octal(0, 6), 337, 'latin1');
  if (prefix) block.write(prefix, 345, 'latin1');
  block.write(octal(checksum(block), 6), 148, 'latin1');
  return block;
}

/**
 * tar-stream's PAX form: a `PaxHeader` entry holding `path` (and `linkpath` when there is a
 * link name), then the entry's own header under the name `PaxHeader` (its linkname also).
 */
function paxBlocks(header: TarHeader): Buffer {
  let records = paxRecord('path', header.name);
  if (header.linkname) records += paxRecord('linkpath', header.linkname);
  const body = Buffer.from(records, 'utf8');
  const pax = { ...header, name: 'PaxHeader', ...(header.linkname ? { linkname: 'PaxHeader' } : {}) };
  const first = ustarBlock('pax-header', { ...pax, size: body.length });
  const second = ustarBlock(header.type, pax);
  if (!first || !second) throw new Error(`tar header of ${JSON.stringify(header.name)} cannot be encoded`);
  return Buffer.concat([first, body, tarPadding(body.length), second]);
}

/** `<length> key=value\n`, the length counting its own digits. */
function paxRecord(key: string, value: string): string {
  const record = ` ${key}=${value}\n`;
  const length = Buffer.byteLength(record);
  let digits = Math.floor(Math.log(length) / Math.log(10)) + 1;
  if (length + digits >= 10 ** digits) digits++;
  return `${length + digits}${record}`;
}

/** `width` octal digits and a space; all sevens when the value does not fit, as tar-stream. */
function octal(value: number, width: number): string {
  const digits = value.toString(8);
  if (digits.length > width) return `${'7'.repeat(width)} `;
  return `${'0'.repeat(width - digits.length)}${digits} `;
}

/** Octal in 11 digits, or base-256 (first byte 0x80) beyond 8 GiB. */
function writeSize(block: Buffer, size: number): void {
  if (size.toString(8).length <= 11) {
    block.write(octal(size, 11), 124, 'latin1');
    return;
  }
  block[124] = 0x80;
  let rest = size;
  for (let i = 11; i > 0; i--) {
    block[124 + i] = rest & 0xff;
    rest = Math.floor(rest / 0x100);
  }
}

/** Sum of the block's bytes with the checksum field counted as spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += block[i] ?? 0;
  for (let i = 156; i < TAR_BLOCK; i++) sum += block[i] ?? 0;
  return sum;
}
