import { el } from './common.js';

/**
 * Copy buttons beside commands. navigator.clipboard exists only in secure contexts (HTTPS, or
 * http://localhost): a registry reached over plain HTTP on a LAN address has none. There the
 * button copies through a temporary text area and document.execCommand('copy'), and in every
 * fallback case it leaves the command selected, so Ctrl+C copies it if the browser refused.
 */
export async function copyText(text, node) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return 'copied';
    } catch {
      // Refused (no permission, page not focused): fall through to the fallback.
    }
  }
  let copied = false;
  const area = el('textarea', { class: 'copy-buffer', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  selectContents(node);
  return copied ? 'copied' : 'selected';
}

function selectContents(node) {
  const selection = window.getSelection();
  if (!selection || !node) return;
  const range = document.createRange();
  range.selectNodeContents(node);
  selection.removeAllRanges();
  selection.addRange(range);
}

/** Wire a button to copy the text of `code` as it reads when clicked (the registry host is filled in later). */
export function attachCopy(button, code, status) {
  button.addEventListener('click', async () => {
    const text = code.textContent.trim();
    const outcome = await copyText(text, code);
    status.textContent = outcome === 'copied' ? 'Copied' : 'Selected: press Ctrl+C to copy';
    button.dataset.copied = outcome;
  });
}

/** A command with its copy button: <div class="command-line"><pre><code>…</code></pre><button>Copy</button><span/></div>. */
export function commandLine(label, ...content) {
  const code = el('code', {}, ...content);
  const status = el('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
  const button = el('button', { type: 'button', class: 'copy-button', 'aria-label': `Copy the ${label} command` }, 'Copy');
  attachCopy(button, code, status);
  return el('div', { class: 'command-line', 'data-command': label }, el('pre', { class: 'command' }, code), button, status);
}

/**
 * Give every `.command-line` already in the page (static HTML: a <pre> and a [data-copy]
 * button) its copy behaviour.
 */
export function enableCopyButtons(root = document) {
  for (const line of root.querySelectorAll('.command-line')) {
    const button = line.querySelector('[data-copy]');
    const code = line.querySelector('pre code') ?? line.querySelector('pre');
    let status = line.querySelector('.copy-status');
    if (!status) {
      status = el('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
      line.append(status);
    }
    if (button && code) attachCopy(button, code, status);
  }
}

/** The pull commands of one image reference (`host/name:tag`) for docker, podman, ctr and kubectl. */
export function pullCommands(registryNode, path, runName) {
  const host = () => registryNode.cloneNode(true);
  // ctr talks HTTPS unless told otherwise; a page served over plain HTTP means the registry is plain HTTP.
  const plainHttp = location.protocol === 'http:' ? ' --plain-http' : '';
  return [
    commandLine('docker', 'docker pull ', host(), path),
    commandLine('podman', 'podman pull ', host(), path),
    commandLine('ctr', `ctr images pull${plainHttp} `, host(), path),
    commandLine('kubectl', `kubectl run ${runName} --restart=Never --image=`, host(), path),
  ];
}
