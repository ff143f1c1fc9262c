import type { DirectoryListing, SourceProgress, StoreEntry, StorePathInfo, StoreReader } from './types.js';

/**
 * A closure's reader that reports each store path the first time its contents are read (a
 * layer being written from a binary cache fetches the path's NAR then), for the build log.
 */
export function reportingStoreReader(reader: StoreReader, paths: readonly StorePathInfo[], where: string, report: (event: SourceProgress) => void): StoreReader {
  const sizes = new Map(paths.map((info) => [info.path, info.narSize]));
  const seen = new Set<string>();
  return {
    entries(storePath: string, signal?: AbortSignal): AsyncIterable<StoreEntry> {
      if (!seen.has(storePath)) {
        seen.add(storePath);
        const size = sizes.get(storePath);
        report({ kind: 'download', text: `reading ${nameOf(storePath)}${size === undefined ? '' : ` (${mebibytes(size)} NAR)`} from ${where}` });
      }
      return reader.entries(storePath, signal);
    },
    list(directory: string, signal?: AbortSignal): Promise<DirectoryListing | null> {
      return reader.list(directory, signal);
    },
  };
}

function nameOf(path: string): string {
  return /^\/nix\/store\/[0-9a-z]{32}-(.+)$/.exec(path)?.[1] ?? path;
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
