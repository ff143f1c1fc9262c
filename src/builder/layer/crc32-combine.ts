/**
 * CRC-32 of two concatenated pieces from the CRC-32 of each and the second one's length, as
 * zlib's crc32_combine (which Node does not expose) computes it: the first CRC is multiplied by
 * x^(8·len2) modulo the CRC polynomial. It lets compressor threads checksum their own blocks,
 * so the gzip trailer needs no pass over the data on the main thread.
 */

/** The reflected CRC-32 polynomial. */
const POLYNOMIAL = 0xedb88320;

/** a(x)·b(x) modulo p(x), in the reflected bit order CRC-32 uses. */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let product = 0;
  for (;;) {
    if ((a & m) !== 0) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo p(x) for k = 0..31. */
const POWERS: readonly number[] = (() => {
  const table = [0x40000000];
  for (let k = 1; k < 32; k++) table.push(multiplyModP(table[k - 1] as number, table[k - 1] as number));
  return table;
})();

/** x^(n·2^k) modulo p(x). */
function xPowerModP(n: number, k: number): number {
  let product = 0x80000000;
  while (n > 0) {
    if (n % 2 === 1) product = multiplyModP(POWERS[k % 32] as number, product);
    n = Math.floor(n / 2);
    k += 1;
  }
  return product;
}

/** CRC-32 of A followed by B, given crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(xPowerModP(lengthB, 3), crcA) ^ crcB) >>> 0;
}
