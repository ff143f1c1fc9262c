// Shared helpers for the stowage pages. Every value from the server goes into the page through
// textContent or attributes, never innerHTML, so package names and logs cannot inject markup.

/** Create an element: el('a', { href: '/x', class: 'y' }, 'text', child, ...). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** GET or POST JSON; throws an Error with the registry's error message on a non-2xx answer. */
export async function fetchJson(url, options = {}) {
  const response = await fetch(url, { headers: { accept: 'application/json' }, ...options });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.errors?.[0]?.message ?? `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 83500 → "1 min 24 s". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A short, readable time ("14:03:27") with the full date in a <time> element. */
export function timeElement(iso) {
  const date = new Date(iso);
  return el('time', { datetime: iso, title: date.toLocaleString() }, date.toLocaleTimeString());
}

/** The explorer URL of an image reference `name:tag` or a name. */
export function explorerUrl(name, tag) {
  return `/images/${name}${tag && tag !== 'latest' ? `:${tag}` : ''}`;
}

/** Split `name:tag` (the tag is after the last ':' that follows the last '/'). */
export function splitReference(reference) {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { name: reference, tag: 'latest' };
}

/** Registry info, fetched once per page. */
let info;
export function registryInfo() {
  info ??= fetchJson('/api/v1/info');
  return info;
}

/** Replace every [data-registry] placeholder with the registry's host. */
export async function fillRegistryHost() {
  const { registry } = await registryInfo();
  for (const node of document.querySelectorAll('[data-registry]')) node.textContent = registry;
  return registry;
}

export function describePhase(status) {
  switch (status.phase) {
    case 'queued':
      return 'Waiting for a build slot';
    case 'resolving':
      return 'Resolving the closure (evaluating and realising the packages with Nix)';
    case 'layers': {
      const current = Math.min(status.layersDone + 1, status.layersTotal);
      const bytes = status.bytesWritten ? `, ${formatBytes(status.bytesWritten)} written` : '';
      return `Writing layer ${current} of ${status.layersTotal}${bytes}`;
    }
    case 'manifest':
      return 'Writing the image config and manifest';
    case 'done':
      return 'Done';
    case 'failed':
      return `Failed: ${status.error ?? 'unknown error'}`;
    default:
      return status.phase;
  }
}
