import { el, fetchJson, formatBytes, timeElement, explorerUrl, splitReference, fillRegistryHost, describePhase } from './common.js';
import { BuildLogView } from './build-log.js';

// The image comes from the path: /images/<name>[:<tag>] (or /images/?name=... from the form without JS).
const fromPath = decodeURIComponent(location.pathname.replace(/^\/images\/?/, '')).replace(/\/+$/, '');
const fromQuery = new URLSearchParams(location.search).get('name') ?? '';
if (!fromPath && fromQuery) location.replace(explorerUrl(splitReference(fromQuery).name, splitReference(fromQuery).tag));
const { name, tag } = splitReference(fromPath || 'shell');
const reference = `${name}:${tag}`;
const query = `tag=${encodeURIComponent(tag)}`;

const stateLine = document.getElementById('image-state');
const buildButton = document.getElementById('build-button');
const progressSection = document.getElementById('progress-section');
const progressBar = document.getElementById('build-progress');
const phaseLine = document.getElementById('build-phase');
const platformsBox = document.getElementById('platforms');
const logView = new BuildLogView({
  list: document.getElementById('build-log'),
  elapsed: document.getElementById('build-elapsed-time'),
  counts: document.getElementById('build-counts'),
});

document.title = `${reference} · stowage`;
document.getElementById('crumb').textContent = reference;
document.getElementById('image-ref').textContent = reference;
const pullCommand = document.getElementById('pull-command');
pullCommand.replaceChildren('docker pull ', el('span', { 'data-registry': true }, 'REGISTRY'), `/${reference}`);
void fillRegistryHost().catch(() => undefined);

let events = null;
const statuses = new Map();

async function load() {
  let view;
  try {
    view = await fetchJson(`/api/v1/images/${name}?${query}`);
  } catch (error) {
    stateLine.textContent = `This image cannot be shown: ${error.message}`;
    stateLine.className = 'state state-failed';
    buildButton.hidden = true;
    return;
  }
  document.getElementById('image-packages').replaceChildren(
    el('span', { class: 'muted' }, 'Packages:'),
    ...view.packages.map((pkg) => el('code', { class: 'chip' }, pkg)),
  );
  if (view.built) {
    const builtAt = view.platforms.find((platform) => platform.builtAt)?.builtAt;
    stateLine.replaceChildren('Built', ...(builtAt ? [' at ', timeElement(builtAt)] : []), ` · ${view.platforms.length} platform${view.platforms.length === 1 ? '' : 's'}`);
    stateLine.className = 'state state-done';
    buildButton.hidden = true;
  } else {
    stateLine.textContent = 'Not built yet. Building evaluates the packages with Nix and writes their layers; the first build of new packages can take minutes.';
    stateLine.className = 'state';
    buildButton.hidden = false;
    buildButton.disabled = events !== null;
  }
  platformsBox.replaceChildren(...view.platforms.map(renderPlatform));
  const running = view.builds.some((status) => status.phase !== 'done' && status.phase !== 'failed');
  if (running && events === null) follow(`/api/v1/build-events/${name}?${query}`);
}

buildButton.addEventListener('click', async () => {
  buildButton.disabled = true;
  try {
    const started = await fetchJson(`/api/v1/builds/${name}?${query}`, { method: 'POST' });
    if (started.status === 'built') await load();
    else follow(started.events);
  } catch (error) {
    showFailure({ error: error.message, log: null });
    buildButton.disabled = false;
  }
});

function follow(url) {
  events?.close();
  statuses.clear();
  lastPhase = 'queued';
  progressSection.hidden = false;
  document.getElementById('build-error').hidden = true;
  setProgress({ phase: 'queued', layersDone: 0, layersTotal: 0 });
  phaseLine.textContent = 'Starting the build…';
  logView.start();
  events = new EventSource(url);
  events.addEventListener('status', (event) => {
    const status = JSON.parse(event.data);
    statuses.set(status.system, status);
    logView.status(status);
    showStatuses();
  });
  events.addEventListener('log', (event) => {
    logView.add(JSON.parse(event.data));
    showStatuses();
  });
  events.addEventListener('done', () => {
    stop();
    setProgress({ phase: 'done' });
    phaseLine.textContent = 'Done: the image is built.';
    void load();
  });
  events.addEventListener('failed', (event) => {
    stop();
    showFailure(JSON.parse(event.data));
    buildButton.disabled = false;
  });
  events.addEventListener('idle', () => {
    stop();
    phaseLine.textContent = 'Nothing is building this image.';
    buildButton.disabled = false;
  });
}

