import type { FastifyInstance } from 'fastify';
import type { BuildStatus } from '../builder/build-tracker.js';
import type { BuildLogLine } from '../builder/build-log.js';
import type { ParsedImageName } from '../image-name/image-name.js';
import type { BuiltImage } from '../builder/image-builder.js';
import { BuildFailedError } from '../sources/errors.js';
import { BuildQueueFullError } from '../builder/errors.js';
import { EventStream } from './sse.js';
import { EventStreamLimit } from './event-stream-limit.js';
import { RegistryError } from '../registry/registry-error.js';
import { imageFromRequest, type WebDeps } from './web-deps.js';

/**
 * Starting a build from the UI and following it live:
 *
 *   POST /api/v1/builds/<name>?tag=T         start building in the background: 202 (or 200 when
 *                                            it is already built); the body names the events URL
 *   GET  /api/v1/build-events/<name>?tag=T   Server-Sent Events until the build ends:
 *        status  a BuildStatus (phase, layer k of N, bytes written, elapsed time) each time it changes
 *        log     a BuildLogLine (derivation built, download, layer written, tool output) with
 *                `counts` of each kind so far; on connecting, the lines kept so far come first
 *        done    {image, tag, digest} when the image is built (also at once if it already was)
 *        failed  {error, log} with the tail of Nix's log when there is one
 *        idle    nothing is built or building: start a build first
 *
 * A build started here does not depend on the page: closing the stream does not stop it.
 */
export function registerBuildRoutes(app: FastifyInstance, deps: WebDeps): void {
  // Open streams end when the server closes, or they would hold the shutdown until their build ends.
  const open = new Set<EventStream>();
  const limit = new EventStreamLimit();
  // Every stream following a build gets each of its log lines: serialised once, not per stream.
  const serialised = new WeakMap<BuildLogLine, string>();
  // Starting a build is what a pull does, and following one shows what a pull would: reads.
  const readRoute = { config: { access: 'read' as const } };
  app.addHook('preClose', async () => {
    for (const stream of open) stream.close();
  });

  app.post<{ Params: { '*': string }; Querystring: { tag?: string } }>('/api/v1/builds/*', readRoute, async (request, reply) => {
    const name = request.params['*'];
    // Starting a build is a pull: the access rules decide as on the name's /v2/ routes.
    deps.permissions.assertMayPull(request, name);
    // The registry serves a pushed name as pushed: building it would make an image nobody pulls.
    if (await deps.servedFromPushes(name)) {
      throw new RegistryError('DENIED', `${name} is a pushed repository: it is served as pushed, not built`);
    }
    const image = imageFromRequest(request, deps.imageNames);
    deps.permissions.assertMayPullImage(request, image);
    const links = urlsOf(image);
    const running = deps.builder.pending(image) !== undefined;
    if (!running && (await deps.builder.find(image)).length > 0) {
      return reply.code(200).send({ image: image.canonicalName, tag: image.request.revision, status: 'built', ...links });
    }
    // A build the queue refuses would fail in the background while the page was told "started".
    if (!running && deps.builder.queueFull) throw new BuildQueueFullError(30);
    if (!running) {
      deps.builder.build(image, request.ip).catch((error: unknown) => {
        request.log.info({ image: image.canonicalName, reason: (error as Error).message }, 'build started from the web ui failed');
      });
    }
    return reply.code(202).header('location', links.events).send({ image: image.canonicalName, tag: image.request.revision, status: running ? 'running' : 'started', ...links });
  });

  app.get<{ Params: { '*': string }; Querystring: { tag?: string } }>('/api/v1/build-events/*', readRoute, async (request, reply) => {
    const name = request.params['*'];
    deps.permissions.assertMayPull(request, name);
    const image = imageFromRequest(request, deps.imageNames);
    deps.permissions.assertMayPullImage(request, image);
    const release = limit.open(request.ip);
    if (release === null) throw new RegistryError('TOOMANYREQUESTS', 'too many build event streams are open; close one or try again later', undefined, { 'retry-after': '30' });
    reply.hijack();
    const stream = new EventStream(reply.raw);
    open.add(stream);
    reply.raw.once('close', () => {
      open.delete(stream);
      release();
    });
    const tag = image.request.revision;
    const matches = (status: BuildStatus): boolean => status.image === image.canonicalName && status.revision === tag;
    const unsubscribe = deps.builder.tracker.subscribe((status) => {
      if (matches(status)) stream.send('status', status);
    });
    const unsubscribeLog = deps.builder.tracker.subscribeLog((line, counts) => {
      if (line.image !== image.canonicalName || line.revision !== tag) return;
      let json = serialised.get(line);
      if (json === undefined) serialised.set(line, (json = JSON.stringify({ ...line, counts })));
      stream.sendJson('log', json);
    });
    reply.raw.once('close', () => {
      unsubscribe();
      unsubscribeLog();
    });
    const finish = (event: string, data: unknown): void => {
      unsubscribe();
      unsubscribeLog();
      stream.send(event, data);
      stream.close();
    };

    const current = deps.builder.tracker.get(image.canonicalName, tag);
    for (const status of current) stream.send('status', status);
    const history = deps.builder.tracker.logOf(image.canonicalName, tag);
    for (const line of history.lines) stream.send('log', { ...line, counts: history.counts[line.system] });
    const pending = deps.builder.pending(image);
    if (pending) {
      pending.then(
        (built) => finish('done', doneEvent(image, built)),
        (error: unknown) => finish('failed', failedEvent(error, deps.builder.tracker.get(image.canonicalName, tag))),
      );
      return;
    }
    const found = await deps.builder.find(image).catch(() => []);
    if (found.length > 0) {
      const primary = found[0] as (typeof found)[number];
      finish('done', { image: image.canonicalName, tag, digest: primary.record.oci.digest, built: false });
      return;
    }
    const failed = current.find((status) => status.phase === 'failed');
    if (failed) finish('failed', { error: failed.error ?? 'the build failed', log: failed.log ?? null });
    else finish('idle', { image: image.canonicalName, tag });
  });
}

function urlsOf(image: ParsedImageName): { events: string; explorer: string } {
  const tag = encodeURIComponent(image.request.revision);
  return {
    events: `/api/v1/build-events/${image.canonicalName}?tag=${tag}`,
    explorer: `/images/${image.canonicalName}:${image.request.revision}`,
  };
}

function doneEvent(image: ParsedImageName, built: BuiltImage): object {
  return {
    image: image.canonicalName,
    tag: image.request.revision,
    digest: (built.index ?? built.primary).oci.digest,
    built: built.built,
  };
}

function failedEvent(error: unknown, statuses: readonly BuildStatus[]): object {
  const log = error instanceof BuildFailedError ? error.logTail : (statuses.find((status) => status.log)?.log ?? null);
  return { error: error instanceof Error ? error.message : String(error), log: log || null };
}
