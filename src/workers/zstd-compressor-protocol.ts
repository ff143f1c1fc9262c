/**
 * Messages between ZstdWorkerStream and its compressor thread (zstd-compressor.ts): `start` a
 * frame with its parameters, send `data` in transferred buffers, `end` the frame. Each
 * `output` answers one `data` or the `end`, returning the input buffer for reuse.
 */

/** zstd parameters by their zstd-napi `CParameter` names. */
export type ZstdParameters = ReadonlyArray<readonly [name: 'compressionLevel' | 'checksumFlag' | 'nbWorkers', value: number]>;

export type CompressorRequest =
  | { readonly type: 'start'; readonly parameters: ZstdParameters }
  | { readonly type: 'data'; readonly buffer: ArrayBuffer; readonly length: number }
  | { readonly type: 'end' };

export type CompressorMessage =
  | { readonly type: 'output'; readonly chunks: readonly ArrayBuffer[]; readonly input: ArrayBuffer | null; readonly last: boolean }
  | { readonly type: 'error'; readonly message: string };