function stop() {
  events?.close();
  events = null;
  const durations = [...statuses.values()].map((status) => status.durationMs).filter(Number.isFinite);
  logView.stop(durations.length > 0 ? Math.max(...durations) : undefined);
}

function showStatuses() {
  const list = [...statuses.values()];
  if (list.length === 0) return;
  // While Nix works, the latest log line says what it is doing.
  const latest = logView.latest();
  const describe = (status) => (status.phase === 'resolving' && latest ? `Resolving the closure: ${latest}` : describePhase(status));
  const lines = list.map((status) => (list.length > 1 ? `${status.system}: ${describe(status)}` : describe(status)));
  phaseLine.textContent = lines.join(' · ');
  // The slowest system decides the bar.
  const slowest = list.reduce((a, b) => (fraction(a) <= fraction(b) ? a : b));
  setProgress(slowest);
}

function fraction(status) {
  switch (status.phase) {
    case 'queued':
      return 0;
    case 'resolving':
      return 0.05;
    case 'layers':
      return 0.1 + 0.85 * (status.layersTotal ? status.layersDone / status.layersTotal : 0);
    case 'manifest':
      return 0.97;
    default:
      return 1;
  }
}

const STEPS = ['queued', 'resolving', 'layers', 'manifest', 'done'];
let lastPhase = 'queued';

function setProgress(status) {
  const failed = status.phase === 'failed';
  // A failure keeps the bar where the build stopped and marks the step that failed.
  if (!failed) {
    lastPhase = status.phase;
    progressBar.value = Math.round(fraction(status) * 100);
  }
  progressBar.classList.toggle('failed', failed);
  progressBar.setAttribute('aria-valuetext', describePhase({ layersDone: 0, layersTotal: 0, ...status }));
  const current = STEPS.indexOf(lastPhase);
  for (const item of document.querySelectorAll('#build-steps li')) {
    const index = STEPS.indexOf(item.dataset.step);
    item.classList.toggle('complete', index < current || lastPhase === 'done');
    item.classList.toggle('active', index === current && !failed && lastPhase !== 'done');
    item.classList.toggle('failed', index === current && failed);
    if (item.dataset.step === 'layers' && status.layersTotal > 0) item.textContent = `Writing layers (${status.layersDone} of ${status.layersTotal})`;
  }
}

function showFailure({ error, log }) {
  progressSection.hidden = false;
  phaseLine.textContent = 'The build failed.';
  document.getElementById('build-error').hidden = false;
  document.getElementById('build-error-message').textContent = error;
  const logBox = document.getElementById('build-error-log-box');
  logBox.hidden = !log;
  document.getElementById('build-error-log').textContent = log ?? '';
  if (log) logBox.open = true;
}

function storeName(path) {
  return path.replace(/^\/nix\/store\/[a-z0-9]{32}-/, '');
}

function layerLabel(layer) {
  if (layer.kind === 'top') return 'stowage: /bin and /usr/bin links, /etc, /tmp';
  if (layer.storePaths.length > 0) {
    const names = layer.storePaths.map(storeName);
    return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  }
  return layer.comment || 'layer';
}

