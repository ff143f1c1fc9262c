import { el, fetchJson, timeElement, explorerUrl, splitReference, fillRegistryHost, describePhase } from './common.js';
import { BuildLogView } from './build-log.js';
import { renderPlatform } from './layers.js';
import { pullCommands } from './copy.js';
import { renderPushed } from './repository.js';

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
showPullCommands(name, tag);

/** docker, podman, ctr and kubectl lines for `name:tag`, each with its copy button. */
function showPullCommands(imageName, imageTag) {
  const runName = (imageName.split('/').pop() ?? 'image').replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'image';
  const registry = el('span', { 'data-registry': true }, 'REGISTRY');
  document.getElementById('pull-commands').replaceChildren(...pullCommands(registry, `/${imageName}:${imageTag}`, runName));
  void fillRegistryHost().catch(() => undefined);
}

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
  if (view.kind === 'pushed') {
    // Pushed content is served as pushed, never built: its tags instead of a Build button.
    buildButton.hidden = true;
    renderPushed(view, { name, tag, stateLine, platformsBox, showPullCommands });
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
  platformsBox.replaceChildren(...view.platforms.map((platform) => renderPlatform(platform, reference)));
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

void load();
