import type { SourceProgress } from '../types.js';
import type { DebFileSource } from './deb-reader.js';
import type { DebianPackage } from './types.js';

/**
 * The `.deb`s of one build, reporting each package the first time the build fetches it (from
 * the archive, or the local `.deb` cache) and once it is there, for the build's live log.
 */
export function reportingDebFiles(files: DebFileSource, report: (event: SourceProgress) => void): DebFileSource {
  const seen = new Set<string>();
  return {
    async fetch(pkg: DebianPackage, signal?: AbortSignal): Promise<string> {
      const first = !seen.has(pkg.sha256);
      seen.add(pkg.sha256);
      if (!first) return files.fetch(pkg, signal);
      report({ kind: 'download', text: `fetching ${describeDeb(pkg)}` });
      const path = await files.fetch(pkg, signal);
      report({ kind: 'log', text: `${pkg.name} ${pkg.version} is ready` });
      return path;
    },
  };
}

/** `git 1:2.39.5-0+deb12u2 (amd64, 7.1 MiB)`. */
export function describeDeb(pkg: Pick<DebianPackage, 'name' | 'version' | 'architecture' | 'size'>): string {
  return `${pkg.name} ${pkg.version} (${pkg.architecture}, ${mebibytes(pkg.size)})`;
}

function mebibytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
