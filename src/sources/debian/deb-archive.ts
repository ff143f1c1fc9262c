import { open } from 'node:fs/promises';
import { SourceIntegrityError } from '../errors.js';

/**
 * A `.deb` is an `ar` archive: `!<arch>\n`, then members with 60-byte headers (name 16,
 * mtime 12, uid 6, gid 6, mode 8, size 10, `` `\n``), each padded to an even length:
 * `debian-binary`, `control.tar.*`, `data.tar.*`. Only the headers are read here; the data
 * member is then streamed from its offset.
 */
export interface DebMember {
  readonly name: string;
  /** Byte offset of the member's content in the file. */
  readonly offset: number;
  readonly size: number;
}

const MAGIC = '!<arch>\n';
const HEADER_BYTES = 60;
/** Members a `.deb` has; more means something is wrong with the file. */
const MAX_MEMBERS = 16;

/** Why a `.deb` cannot be read (the file is verified, so this means a malformed package). */
export class MalformedDebError extends SourceIntegrityError {
  constructor(file: string, reason: string) {
    super(`malformed .deb ${file}: ${reason}`, { item: file });
    this.name = 'MalformedDebError';
  }
}

/** The members of the `.deb` at `path` (a verified cache file). */
export async function readDebMembers(path: string): Promise<DebMember[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const magic = Buffer.alloc(MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    if (magic.toString('latin1') !== MAGIC) throw new MalformedDebError(path, 'not an ar archive');
    const members: DebMember[] = [];
    let offset = MAGIC.length;
    const header = Buffer.alloc(HEADER_BYTES);
    while (offset + HEADER_BYTES <= size && members.length < MAX_MEMBERS) {
      const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, offset);
      if (bytesRead !== HEADER_BYTES || header.toString('latin1', 58, 60) !== '`\n') throw new MalformedDebError(path, `bad member header at ${offset}`);
      // GNU ar ends names with `/`; dpkg writes them without.
      const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const memberSize = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10);
      const start = offset + HEADER_BYTES;
      if (!Number.isSafeInteger(memberSize) || memberSize < 0 || start + memberSize > size) {
        throw new MalformedDebError(path, `member ${name} has a bad size`);
      }
      members.push({ name, offset: start, size: memberSize });
      offset = start + memberSize + (memberSize % 2);
    }
    return members;
  } finally {
    await handle.close();
  }
}

/** The `data.tar.*` or `control.tar.*` member and how it is compressed. */
export function tarMember(
  path: string,
  members: readonly DebMember[],
  kind: 'data.tar' | 'control.tar',
): { member: DebMember; compression: 'none' | 'xz' | 'zstd' | 'gzip' | 'bzip2' } {
  const member = members.find((candidate) => candidate.name.startsWith(kind));
  if (!member) throw new MalformedDebError(path, `it has no ${kind} member`);
  const suffix = member.name.slice(kind.length);
  const compression = ({ '': 'none', '.xz': 'xz', '.zst': 'zstd', '.gz': 'gzip', '.bz2': 'bzip2' } as const)[suffix as '' | '.xz' | '.zst' | '.gz' | '.bz2'];
  if (compression === undefined) throw new MalformedDebError(path, `unsupported data member ${member.name}`);
  return { member, compression };
}
