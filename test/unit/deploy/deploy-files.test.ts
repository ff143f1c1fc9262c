import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS, configFromEnv } from '../../../src/config/env.js';
import { parseConfig } from '../../../src/config/load.js';
import { DEFAULT_DEBIAN_KEYRING } from '../../../src/sources/debian/archive/gpgv.js';
import { DEBIAN_SOURCE_RUNTIME_PACKAGES } from '../../../src/sources/debian/archive/runtime-packages.js';
import { REPO_ROOT } from '../../support/registry-server.js';

/**
 * No Docker engine or Kubernetes runs here, so the deployment files are checked statically:
 * what they copy exists, what they configure is valid stowage configuration.
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const BINDINGS = new Set(ENV_BINDINGS.map((binding) => binding.name));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function dockerfileInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    pending += `${line.replace(/\\$/, '')} `;
    if (line.endsWith('\\')) continue;
    const [keyword = '', ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' ') });
    pending = '';
  }
  return instructions;
}

/** Whether `.dockerignore` (an exclude-everything list with `!` re-includes) lets `path` through. */
function inBuildContext(path: string, ignore: string): boolean {
  let included = true;
  for (const raw of ignore.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/\/$/, '');
    const matches = pattern === '*' || path === pattern || path.startsWith(`${pattern}/`);
    if (matches) included = negated;
  }
  return included;
}

