import type { FastifyRequest } from 'fastify';
import { imageSpellings, parseImageName, type ImageNameOptions, type ParsedImageName } from '../image-name/image-name.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { policyOf } from './access-control.js';
import { RegistryError } from './registry-error.js';
import type { RegistryDeps } from './registry-deps.js';

/**
 * Refuses a pull of a package-list name that another spelling of the same image makes private:
 * the access control decided on the spelling the route names (access-decision.ts), and a rule
 * on `extra/tool` is not one on `tool/extra`. A pushed repository is its name as spelled and is
 * not looked at again. Cheap when nothing is refused: a name parse, no metadata read.
 * @throws RegistryError DENIED
 */
export async function assertSpellingsReadable(deps: RegistryDeps, request: FastifyRequest, name: string, servedFromPushes: (name: string) => Promise<boolean>): Promise<void> {
  const refused = refusedSpelling(policyOf(deps.auth), deps.imageNames, request.caller, name);
  if (refused === null || (await servedFromPushes(name))) return;
  throw new RegistryError('DENIED', `${request.caller ?? 'anonymous callers'} may not pull ${name}: it is the image ${refused}, which the access rules refuse (auth.access)`, { repository: name, image: refused, action: 'pull' });
}

/** Whether the caller may pull `name` and every other spelling of its image: what lists show of built images. */
export function mayPullEverySpelling(policy: AccessPolicy, imageNames: ImageNameOptions, caller: string | null, name: string): boolean {
  return policy.allows(caller, name, 'pull') && refusedSpelling(policy, imageNames, caller, name) === null;
}

/**
 * The names among `names` whose pull a token for `caller` must not carry although the rules on
 * the name as spelled allow it: package-list spellings of an image another spelling of which
 * the rules refuse (the handlers answer those 403, assertSpellingsReadable). A name served from
 * pushes is taken as spelled, as the handlers take it.
 */
export async function pullRefusedSpellings(policy: AccessPolicy, imageNames: ImageNameOptions, caller: string | null, names: readonly string[], servedFromPushes: (name: string) => Promise<boolean>): Promise<ReadonlySet<string>> {
  const refused = new Set<string>();
  for (const name of new Set(names)) {
    if (refusedSpelling(policy, imageNames, caller, name) !== null && !(await servedFromPushes(name))) refused.add(name);
  }
  return refused;
}

/** The first other spelling of `name`'s image the caller may not pull, or null. */
export function refusedSpelling(policy: AccessPolicy, imageNames: ImageNameOptions, caller: string | null, name: string): string | null {
  if (!policy.hasRules) return null;
  let image: ParsedImageName;
  try {
    image = parseImageName(name, 'latest', imageNames);
  } catch {
    return null; // not an image name: nothing is built under it
  }
  return imageSpellings(image).find((spelling) => spelling !== name && !policy.allows(caller, spelling, 'pull')) ?? null;
}