function renderPlatform(platform) {
  const layers = platform.layers;
  const largest = Math.max(1, ...layers.map((layer) => layer.size));
  const storePaths = layers.reduce((total, layer) => total + layer.storePaths.length, 0);
  const sharedCount = layers.filter((layer) => layer.sharedWith.length > 0).length;
  const heading = `Layers${platform.system ? ` for ${platform.system}` : ''}`;
  const headingId = `layers-${platform.system}`;
  // Top layer first: the picture reads like the image's filesystem stack, top to bottom.
  const items = [...layers].reverse().map((layer) => {
    const shared = layer.sharedWith.length > 0;
    const kindClass = layer.kind === 'top' ? 'top' : layer.kind === 'unknown' ? 'unknown' : shared ? 'shared' : 'store';
    const bar = el('span', { class: `layer-bar ${kindClass}` }, el('span', { class: 'layer-size' }, formatBytes(layer.size)));
    // Widths on a square-root scale (of 70% of the row, the rest is for the label), so small
    // layers stay visible next to big ones.
    bar.style.width = `${Math.max(7, Math.round(70 * Math.sqrt(layer.size / largest)))}%`;
    const row = el('span', { class: 'layer-row' }, bar, el('span', { class: 'layer-label' }, layerLabel(layer)));
    const sharing = shared ? `shared with ${layer.sharedWith.length} other image${layer.sharedWith.length === 1 ? '' : 's'}` : 'not shared';
    return el(
      'li',
      { 'data-layer': layer.digest },
      el(
        'details',
        {},
        el('summary', {}, el('span', { class: 'layer-index' }, `Layer ${layer.index}`), row, el('span', { class: 'visually-hidden' }, `, ${sharing}`)),
        el(
          'div',
          { class: 'layer-detail' },
          el(
            'dl',
            {},
            el('dt', {}, 'Digest'),
            el('dd', {}, el('code', {}, layer.digest)),
            el('dt', {}, 'Compressed'),
            el('dd', {}, `${formatBytes(layer.size)} (${layer.size.toLocaleString()} bytes)`),
            el('dt', {}, 'Store paths (NAR)'),
            el('dd', {}, layer.narSize === null ? '–' : formatBytes(layer.narSize)),
            el('dt', {}, 'Media type'),
            el('dd', {}, el('code', {}, layer.mediaType)),
            el('dt', {}, 'Diff ID'),
            el('dd', {}, el('code', {}, layer.diffId ?? '–')),
          ),
          layer.kind === 'top'
            ? el('p', {}, 'Links in /bin and /usr/bin to the packages’ programs, /etc/passwd and /etc/group, /tmp and /root.')
            : layer.storePaths.length > 0
              ? [el('p', {}, `${layer.storePaths.length} store path${layer.storePaths.length === 1 ? '' : 's'}:`), el('ul', {}, ...layer.storePaths.map((path) => el('li', {}, el('code', {}, path))))]
              : el('p', {}, el('code', {}, layer.comment)),
          shared
            ? [el('p', {}, 'Also used by:'), el('ul', { class: 'chips' }, ...layer.sharedWith.map((other) => el('li', {}, el('a', { href: explorerUrl(splitReference(other).name, splitReference(other).tag) }, other))))]
            : el('p', { class: 'muted' }, 'No other built image uses this layer yet.'),
        ),
      ),
    );
  });
  return el(
    'section',
    { 'aria-labelledby': headingId, class: 'platform' },
    el('h2', { id: headingId }, heading),
    el(
      'p',
      { class: 'layer-summary' },
      `${layers.length} layers, ${formatBytes(platform.totalSize)} compressed`,
      platform.closurePaths !== null ? `, ${platform.closurePaths} store paths in the closure` : storePaths ? `, ${storePaths} store paths` : '',
      `; ${sharedCount} layer${sharedCount === 1 ? '' : 's'} shared with other images.`,
    ),
    el(
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      el('li', {}, el('span', { class: 'swatch shared' }), 'shared with other images'),
      el('li', {}, el('span', { class: 'swatch store' }), 'used by this image only'),
      el('li', {}, el('span', { class: 'swatch top' }), 'top layer (links, /etc, /tmp)'),
    ),
    el('ol', { class: 'layer-stack', 'aria-label': `Layers of ${reference}, top layer first`, reversed: true }, ...items),
    el(
      'details',
      { class: 'json-box' },
      el('summary', {}, 'OCI manifest ', el('code', {}, platform.manifest.digest), ` (${platform.manifest.size} bytes)`),
      el('pre', {}, JSON.stringify(platform.manifest.body, null, 2)),
    ),
    platform.dockerManifest ? el('p', { class: 'help' }, 'Docker schema 2 manifest for older clients: ', el('code', {}, platform.dockerManifest.digest)) : null,
    el(
      'details',
      { class: 'json-box' },
      el('summary', {}, 'Image config ', el('code', {}, platform.config.digest), ` (${platform.config.size} bytes)`),
      el('pre', {}, JSON.stringify(platform.config.body, null, 2)),
    ),
  );
}

void load();
