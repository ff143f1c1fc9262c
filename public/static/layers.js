import { el, formatBytes, explorerUrl, splitReference } from './common.js';

// The layer picture of one built image's platform: its layers top first, sizes, sharing.

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

export function renderPlatform(platform, reference) {
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