/** The configuration an environment of STOWAGE_* variables gives (throws when invalid). */
function configOf(env: Record<string, unknown>) {
  const stowageEnv = Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('STOWAGE_')).map(([name, value]) => [name, String(value)]));
  for (const name of Object.keys(stowageEnv)) expect(BINDINGS.has(name), `${name} is a known variable`).toBe(true);
  return parseConfig(configFromEnv(stowageEnv));
}

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions(read('Dockerfile'));
  const ignore = read('.dockerignore');

  it('has a build stage and a Debian 12 runtime stage, and COPY sources exist', () => {
    const stages: string[] = [];
    for (const { keyword, args } of instructions) {
      if (keyword === 'FROM') {
        const match = /\S+(?:\s+AS\s+(\S+))?$/i.exec(args);
        stages.push(match?.[1] ?? '');
      }
      if (keyword !== 'COPY') continue;
      const words = args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((word) => !word.startsWith('--'));
      const sources = paths.slice(0, -1);
      expect(sources.length, `COPY ${args}`).toBeGreaterThan(0);
      if (from !== undefined) {
        expect(stages.slice(0, -1), `COPY --from=${from} names an earlier stage`).toContain(from);
        continue;
      }
      for (const source of sources) {
        expect(existsSync(join(REPO_ROOT, source)), `${source} exists`).toBe(true);
        expect(inBuildContext(source.replace(/^\.\//, ''), ignore), `${source} is in the build context`).toBe(true);
      }
    }
    expect(stages).toEqual(['build', 'runtime']);
    expect(instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args)[1]).toMatch(/^debian:12-slim\b/);
  });

  it('installs Nix only when WITH_NIX is true, and runs the compiled entry point', () => {
    const text = read('Dockerfile');
    expect(text).toMatch(/ARG WITH_NIX=true/);
    expect(text).toMatch(/if \[ "\$WITH_NIX" = "true" \]; then apt-get install[^;]*nix-bin busybox-static/);
    // The CLI, so arguments pick a subcommand (`docker run IMAGE gc`); `serve` without any.
    const entrypoint = JSON.parse(instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '[]') as string[];
    expect(entrypoint.slice(-2)).toEqual(['node', 'dist/src/cli.js']);
    expect(JSON.parse(instructions.find((i) => i.keyword === 'CMD')?.args ?? '[]')).toEqual(['serve']);
    expect(existsSync(join(REPO_ROOT, 'src/cli.ts'))).toBe(true);
    expect(instructions.some((i) => i.keyword === 'USER' && i.args !== 'root')).toBe(true);
    const port = parseConfig({}).port;
    expect(instructions.find((i) => i.keyword === 'EXPOSE')?.args).toBe(String(port));
    for (const env of instructions.filter((i) => i.keyword === 'ENV')) {
      for (const [, name] of env.args.matchAll(/(STOWAGE_\w+)=/g)) expect(BINDINGS.has(name as string), `${name} is known`).toBe(true);
    }
  });

  it('installs what the Debian source needs at runtime in the runtime stage, with or without Nix', () => {
    const runtime = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
    // Unconditional apt-get installs only: a package behind `if [ "$WITH_NIX" ... ]` does not count.
    const installed = runtime
      .filter((i) => i.keyword === 'RUN')
      .flatMap((i) => i.args.split(/&&|;/))
      .map((command) => command.trim())
      .filter((command) => command.startsWith('apt-get install'))
      .flatMap((command) => command.split(/\s+/).slice(2).filter((word) => !word.startsWith('-')));
    expect(DEBIAN_SOURCE_RUNTIME_PACKAGES.length).toBeGreaterThan(0);
    for (const pkg of DEBIAN_SOURCE_RUNTIME_PACKAGES) expect(installed, pkg).toContain(pkg);
    expect(installed).not.toContain('nix-bin');
    // The keyring the source verifies with by default is the one that package installs.
    expect(parseConfig({}).source.debian.keyring).toBe(DEFAULT_DEBIAN_KEYRING);
    expect(DEFAULT_DEBIAN_KEYRING).toBe('/usr/share/keyrings/debian-archive-keyring.gpg');
    // Tests need them too: setup installs every one.
    const setup = /packages=\(([^)]*)\)/.exec(read('scripts/setup.sh'))?.[1]?.split(/\s+/) ?? [];
    for (const pkg of DEBIAN_SOURCE_RUNTIME_PACKAGES) expect(setup, `setup.sh installs ${pkg}`).toContain(pkg);
  });

  it('keeps the build context small', () => {
    for (const path of ['node_modules', 'dist', 'data', '.git', 'test', 'bench']) expect(inBuildContext(path, ignore), path).toBe(false);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, unknown>; depends_on?: Record<string, { condition: string }>; command?: unknown; image?: string; build?: string }>;
  };
  const services = compose.services;

  it('runs stowage with Redis, MinIO and a bucket-creating init service', () => {
    expect(Object.keys(services).sort()).toEqual(['minio', 'minio-init', 'redis', 'stowage']);
    expect(services.stowage?.build).toBe('.');
    expect(existsSync(join(REPO_ROOT, 'Dockerfile'))).toBe(true);
    expect(services.stowage?.depends_on?.['minio-init']?.condition).toBe('service_completed_successfully');
    expect(services.stowage?.depends_on?.redis?.condition).toBe('service_healthy');
    expect(services['minio-init']?.image).toMatch(/^minio\/mc/);
  });

  it('configures stowage with known variables that give a valid shared-storage config', () => {
    const env = services.stowage?.environment ?? {};
    const config = configOf(env);
    expect(config.storage.backend).toBe('s3');
    expect(config.metadata.backend).toBe('redis');
    expect(new URL(config.storage.s3.endpoint).hostname).toBe('minio');
    expect(new URL(config.metadata.redis.url).hostname).toBe('redis');
    expect(config.storage.s3.forcePathStyle).toBe(true);
    expect(env.AWS_ACCESS_KEY_ID).toBeDefined();
    expect(env.AWS_SECRET_ACCESS_KEY).toBeDefined();
    const init = JSON.stringify(services['minio-init']?.command);
    expect(init).toContain(`mc mb --ignore-existing local/${config.storage.s3.bucket}`);
    expect(init).toContain('--prefix staging/');
  });
});

