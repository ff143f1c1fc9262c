import { z } from 'zod';

/**
 * Every setting stowage reads, with its default. Unknown keys are an error, so a typo in a
 * config file fails at startup instead of being silently ignored.
 */
const nixSourceSchema = z
  .object({
    /** A path to a Nix file or directory, or `<nixpkgs>`-style lookup path. Relative paths are resolved against the working directory. */
    packageSet: z.string().min(1).default('examples/pkgs'),
    /**
     * Nix systems images are built for. With more than one, a tag serves an image index that
     * clients pick their platform from; the first is the default for clients that can't.
     */
    systems: z.array(z.string().regex(/^[a-z0-9_]+-[a-z0-9_]+$/)).min(1).default(['x86_64-linux']),
    /** Attribute paths the `shell` meta-package expands to. */
    shellPackages: z.array(z.string().min(1)).min(1).default(['busybox']),
    /** Directory holding nix-build, nix-instantiate and nix; empty = found on PATH. */
    nixBinDir: z.string().default(''),
    /** Space-separated binary caches for Nix to substitute from; empty = build everything locally. */
    substituters: z.string().default(''),
    /** Public keys trusted for `substituters`, space-separated. */
    trustedPublicKeys: z.string().default(''),
    /** Use the machine's own Nix configuration (/etc/nix) instead of one stowage writes. */
    useSystemConfig: z.boolean().default(false),
    /** Longest a single Nix evaluation or build may run, in milliseconds. */
    timeoutMs: z.number().int().positive().default(600_000),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(5000),
    /** Blobs, metadata and Nix settings live here. */
    dataDir: z.string().min(1).default('data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    source: nixSourceSchema.prefault({}),
    image: z
      .object({
        /** Most layers an image may have, the top layer included (Docker allows 125). */
        maxLayers: z.number().int().min(2).max(125).default(100),
        compression: z.enum(['gzip', 'zstd']).default('gzip'),
        gzipLevel: z.number().int().min(1).max(9).default(6),
        zstdLevel: z.number().int().min(1).max(19).default(3),
        /** Most packages one image name may list. */
        maxPackages: z.number().int().min(1).max(1000).default(64),
      })
      .strict()
      .prefault({}),
    builds: z
      .object({
        /** Image builds running at once; more wait in a queue. */
        concurrency: z.number().int().min(1).default(2),
        /** Builds allowed to wait; beyond it requests get 429 TOOMANYREQUESTS. */
        maxQueued: z.number().int().min(0).default(64),
        /** Longest an image build may take; then it is stopped and the request gets 503. */
        timeoutMs: z.number().int().positive().default(900_000),
        /**
         * Longest a manifest request waits for a running build; then it gets 503 with Retry-After
         * and the build's progress while the build continues. Below common proxy timeouts (60 s).
         */
        requestWaitMs: z.number().int().positive().default(50_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
