import type { FastifyRequest } from 'fastify';
import { parseV2Path } from './route-path.js';

/** The token scope a `/v2/*` request needs: what a Bearer token must allow, and what a challenge asks for. */
export interface RouteScope {
  readonly type: 'repository' | 'registry';
  readonly name: string;
  /** The action checked against a token. */
  readonly action: 'pull' | 'push' | 'delete' | '*';
  /** The scope a challenge names (docker asks push with pull). */
  readonly challenge: string;
  /** A blob HEAD: what pushers ask before uploading (pulls GET blobs). */
  readonly blobHead: boolean;
}

/** From the matched route's decoded path; null for the ping and for routes outside `/v2/`. */
export function routeScope(request: FastifyRequest): RouteScope | null {
  if (request.routeOptions.url !== '/v2/*') return null;
  const route = parseV2Path((request.params as { '*'?: string })['*'] ?? '');
  if (route.kind === 'base' || route.kind === 'unknown') return null;
  if (route.kind === 'catalog') return { type: 'registry', name: 'catalog', action: '*', challenge: 'registry:catalog:*', blobHead: false };
  const reading = request.method === 'GET' || request.method === 'HEAD';
  const uploadStatus = route.kind === 'upload';
  const action = request.method === 'DELETE' && route.kind !== 'upload' ? 'delete' : reading && !uploadStatus ? 'pull' : 'push';
  const actions = action === 'pull' ? 'pull' : action === 'push' ? 'pull,push' : 'delete';
  return { type: 'repository', name: route.name, action, challenge: `repository:${route.name}:${actions}`, blobHead: route.kind === 'blob' && request.method === 'HEAD' };
}
