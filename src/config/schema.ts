import { z } from 'zod';
import { serverSchema } from './server-schema.js';
import { sourceSchema } from './source-schema.js';

const httpUrlOrEmpty = z.string().refine((value) => value === '' || /^https?:\/\/[^\s]+$/.test(value), 'must be an http(s) URL or empty');

/**
 * Where blobs live: local disk under `dataDir` (one replica), or an S3 bucket shared by every
 * replica. S3 credentials come from the AWS default chain (AWS_ACCESS_KEY_ID/..., profile
 * files, web identity, instance metadata), never from this config.
 */
const storageSchema = z
  .object({
    backend: z.enum(['fs', 's3']).default('fs'),
    s3: z
      .object({
        bucket: z.string().default(''),
        region: z.string().min(1).default('us-east-1'),
        /** S3-compatible server (MinIO, Ceph, R2, ...); empty = AWS. */
        endpoint: httpUrlOrEmpty.default(''),
        /** Endpoint in redirect URLs, when clients reach S3 under another name; empty = `endpoint`. */
        publicEndpoint: httpUrlOrEmpty.default(''),
        /** `endpoint/bucket/key` URLs, which most self-hosted servers need. */
        forcePathStyle: z.boolean().default(false),
        /** Key prefix for everything stowage stores in the bucket: empty or ending in `/`. */
        prefix: z.string().regex(/^$|\/$/, 'must be empty or end with /').default(''),
        /** Answer blob GETs with a 307 to a presigned S3 URL, so bytes flow from S3 directly. */
        redirect: z.boolean().default(false),
        /** How long a redirect URL stays valid. */
        presignTtlSeconds: z.number().int().min(1).max(604_800).default(900),
        /** Attempts per S3 request (network errors, 5xx and throttling are retried with backoff). */
        maxAttempts: z.number().int().min(1).max(20).default(4),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((value, context) => {
    if (value.backend === 's3' && value.s3.bucket === '') {
      context.addIssue({ code: 'custom', path: ['s3', 'bucket'], message: 'is required when storage.backend is s3' });
    }
  });

/** Where image/layer records and build locks live: files under `dataDir` and in-process locks (one replica), or Redis (any number). */
const metadataSchema = z
  .object({
    backend: z.enum(['fs', 'redis']).default('fs'),
    redis: z
      .object({
        /** `redis://host:port[/db]` or `rediss://` (TLS); put the password in `passwordFile`. */
        url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
        /** File holding the Redis password (a mounted secret); empty = none. */
        passwordFile: z.string().default(''),
        /** Prefix of every key stowage writes, so several deployments can share one Redis. */
        keyPrefix: z.string().default('stowage:'),
        /** Expiry of a build lock; renewed every third of it while the build runs. */
        lockTtlMs: z.number().int().min(1_000).default(30_000),
        /** A Redis command not answered within this time counts as Redis being unavailable. */
        commandTimeoutMs: z.number().int().positive().default(2_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A repository name or glob of `auth.access`: components of name characters and `*`, or a whole-component `**`. */
const repositoryGlob = z
  .string()
  .regex(/^(?:\*\*|[a-z0-9._*-]+)(?:\/(?:\*\*|[a-z0-9._*-]+))*$/, 'must be a repository name or glob: lowercase components of a-z 0-9 . _ - and *, separated by /, or a whole component ** (any depth)')
  .refine((value) => value.split('/').every((part) => part === '**' || !part.includes('**')), '** must be a whole path component (team/**), not part of one');

/** One per-namespace access rule (auth.access); see src/auth/access-policy.ts for what rules mean. */
const accessRuleSchema = z
  .object({
    repository: repositoryGlob,
    /** htpasswd users; `*` = any authenticated user. */
    users: z.array(z.string().min(1)).default([]),
    /** Names of auth.groups. */
    groups: z.array(z.string().min(1)).default([]),
    actions: z.array(z.enum(['pull', 'push', 'delete'])).min(1, 'must name at least one of pull, push, delete'),
  })
  .strict()
  .refine((rule) => rule.users.length > 0 || rule.groups.length > 0, { message: 'must name users or groups', path: ['users'] });

/** The listening socket: TLS, HTTP/2, connection keep-alive and the shutdown drain. */
/**
 * Every setting stowage reads, with its default. Unknown keys are an error, so a typo in a
 * config file fails at startup instead of being silently ignored.
 */
export const configSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(5000),
    server: serverSchema.prefault({}),
    /** Blobs, metadata and Nix settings live here. */
    dataDir: z.string().min(1).default('data'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    source: sourceSchema.prefault({}),
    storage: storageSchema.prefault({}),
    metadata: metadataSchema.prefault({}),
    image: z
      .object({
        /** Most layers an image may have, the top layer included (Docker allows 125). */
        maxLayers: z.number().int().min(2).max(125).default(100),
        /**
         * Adaptive budget: each image gets the fewest layers (at most `maxLayers`) whose
         * estimated download cost is within 1% of the layering at `maxLayers`.
         */
        adaptiveLayers: z.boolean().default(false),
        compression: z.enum(['gzip', 'zstd']).default('gzip'),
        gzipLevel: z.number().int().min(1).max(9).default(6),
        zstdLevel: z.number().int().min(1).max(19).default(3),
        /**
         * Package-set popularity table (`stowage popularity`); empty = `popularity.json` beside
         * the package set when there is one.
         */
        popularityFile: z.string().default(''),
        /**
         * Co-occurrence data for the layering: which packages images ship together, from the
         * closures of the last `window` distinct images built here (persisted in the metadata
         * store), frozen into a table recomputed at most once per `periodMs`; or `file`, an
         * operator's frozen table (then nothing is recorded). A new table changes image keys.
         */
        coOccurrence: z
          .object({
            enabled: z.boolean().default(false),
            periodMs: z.number().int().min(60_000).default(24 * 60 * 60 * 1000),
            window: z.number().int().min(10).max(100_000).default(2000),
            file: z.string().default(''),
          })
          .strict()
          // A file with the feature off would be ignored without a word.
          .refine((value) => value.file === '' || value.enabled, { message: 'a table file needs enabled: true', path: ['file'] })
          .prefault({}),
        /** Most packages one image name may list. */
        maxPackages: z.number().int().min(1).max(1000).default(64),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** htpasswd file (bcrypt entries) of the users who may push and delete; empty = nobody. */
        htpasswdFile: z.string().default(''),
        /** Whether pulls need no credentials. */
        anonymousPull: z.boolean().default(true),
        realm: z.string().min(1).default('stowage'),
        /** Named lists of htpasswd users, for auth.access rules. */
        groups: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'group names are letters, digits, . _ -'), z.array(z.string().min(1))).default({}),
        /** Per-namespace rules; empty = every user may pull, push and delete everywhere. With rules, push and delete need a rule. */
        access: z.array(accessRuleSchema).default([]),
        /** The Docker token flow: `/v2/` challenges with Bearer, `/token` issues ES256 tokens. */
        token: z
          .object({
            enabled: z.boolean().default(true),
            /** The `service` of challenges and the tokens' audience. */
            service: z.string().min(1).default('stowage'),
            /** Token endpoint URL in challenges; empty = `/token` on the host the client used. */
            realm: z.string().default(''),
            /** PEM file of a P-256 private key shared by all replicas; empty = a key made at start. */
            keyFile: z.string().default(''),
            ttlSeconds: z.number().int().min(30).max(86_400).default(300),
            /** Lifetime of refresh tokens (`POST /token` with `access_type=offline`); they die earlier when the user leaves htpasswd or changes password. */
            refreshTtlSeconds: z.number().int().min(60).max(90 * 86_400).default(7 * 86_400),
            /** Challenge anonymous /v2/ reads too (Docker Hub's way; clients then pull with anonymous tokens). */
            challengeAnonymousReads: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .superRefine((auth, context) => {
        if (auth.access.length > 0 && auth.htpasswdFile === '') {
          context.addIssue({ code: 'custom', path: ['access'], message: 'rules need users: set auth.htpasswdFile' });
        }
        auth.access.forEach((rule, index) => {
          rule.groups.forEach((group, at) => {
            if (!Object.hasOwn(auth.groups, group)) context.addIssue({ code: 'custom', path: ['access', index, 'groups', at], message: `names no group of auth.groups: ${group}` });
          });
        });
      })
      .prefault({}),
    push: z
      .object({
        /** Whether manifests, tags and blobs of pushed repositories may be deleted. */
        deletes: z.boolean().default(true),
        /** Upload sessions untouched for this long are discarded. */
        uploadTtlMs: z.number().int().positive().default(24 * 60 * 60 * 1000),
        /** Upload sessions open at once; past it, starting one gets 429 TOOMANYREQUESTS (monolithic uploads open none). */
        maxUploads: z.number().int().positive().default(10_000),
        /** Upload sessions one user may hold open at once (of `maxUploads`); past it, 429 for that user only. */
        maxUploadsPerUser: z.number().int().positive().default(1_000),
        /** Repository prefixes (`myteam`, `org/team`) pushes may always go to; their first component is never built. */
        namespaces: z.array(z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/)).default([]),
      })
      .strict()
      .prefault({}),
    builds: z
      .object({
        /** Image builds running at once; more wait in a queue. */
        concurrency: z.number().int().min(1).default(2),
        /** Builds allowed to wait; beyond it requests get 429 TOOMANYREQUESTS. */
        maxQueued: z.number().int().min(0).default(64),
        /**
         * Builds one client address may have running or waiting at once (joining a build already
         * running costs nothing); past it that client gets 429, so one client cannot fill the
         * queue. Behind a proxy not named in server.trustProxy every client shares its address.
         */
        maxPerClient: z.number().int().min(1).default(16),
        /**
         * Layers built at once and gzip compressor threads, each bounded by it (0, the default:
         * one per core). Layer digests do not depend on it.
         */
        layerParallelism: z.number().int().min(0).max(256).default(0),
        /** Longest an image build may take; then it is stopped and the request gets 503. */
        timeoutMs: z.number().int().positive().default(900_000),
        /**
         * Longest a manifest request waits for a running build; then it gets 503 with Retry-After
         * and the build's progress while the build continues. 0 (the default) = wait for the
         * build, up to `timeoutMs`, on a TCP keep-alive connection, as Nixery does: docker,
         * podman and containerd all fail on a 503 instead of retrying. Set it (e.g. 50000) behind
         * a proxy whose read timeout is shorter than a build.
         */
        requestWaitMs: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    gc: z
      .object({
        /**
         * Built images not pulled for this long are forgotten by `stowage gc` (their records
         * go, their blobs become collectable; a later pull builds them again). 0 = keep forever.
         */
        // Pull times are written at most hourly, so a shorter ttl would forget images in use.
        imageRecordTtlMs: z.number().int().min(0).refine((value) => value === 0 || value >= 2 * 60 * 60 * 1000, 'must be 0 (never) or at least 7200000 (2 h)').default(30 * 24 * 60 * 60 * 1000),
      })
      .strict()
      .prefault({}),
    web: z
      .object({
        /** The landing page, image explorer and their JSON API (`/`, `/images/...`, `/api/v1/...`). */
        enabled: z.boolean().default(true),
        /** `host[:port]` shown in pull commands; empty = the Host the browser used. */
        publicHost: z.string().regex(/^$|^[A-Za-z0-9.-]+(:[0-9]+)?$/, 'must be host or host:port').default(''),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /** Serve Prometheus metrics at `/metrics`. */
        enabled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((value, context) => {
    // Each process would keep its own metadata caches and in-process build locks: two workers
    // would build the same image twice and overwrite each other's records.
    if (value.server.accelRedirectPrefix !== '' && value.storage.backend !== 'fs') {
      context.addIssue({ code: 'custom', path: ['server', 'accelRedirectPrefix'], message: 'needs storage.backend fs (nginx sends the blob files); S3 has storage.s3.redirect' });
    }
    if (value.server.workers > 1 && value.metadata.backend !== 'redis') {
      context.addIssue({ code: 'custom', path: ['server', 'workers'], message: 'more than 1 worker needs metadata.backend redis (shared records and build locks); the fs metadata store belongs to one process' });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
