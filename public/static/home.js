import { el, fetchJson, formatBytes, formatDuration, timeElement, explorerUrl, splitReference, registryInfo, fillRegistryHost } from './common.js';
import { enableCopyButtons } from './copy.js';

const searchForm = document.getElementById('search-form');
const searchInput = document.getElementById('package-search');
const searchStatus = document.getElementById('search-status');
const resultsTable = document.getElementById('search-results');

async function showPackageSet() {
  const facts = document.getElementById('package-set-facts');
  try {
    const info = await registryInfo();
    const fill = (name, value) => {
      facts.querySelector(`[data-fact="${name}"]`).replaceChildren(value);
    };
    fill('source', info.source);
    fill('revisions', el('span', {}, ...info.revisions.flatMap((revision, i) => [i > 0 ? ', ' : '', el('code', {}, revision)])));
    fill('packageSet', info.packageSet ? el('code', {}, info.packageSet) : 'unknown');
    fill('systems', info.systems.join(', '));
    fill('shellPackages', info.shellPackages.join(', '));
    for (const node of document.querySelectorAll('[data-revision]')) node.textContent = info.revisions[0] ?? 'latest';
  } catch (error) {
    facts.replaceChildren(el('p', { class: 'muted' }, `Could not load the package set: ${error.message}`));
  } finally {
    facts.removeAttribute('aria-busy');
  }
}

let searchGeneration = 0;

async function search(query) {
  const generation = ++searchGeneration;
  searchStatus.textContent = 'Searching…';
  let result;
  try {
    result = await fetchJson(`/api/v1/packages?q=${encodeURIComponent(query)}&limit=25`);
  } catch (error) {
    searchStatus.textContent = `Search failed: ${error.message}`;
    return;
  }
  if (generation !== searchGeneration) return;
  if (!result.supported) {
    searchStatus.textContent = 'This package source cannot list its packages.';
    resultsTable.hidden = true;
    return;
  }
  const shown = result.packages.length;
  searchStatus.textContent =
    result.total === 0 ? `No package matches “${query}”.` : `${result.total} package${result.total === 1 ? '' : 's'}${query ? ` match “${query}”` : ''}${shown < result.total ? `, showing ${shown}` : ''}.`;
  const body = resultsTable.tBodies[0];
  body.replaceChildren(
    ...result.packages.map((pkg) =>
      el(
        'tr',
        { 'data-package': pkg.name },
        el('th', { scope: 'row' }, el('code', {}, pkg.name)),
        el('td', {}, pkg.version ?? ''),
        el('td', {}, pkg.description ?? ''),
        el('td', { class: 'num', 'data-size': pkg.name }, '…'),
        el('td', {}, el('a', { href: explorerUrl(`shell/${pkg.name}`), 'aria-label': `Explore image shell/${pkg.name}` }, `shell/${pkg.name}`)),
      ),
    ),
  );
  resultsTable.hidden = shown === 0;
  if (shown > 0) await showSizes(result.packages.map((pkg) => pkg.name), generation);
}

async function showSizes(names, generation) {
  let sizes = {};
  try {
    sizes = (await fetchJson(`/api/v1/package-sizes?names=${encodeURIComponent(names.join(','))}`)).sizes;
  } catch {
    // sizes are a nicety: leave them unknown
  }
  if (generation !== searchGeneration) return;
  for (const name of names) {
    const cell = resultsTable.querySelector(`[data-size="${CSS.escape(name)}"]`);
    if (!cell) continue;
    const size = sizes[name];
    cell.textContent = size === null || size === undefined ? 'not built yet' : formatBytes(size);
    if (size === null || size === undefined) cell.classList.add('muted');
  }
}

searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const query = searchInput.value.trim();
  const url = new URL(location.href);
  if (query) url.searchParams.set('q', query);
  else url.searchParams.delete('q');
  history.replaceState(null, '', url);
  void search(query);
});

document.getElementById('open-image-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = document.getElementById('open-image').value.trim().replace(/^\/+|\/+$/g, '');
  if (!value) return;
  const { name, tag } = splitReference(value);
  location.assign(explorerUrl(name, tag));
});

