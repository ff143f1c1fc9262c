import { Readable } from 'node:stream';
import { createNarDecompressor } from './decompress.js';
import type { NarCompression } from './nar-info.js';
import { readLimited } from './transport.js';

const MAX_LISTING_BYTES = 256 * 1024 * 1024;

/**
 * The JSON text of a `.ls` file, which Nix may compress (`ls-compression`): recognised by its
 * magic bytes (xz, zstd, bzip2, gzip); anything else is taken as plain JSON. Null when the bytes
 * do not decompress.
 */
export async function decompressListing(bytes: Buffer): Promise<string | null> {
  const compression = sniff(bytes);
  if (compression === 'none') return bytes.toString('utf8');
  try {
    const stages = createNarDecompressor(compression);
    let stream: NodeJS.ReadableStream = Readable.from([bytes]);
    for (const stage of stages) stream = stream.pipe(stage);
    return (await readLimited(stream as AsyncIterable<Uint8Array>, '.ls', MAX_LISTING_BYTES)).toString('utf8');
  } catch {
    return null;
  }
}

function sniff(bytes: Buffer): NarCompression {
  if (bytes.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (bytes.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  if (bytes.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  return 'none';
}
