import { randomBytes } from 'node:crypto';
import { Client, digestOf, makeImage, type ConformanceTarget } from './client.js';

/**
 * Checks written from the OCI distribution spec 1.1, grouped by its four workflows. Every check
 * sends real requests to the target registry and asserts what the spec requires (status codes,
 * headers, error codes, content). The workflows run in order (pull needs pushed content).
 */
export type Workflow = 'push' | 'pull' | 'content discovery' | 'content management';

export interface CheckResult {
  readonly workflow: Workflow;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export async function runConformance(target: ConformanceTarget): Promise<CheckResult[]> {
  const client = new Client(target);
  const ns = target.namespace;
  const other = `${ns}-mount`;
  const image = makeImage(randomBytes(8).toString('hex'));
  const [layerA, layerB] = image.layers as [Buffer, Buffer];
  const manifestDigest = digestOf(image.manifest);
  const results: CheckResult[] = [];
  const check = async (workflow: Workflow, name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      results.push({ workflow, name, ok: true });
    } catch (error) {
      results.push({ workflow, name, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  };
  const expectStatus = (response: { status: number; body: Buffer }, status: number, what: string) =>
    assert(response.status === status, `${what}: expected ${status}, got ${response.status} ${response.body.toString('utf8').slice(0, 200)}`);

  // --- push -------------------------------------------------------------------------------
  await check('push', 'POST then PUT uploads a blob', async () => {
    const start = await client.request('POST', `/v2/${ns}/blobs/uploads/`);
    expectStatus(start, 202, 'POST');
    const url = client.location(start);
    const put = await client.request('PUT', `${url}${url.includes('?') ? '&' : '?'}digest=${digestOf(image.config)}`, {
      headers: { 'content-type': 'application/octet-stream' },
      body: image.config,
    });
    expectStatus(put, 201, 'PUT');
    assert(put.headers.get('location'), 'PUT answered without Location');
    assert(put.headers.get('docker-content-digest') === digestOf(image.config), 'Docker-Content-Digest differs');
  });
  await check('push', 'POST with ?digest= uploads a blob in one request', async () => {
    const response = await client.request('POST', `/v2/${ns}/blobs/uploads/?digest=${digestOf(layerA)}`, { headers: { 'content-type': 'application/octet-stream' }, body: layerA });
    expectStatus(response, 201, 'monolithic POST');
    assert(response.headers.get('location'), 'no Location');
  });
  await check('push', 'chunked PATCH uploads report their range and complete', async () => {
    const start = await client.request('POST', `/v2/${ns}/blobs/uploads/`);
    expectStatus(start, 202, 'POST');
    const half = Math.floor(layerB.length / 2);
    const first = await client.request('PATCH', client.location(start), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${half - 1}`, 'content-length': String(half) },
      body: layerB.subarray(0, half),
    });
    expectStatus(first, 202, 'first PATCH');
    assert(first.headers.get('range') === `0-${half - 1}`, `Range after first chunk is ${first.headers.get('range')}`);
    const status = await client.request('GET', client.location(first));
    expectStatus(status, 204, 'upload status');
    assert(status.headers.get('range') === `0-${half - 1}`, `status Range is ${status.headers.get('range')}`);
    const second = await client.request('PATCH', client.location(first), {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${half}-${layerB.length - 1}`, 'content-length': String(layerB.length - half) },
      body: layerB.subarray(half),
    });
    expectStatus(second, 202, 'second PATCH');
    const url = client.location(second);
    const done = await client.request('PUT', `${url}${url.includes('?') ? '&' : '?'}digest=${digestOf(layerB)}`);
    expectStatus(done, 201, 'closing PUT');
  });
  await check('push', 'an out-of-order chunk is refused with 416', async () => {
    const start = await client.request('POST', `/v2/${ns}/blobs/uploads/`);
    const chunk = randomBytes(100);
    await client.request('PATCH', client.location(start), { headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99', 'content-length': '100' }, body: chunk });
    const gap = await client.request('PATCH', client.location(start), { headers: { 'content-type': 'application/octet-stream', 'content-range': '200-299', 'content-length': '100' }, body: chunk });
    expectStatus(gap, 416, 'PATCH with a gap');
  });
  await check('push', 'a wrong digest is refused and nothing is stored', async () => {
    const data = randomBytes(300);
    const wrong = digestOf(randomBytes(300));
    const response = await client.request('POST', `/v2/${ns}/blobs/uploads/?digest=${wrong}`, { headers: { 'content-type': 'application/octet-stream' }, body: data });
    expectStatus(response, 400, 'POST with a wrong digest');
    assert(response.errorCode() === 'DIGEST_INVALID', `error code ${response.errorCode()}`);
    expectStatus(await client.request('HEAD', `/v2/${ns}/blobs/${wrong}`), 404, 'HEAD of the wrong digest');
    expectStatus(await client.request('HEAD', `/v2/${ns}/blobs/${digestOf(data)}`), 404, 'HEAD of the real digest');
  });
  await check('push', 'a cancelled upload is gone', async () => {
    const start = await client.request('POST', `/v2/${ns}/blobs/uploads/`);
    expectStatus(await client.request('DELETE', client.location(start)), 204, 'DELETE upload');
    const status = await client.request('GET', client.location(start));
    expectStatus(status, 404, 'status after cancel');
    assert(status.errorCode() === 'BLOB_UPLOAD_UNKNOWN', `error code ${status.errorCode()}`);
  });
  await check('push', 'cross-repository mount of an existing blob answers 201', async () => {
    const response = await client.request('POST', `/v2/${other}/blobs/uploads/?mount=${digestOf(layerA)}&from=${ns}`);
    expectStatus(response, 201, 'mount');
    expectStatus(await client.request('HEAD', `/v2/${other}/blobs/${digestOf(layerA)}`), 200, 'HEAD of the mounted blob');
  });
  await check('push', 'mounting an unknown blob starts a normal upload', async () => {
    const response = await client.request('POST', `/v2/${other}/blobs/uploads/?mount=${digestOf(randomBytes(10))}&from=${ns}`);
    expectStatus(response, 202, 'mount of unknown blob');
    assert(response.headers.get('location'), 'no Location for the upload');
  });
  await check('push', 'a manifest referencing missing blobs is refused', async () => {
    const broken = makeImage('missing');
    const response = await client.request('PUT', `/v2/${ns}/manifests/broken`, { headers: { 'content-type': MANIFEST }, body: broken.manifest });
    expectStatus(response, 400, 'PUT');
    assert(response.errorCode() === 'MANIFEST_BLOB_UNKNOWN', `error code ${response.errorCode()}`);
  });
  await check('push', 'an invalid manifest is refused', async () => {
    const response = await client.request('PUT', `/v2/${ns}/manifests/invalid`, { headers: { 'content-type': MANIFEST }, body: '{"schemaVersion": 2, "layers": "no"' });
    expectStatus(response, 400, 'PUT');
    assert(response.errorCode() === 'MANIFEST_INVALID', `error code ${response.errorCode()}`);
  });
  await check('push', 'a manifest is pushed by tag', async () => {
    const response = await client.request('PUT', `/v2/${ns}/manifests/v1`, { headers: { 'content-type': MANIFEST }, body: image.manifest });
    expectStatus(response, 201, 'PUT by tag');
    assert(response.headers.get('docker-content-digest') === manifestDigest, 'Docker-Content-Digest differs');
    assert(response.headers.get('location'), 'no Location');
  });
  await check('push', 'a manifest is pushed by digest and under more tags', async () => {
    expectStatus(await client.request('PUT', `/v2/${ns}/manifests/${manifestDigest}`, { headers: { 'content-type': MANIFEST }, body: image.manifest }), 201, 'PUT by digest');
    for (const tag of ['v2', 'v3']) {
      expectStatus(await client.request('PUT', `/v2/${ns}/manifests/${tag}`, { headers: { 'content-type': MANIFEST }, body: image.manifest }), 201, `PUT ${tag}`);
    }
  });

  // --- pull -------------------------------------------------------------------------------
  await check('pull', 'the API base answers 200', async () => expectStatus(await client.request('GET', '/v2/'), 200, 'GET /v2/'));
  await check('pull', 'HEAD of a manifest by tag gives digest and length', async () => {
    const response = await client.request('HEAD', `/v2/${ns}/manifests/v1`, { headers: { accept: MANIFEST } });
    expectStatus(response, 200, 'HEAD');
    assert(response.headers.get('docker-content-digest') === manifestDigest, 'digest differs');
    assert(Number(response.headers.get('content-length')) === image.manifest.length, 'length differs');
  });
  await check('pull', 'GET of a manifest by tag and by digest returns the pushed bytes', async () => {
    for (const reference of ['v1', manifestDigest]) {
      const response = await client.request('GET', `/v2/${ns}/manifests/${reference}`, { headers: { accept: MANIFEST } });
      expectStatus(response, 200, `GET ${reference}`);
      assert(response.body.equals(image.manifest), `bytes differ for ${reference}`);
      assert(response.headers.get('content-type') === MANIFEST, `Content-Type ${response.headers.get('content-type')}`);
    }
  });
  await check('pull', 'HEAD and GET of a blob', async () => {
    const head = await client.request('HEAD', `/v2/${ns}/blobs/${digestOf(layerB)}`);
    expectStatus(head, 200, 'HEAD');
    assert(Number(head.headers.get('content-length')) === layerB.length, 'length differs');
    const get = await client.request('GET', `/v2/${ns}/blobs/${digestOf(layerB)}`);
    expectStatus(get, 200, 'GET');
    assert(get.body.equals(layerB), 'bytes differ');
  });
  await check('pull', 'a ranged blob GET returns the part', async () => {
    const response = await client.request('GET', `/v2/${ns}/blobs/${digestOf(layerB)}`, { headers: { range: 'bytes=10-19' } });
    expectStatus(response, 206, 'ranged GET');
    assert(response.body.equals(layerB.subarray(10, 20)), 'bytes differ');
  });
  await check('pull', 'unknown manifests and blobs answer 404 with their codes', async () => {
    const manifest = await client.request('GET', `/v2/${ns}/manifests/${digestOf('nothing')}`);
    expectStatus(manifest, 404, 'manifest');
    assert(manifest.errorCode() === 'MANIFEST_UNKNOWN', `manifest code ${manifest.errorCode()}`);
    const blob = await client.request('GET', `/v2/${ns}/blobs/${digestOf('nothing')}`);
    expectStatus(blob, 404, 'blob');
    assert(blob.errorCode() === 'BLOB_UNKNOWN', `blob code ${blob.errorCode()}`);
    expectStatus(await client.request('GET', `/v2/${ns}/manifests/no-such-tag`), 404, 'tag');
  });
  await check('pull', 'a reference that is neither a tag nor a digest answers 404 MANIFEST_UNKNOWN', async () => {
    for (const reference of ['-not-a-tag', `${'t'.repeat(129)}`]) {
      const get = await client.request('GET', `/v2/${ns}/manifests/${reference}`);
      expectStatus(get, 404, `GET ${reference.slice(0, 20)}`);
      assert(get.errorCode() === 'MANIFEST_UNKNOWN', `GET code ${get.errorCode()}`);
      expectStatus(await client.request('HEAD', `/v2/${ns}/manifests/${reference}`), 404, `HEAD ${reference.slice(0, 20)}`);
    }
  });

  // --- content discovery -------------------------------------------------------------------
  await check('content discovery', 'tags are listed in lexical order', async () => {
    const response = await client.request('GET', `/v2/${ns}/tags/list`);
    expectStatus(response, 200, 'tags/list');
    const body = response.json<{ name: string; tags: string[] }>();
    assert(body.name === ns, `name ${body.name}`);
    assert(JSON.stringify(body.tags) === JSON.stringify(['v1', 'v2', 'v3']), `tags ${JSON.stringify(body.tags)}`);
  });
  await check('content discovery', 'tags paginate with n, last and a Link header', async () => {
    const first = await client.request('GET', `/v2/${ns}/tags/list?n=2`);
    assert(JSON.stringify(first.json<{ tags: string[] }>().tags) === '["v1","v2"]', 'first page');
    assert(/rel="next"/.test(first.headers.get('link') ?? ''), 'no Link header');
    const next = await client.request('GET', `/v2/${ns}/tags/list?n=2&last=v2`);
    assert(JSON.stringify(next.json<{ tags: string[] }>().tags) === '["v3"]', 'second page');
  });
  const artifact = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: 'application/vnd.example.signature',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(image.config), size: image.config.length },
      layers: [{ mediaType: 'application/octet-stream', digest: digestOf(layerA), size: layerA.length }],
      subject: { mediaType: MANIFEST, digest: manifestDigest, size: image.manifest.length },
    }),
  );
  await check('content discovery', 'a manifest with a subject answers OCI-Subject', async () => {
    const response = await client.request('PUT', `/v2/${ns}/manifests/${digestOf(artifact)}`, { headers: { 'content-type': MANIFEST }, body: artifact });
    expectStatus(response, 201, 'PUT artifact');
    assert(response.headers.get('oci-subject') === manifestDigest, `OCI-Subject ${response.headers.get('oci-subject')}`);
  });
  await check('content discovery', 'the referrers API lists and filters referrers', async () => {
    const all = await client.request('GET', `/v2/${ns}/referrers/${manifestDigest}`);
    expectStatus(all, 200, 'referrers');
    // Exactly the index media type: a `; charset=utf-8` suffix is not the media type the spec names.
    assert(all.headers.get('content-type') === INDEX, `Content-Type ${all.headers.get('content-type')}`);
    const index = all.json<{ manifests: Array<{ digest: string; artifactType?: string }> }>();
    assert(index.manifests.some((entry) => entry.digest === digestOf(artifact) && entry.artifactType === 'application/vnd.example.signature'), 'artifact missing');
    const filtered = await client.request('GET', `/v2/${ns}/referrers/${manifestDigest}?artifactType=application/vnd.example.other`);
    assert(filtered.headers.get('oci-filters-applied') === 'artifactType', 'OCI-Filters-Applied missing');
    assert(filtered.json<{ manifests: unknown[] }>().manifests.length === 0, 'filter did not apply');
  });
  await check('content discovery', 'referrers of a digest without any is an empty index', async () => {
    const response = await client.request('GET', `/v2/${ns}/referrers/${digestOf('no referrers')}`);
    expectStatus(response, 200, 'referrers');
    assert(response.json<{ manifests: unknown[] }>().manifests.length === 0, 'not empty');
  });

  // --- content management -------------------------------------------------------------------
  await check('content management', 'deleting a tag keeps the manifest', async () => {
    expectStatus(await client.request('DELETE', `/v2/${ns}/manifests/v3`), 202, 'DELETE tag');
    expectStatus(await client.request('GET', `/v2/${ns}/manifests/v3`), 404, 'GET deleted tag');
    expectStatus(await client.request('GET', `/v2/${ns}/manifests/${manifestDigest}`, { headers: { accept: MANIFEST } }), 200, 'GET by digest');
  });
  await check('content management', 'deleting a manifest removes it, its tags and its referrer entry', async () => {
    expectStatus(await client.request('DELETE', `/v2/${ns}/manifests/${digestOf(artifact)}`), 202, 'DELETE artifact');
    const referrers = await client.request('GET', `/v2/${ns}/referrers/${manifestDigest}`);
    assert(referrers.json<{ manifests: unknown[] }>().manifests.length === 0, 'referrer still listed');
    expectStatus(await client.request('DELETE', `/v2/${ns}/manifests/${manifestDigest}`), 202, 'DELETE manifest');
    expectStatus(await client.request('GET', `/v2/${ns}/manifests/${manifestDigest}`), 404, 'GET deleted manifest');
    expectStatus(await client.request('GET', `/v2/${ns}/manifests/v1`), 404, 'GET tag of deleted manifest');
  });
  await check('content management', 'deleting a blob removes it', async () => {
    expectStatus(await client.request('DELETE', `/v2/${ns}/blobs/${digestOf(layerB)}`), 202, 'DELETE blob');
    expectStatus(await client.request('GET', `/v2/${ns}/blobs/${digestOf(layerB)}`), 404, 'GET deleted blob');
  });
  await check('content management', 'deleting unknown content answers 404', async () => {
    const manifest = await client.request('DELETE', `/v2/${ns}/manifests/${digestOf('never pushed')}`);
    expectStatus(manifest, 404, 'DELETE unknown manifest');
    assert(manifest.errorCode() === 'MANIFEST_UNKNOWN', `code ${manifest.errorCode()}`);
    const blob = await client.request('DELETE', `/v2/${ns}/blobs/${digestOf('never pushed')}`);
    expectStatus(blob, 404, 'DELETE unknown blob');
    assert(blob.errorCode() === 'BLOB_UNKNOWN', `code ${blob.errorCode()}`);
  });
  return results;
}

/** `push: 12 passed, 0 failed` lines, one per workflow, and the failures. */
export function formatResults(results: readonly CheckResult[]): string {
  const workflows: Workflow[] = ['push', 'pull', 'content discovery', 'content management'];
  const lines = workflows.map((workflow) => {
    const mine = results.filter((result) => result.workflow === workflow);
    return `${workflow}: ${mine.filter((result) => result.ok).length} passed, ${mine.filter((result) => !result.ok).length} failed`;
  });
  for (const failure of results.filter((result) => !result.ok)) lines.push(`FAILED [${failure.workflow}] ${failure.name}: ${failure.error}`);
  return lines.join('\n');
}