function stateCell(status) {
  const running = status.phase !== 'done' && status.phase !== 'failed';
  return el('td', { class: running ? 'state-running' : `state-${status.phase}` }, running ? `${status.phase}…` : status.phase);
}

async function showBuilds() {
  let builds = [];
  let images = [];
  try {
    [{ builds }, { images }] = await Promise.all([fetchJson('/api/v1/builds'), fetchJson('/api/v1/images')]);
  } catch {
    return;
  }
  const table = document.getElementById('builds-table');
  table.tBodies[0].replaceChildren(
    ...builds.slice(0, 20).map((status) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, el('a', { href: explorerUrl(status.image, status.revision) }, `${status.image}:${status.revision}`)),
        el('td', {}, status.system),
        stateCell(status),
        el('td', { class: 'num' }, status.layersTotal ? `${status.layersDone}/${status.layersTotal}` : '–'),
        el('td', { class: 'num' }, formatDuration(status.durationMs)),
        el('td', {}, timeElement(status.startedAt)),
      ),
    ),
  );
  table.hidden = builds.length === 0;
  document.getElementById('builds-empty').hidden = builds.length > 0;

  const failures = builds.filter((status) => status.phase === 'failed').slice(0, 10);
  document.getElementById('failures').replaceChildren(
    ...failures.map((status) =>
      el(
        'li',
        {},
        el('p', {}, el('a', { href: explorerUrl(status.image, status.revision) }, `${status.image}:${status.revision}`), ' · ', timeElement(status.finishedAt ?? status.startedAt)),
        el('p', {}, status.error ?? 'failed'),
        status.log ? el('details', {}, el('summary', {}, 'Nix log (last lines)'), el('pre', {}, status.log)) : null,
      ),
    ),
  );
  document.getElementById('failures-empty').hidden = failures.length > 0;

  document.getElementById('built-images').replaceChildren(
    ...images.map((reference) => {
      const { name, tag } = splitReference(reference);
      return el('li', {}, el('a', { href: explorerUrl(name, tag) }, reference));
    }),
  );
  document.getElementById('images-empty').hidden = images.length > 0;
  // Once more pages were asked for, the periodic refresh leaves the list as the visitor made it.
  if (pushedPages > 1) return;
  const { repositories, next } = await fetchJson('/api/v1/repositories').catch(() => ({ repositories: [], next: null }));
  document.getElementById('pushed-repositories').replaceChildren(...repositories.map(repositoryItem));
  document.getElementById('pushed-empty').hidden = repositories.length > 0;
  showMoreRepositories(next);
}

// Pushed repositories come 200 a page (the API's `next` asks the following one).
let pushedPages = 1;
let pushedNext = null;
const moreRepositories = document.getElementById('more-repositories');

function repositoryItem(name) {
  return el('li', {}, el('a', { href: `/images/${name}`, 'aria-label': `Pushed repository ${name}` }, name));
}

function showMoreRepositories(next) {
  pushedNext = next ?? null;
  moreRepositories.hidden = pushedNext === null;
}

moreRepositories.addEventListener('click', async () => {
  if (pushedNext === null) return;
  moreRepositories.disabled = true;
  try {
    const { repositories, next } = await fetchJson(`/api/v1/repositories?last=${encodeURIComponent(pushedNext)}`);
    pushedPages += 1;
    document.getElementById('pushed-repositories').append(...repositories.map(repositoryItem));
    showMoreRepositories(next);
  } catch {
    // Left as it is; the button stays to try again.
  } finally {
    moreRepositories.disabled = false;
  }
});

// ctr speaks HTTPS unless told otherwise: the flag is only for a registry served over plain HTTP.
if (location.protocol === 'https:') for (const flag of document.querySelectorAll('[data-plain-http]')) flag.remove();
enableCopyButtons();
void fillRegistryHost().catch(() => undefined);
void showPackageSet();
const initialQuery = new URLSearchParams(location.search).get('q') ?? '';
searchInput.value = initialQuery;
void search(initialQuery);
void showBuilds();
setInterval(() => {
  if (document.visibilityState === 'visible') void showBuilds();
}, 10_000);