describe('Kubernetes example', () => {
  const documents = parseAllDocuments(read('deploy/kubernetes/stowage.yaml')).map((document) => document.toJS() as Record<string, unknown>);
  const byKind = (kind: string) => documents.filter((document) => document.kind === kind) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any -- YAML documents

  it('has a Deployment with several replicas and health probes on the health endpoints', () => {
    const [deployment] = byKind('Deployment');
    expect(deployment?.spec.replicas).toBeGreaterThanOrEqual(2);
    const container = deployment?.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toMatch(/^\/readyz(\?optional=redis)?$/);
    expect(container.ports[0].containerPort).toBe(parseConfig({}).port);
    const [service] = byKind('Service');
    expect(service?.spec.ports[0].targetPort).toBe(container.ports[0].name);
    expect(service?.spec.selector).toEqual(deployment?.spec.selector.matchLabels);
  });

  it('configures shared storage with known variables', () => {
    const [configMap] = byKind('ConfigMap');
    const config = configOf(configMap?.data ?? {});
    expect(config.storage.backend).toBe('s3');
    expect(config.metadata.backend).toBe('redis');
    const deployment = byKind('Deployment')[0];
    const mounts = deployment?.spec.template.spec.containers[0].volumeMounts as Array<{ mountPath: string }>;
    expect(mounts.some((mount) => config.metadata.redis.passwordFile.startsWith(`${mount.mountPath}/`))).toBe(true);
  });
});

describe('Kubernetes example: TLS and garbage collection', () => {
  const documents = parseAllDocuments(read('deploy/kubernetes/stowage.yaml')).map((document) => document.toJS() as Record<string, unknown>);
  interface Container { args?: string[]; envFrom: Array<{ configMapRef?: { name: string } }>; volumeMounts: Array<{ name: string; mountPath: string }>; readinessProbe: { httpGet: { scheme?: string } } }
  interface PodSpec { containers: Container[]; volumes: Array<{ name: string; secret?: { secretName: string } }> }
  const find = <T>(kind: string): T => documents.find((document) => document.kind === kind) as T;
  const config = configOf((find<{ data: Record<string, string> }>('ConfigMap')).data);

  it('serves HTTPS from a mounted secret, probed over HTTPS', () => {
    const pod = find<{ spec: { template: { spec: PodSpec } } }>('Deployment').spec.template.spec;
    const container = pod.containers[0] as Container;
    const tlsMount = container.volumeMounts.find((mount) => config.server.tlsCertFile.startsWith(`${mount.mountPath}/`));
    expect(tlsMount).toBeDefined();
    expect(config.server.tlsKeyFile.startsWith(`${tlsMount?.mountPath}/`)).toBe(true);
    expect(pod.volumes.find((volume) => volume.name === tlsMount?.name)?.secret?.secretName).toBeTruthy();
    expect(container.readinessProbe.httpGet.scheme).toBe('HTTPS');
    expect(config.server.drainMs).toBeGreaterThan(0);
  });

  it('runs stowage gc from a CronJob with the same configuration, one at a time', () => {
    const cron = find<{ spec: { concurrencyPolicy: string; jobTemplate: { spec: { template: { spec: PodSpec } } } } }>('CronJob');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0] as Container;
    expect(container.args?.[0]).toBe('gc');
    expect(container.envFrom.some((source) => source.configMapRef?.name === 'stowage')).toBe(true);
    expect(container.volumeMounts.some((mount) => config.metadata.redis.passwordFile.startsWith(`${mount.mountPath}/`))).toBe(true);
    expect(config.gc.imageRecordTtlMs).toBeGreaterThan(0);
  });
});

describe('deployment docs', () => {
  it('document every S3 and Redis variable with its default', () => {
    const doc = read('docs/deployment.md');
    const defaults = parseConfig({}) as unknown as Record<string, unknown>;
    for (const binding of ENV_BINDINGS.filter((b) => b.path[0] === 'storage' || b.path[0] === 'metadata')) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${binding.name}\` |`));
      expect(row, `${binding.name} has a row`).toBeDefined();
      expect(row).toContain(`\`${binding.path.join('.')}\``);
      let value: unknown = defaults;
      for (const key of binding.path) value = (value as Record<string, unknown>)[key];
      if (String(value) !== '') expect(row).toContain(`\`${String(value)}\``);
    }
  });
});
