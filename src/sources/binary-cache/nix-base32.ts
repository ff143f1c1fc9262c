/**
 * Nix's base-32 encoding ("nix32"), used for store path hashes and in narinfo hashes: the
 * alphabet omits e, o, u and t, and the digits are emitted from the hash's last bits first,
 * so it is not RFC 4648 base32.
 */
const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const VALUES = new Map([...ALPHABET].map((char, index) => [char, index]));

/** Characters a nix32 string of `bytes` bytes has. */
export function nix32Length(bytes: number): number {
  return Math.floor((bytes * 8 - 1) / 5) + 1;
}

export function encodeNix32(bytes: Uint8Array): string {
  const length = nix32Length(bytes.length);
  let out = '';
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = Math.floor(bit / 8);
    const j = bit % 8;
    const low = (bytes[i] ?? 0) >> j;
    const high = i >= bytes.length - 1 ? 0 : (bytes[i + 1] ?? 0) << (8 - j);
    out += ALPHABET[(low | high) & 0x1f];
  }
  return out;
}

/**
 * Decode a nix32 string into `bytes` bytes.
 * @throws Error when the length is wrong, a character is outside the alphabet, or bits are set
 *   beyond the hash's size.
 */
export function decodeNix32(text: string, bytes: number): Buffer {
  if (text.length !== nix32Length(bytes)) throw new Error(`nix32 string of ${bytes} bytes must have ${nix32Length(bytes)} characters`);
  const out = Buffer.alloc(bytes);
  for (let n = 0; n < text.length; n++) {
    const digit = VALUES.get(text[text.length - n - 1] as string);
    if (digit === undefined) throw new Error(`invalid nix32 character in ${JSON.stringify(text)}`);
    const bit = n * 5;
    const i = Math.floor(bit / 8);
    const j = bit % 8;
    out[i] = (out[i] as number) | ((digit << j) & 0xff);
    const carry = digit >> (8 - j);
    if (i < bytes - 1) out[i + 1] = (out[i + 1] as number) | carry;
    else if (carry !== 0) throw new Error(`nix32 string ${JSON.stringify(text)} has bits beyond ${bytes} bytes`);
  }
  return out;
}

/** True for a well-formed nix32 string (any length). */
export function isNix32(text: string): boolean {
  return /^[0-9abcdfghijklmnpqrsvwxyz]+$/.test(text);
}
