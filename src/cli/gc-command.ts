import { collectGarbage, type GarbageCollectionReport } from '../storage/gc.js';
import { expireImageRecords } from '../builder/image-expiry.js';
import { ConfigError } from '../config/env.js';
import { commandConfig, formatBytes, parseCommandArgs, withApp } from './command-app.js';

const USAGE = `usage: stowage gc [--dry-run] [--grace DURATION] [--json] [--data-dir DIR] [--config FILE]

Delete blobs that no manifest, tag or cache record references. Safe while servers run: blobs
committed within the grace period (default 1h) are kept, since a build or push may not have
recorded them yet, and references are checked again right before deleting. DURATION is
milliseconds or a number with s, m, h or d.

First, built images not pulled for gc.imageRecordTtlMs (STOWAGE_GC_IMAGE_RECORD_TTL_MS,
default 30 days; 0 = never) are forgotten, so their blobs are collected too; a later pull
builds them again. Pushed repositories never expire. Works on local disk and on S3.
`;

const DEFAULT_GRACE_MS = 60 * 60 * 1000;

/** `stowage gc`: garbage-collect the blob store. */
export async function gcCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseCommandArgs(args, {
    'dry-run': { type: 'boolean', short: 'n' },
    grace: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const graceMs = typeof values.grace === 'string' ? parseDuration(values.grace) : DEFAULT_GRACE_MS;
  const dryRun = values['dry-run'] === true;
  const config = await commandConfig(values, env);
  return withApp(config, env, async (app) => {
    const expiry = await expireImageRecords(app.metadata, { ttlMs: config.gc.imageRecordTtlMs, dryRun });
    const report = await collectGarbage(app.blobs, app.metadata, { graceMs, dryRun });
    if (values.json) process.stdout.write(`${JSON.stringify({ dryRun, graceMs, expiredImages: expiry.expired, ...report }, null, 2)}\n`);
    else {
      if (expiry.expired.length > 0) process.stdout.write(`${dryRun ? 'would forget' : 'forgot'} ${expiry.expired.length} image(s) not pulled for ${formatDuration(config.gc.imageRecordTtlMs)}: ${expiry.expired.join(', ')}\n`);
      process.stdout.write(formatReport(report, dryRun, graceMs));
    }
    return 0;
  });
}

export function formatReport(report: GarbageCollectionReport, dryRun: boolean, graceMs: number): string {
  const lines = [
    `blobs: ${report.blobs} (${formatBytes(report.bytes)}); referenced: ${report.referenced}; unreferenced but recent (kept, grace ${formatDuration(graceMs)}): ${report.young}`,
    `${dryRun ? 'would delete' : 'deleted'} ${report.deleted.length} blob${report.deleted.length === 1 ? '' : 's'}, ${dryRun ? 'freeing' : 'freed'} ${formatBytes(report.freedBytes)}` +
      (report.rescued > 0 ? `; ${report.rescued} kept after all (referenced or committed again meanwhile)` : ''),
    ...report.deleted.map((blob) => `  ${blob.digest}  ${formatBytes(blob.size)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `90`, `90000ms`, `30s`, `15m`, `1h`, `2d` → milliseconds. @throws ConfigError */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new ConfigError(`--grace must be a duration like 30m, 1h or 3600000, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(match[1]) * unit);
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
