import type { ByteRange } from '../storage/types.js';
import { RangeNotSatisfiableError } from '../storage/errors.js';

/**
 * Parse a `Range` header for a blob of `size` bytes (RFC 9110). Returns null when the whole blob
 * should be sent: no header, a malformed one, or several ranges (which a server may ignore).
 * @throws RangeNotSatisfiableError when a well-formed single range lies outside the blob.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw new RangeNotSatisfiableError(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) throw new RangeNotSatisfiableError(size);
  return { start, end };
}
