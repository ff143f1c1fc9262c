import { el, fetchJson, formatBytes, timeElement } from './common.js';

// The credentials typed into the sign-in form, as an Authorization header: kept in this page's
// memory only (never stored), sent to the repository API and to the registry's DELETE route.
let authorization = null;

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function headers() {
  return { accept: 'application/json', ...(authorization ? { authorization } : {}) };
}

/**
 * A pushed repository: its tags with manifest digest, media type, platforms, size and push
 * time. Delete buttons appear only when the registry says these credentials may delete (the
 * same decision its DELETE route makes); deleting is the registry's own DELETE request.
 */
export function renderPushed(view, context) {
  const { name, tag, stateLine, platformsBox, showPullCommands } = context;
  document.title = `${name} · stowage`;
  document.getElementById('crumb').textContent = name;
  document.getElementById('image-ref').textContent = name;
  document.querySelector('#image-title .muted').textContent = 'Repository';
  const shownTag = view.tags.some((entry) => entry.tag === tag) ? tag : (view.tags[0]?.tag ?? tag);
  showPullCommands(name, shownTag);
  document.getElementById('image-packages').replaceChildren(
    el('span', { class: 'muted' }, 'Pushed with docker push, podman push, skopeo or ctr: served as pushed, never built from packages.'),
  );
  showCount(stateLine, view.totalTags, view.tags.length);
  stateLine.className = 'state state-done';
  stateLine.dataset.kind = 'pushed';

  const refresh = async (message) => {
    try {
      const next = await fetchJson(`/api/v1/repositories/${name}`, { headers: headers() });
      renderPushed(next, context);
      if (message) setNotice(message, false);
    } catch (error) {
      if (error.status === 404) {
        stateLine.textContent = 'Every tag of this repository has been deleted.';
        platformsBox.replaceChildren();
      } else setNotice(error.message, true);
    }
  };
  const allowed = view.deletes?.allowed === true;
  platformsBox.replaceChildren(
    el(
      'section',
      { 'aria-labelledby': 'tags-heading', class: 'platform' },
      el('h2', { id: 'tags-heading' }, 'Tags'),
      el('p', { id: 'repository-notice', role: 'status', 'aria-live': 'polite' }),
      deleteAccess(view, refresh),
      tagsTable(view, allowed, refresh),
      moreTags(view, allowed, refresh, stateLine),
    ),
  );
}

function showCount(stateLine, total, shown) {
  const count = `${total} tag${total === 1 ? '' : 's'}`;
  stateLine.textContent = `Pushed repository · ${count}${total > shown ? ` (the first ${shown} shown)` : ''}`;
}

/** The next page of tags (the API's `nextTag`), appended to the table on each click. */
function moreTags(view, allowed, refresh, stateLine) {
  let next = view.nextTag ?? null;
  const button = el('button', { type: 'button', id: 'more-tags' }, 'More tags');
  button.hidden = next === null;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const page = await fetchJson(`/api/v1/repositories/${view.name}?last=${encodeURIComponent(next)}`, { headers: headers() });
      const body = document.querySelector('#tags-table tbody');
      body.append(...page.tags.map((entry) => tagRow(view.name, entry, allowed, refresh)));
      showCount(stateLine, page.totalTags, body.rows.length);
      next = page.nextTag ?? null;
      button.hidden = next === null;
    } catch (error) {
      setNotice(error.message, true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function setNotice(text, failed) {
  const notice = document.getElementById('repository-notice');
  if (!notice) return;
  notice.textContent = text;
  notice.className = failed ? 'state state-failed' : 'state';
  notice.setAttribute('role', failed ? 'alert' : 'status');
}

/** Who may delete: signed in, a form to sign in, or why nobody can here. */
function deleteAccess(view, refresh) {
  const deletes = view.deletes ?? { allowed: false };
  if (deletes.allowed) {
    const signOut = el('button', { type: 'button' }, 'Sign out');
    signOut.addEventListener('click', () => {
      authorization = null;
      void refresh('Signed out.');
    });
    return el('p', { class: 'muted', id: 'delete-access' }, 'You may delete tags of this repository. ', authorization ? signOut : null);
  }
  if (!deletes.signIn) return el('p', { class: 'muted', id: 'delete-access' }, `Deleting: ${deletes.reason ?? 'not allowed'}.`);
  const user = el('input', { id: 'sign-in-user', name: 'username', autocomplete: 'username', required: true });
  const password = el('input', { id: 'sign-in-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = el(
    'form',
    { class: 'sign-in', id: 'sign-in-form', 'aria-label': 'Sign in to delete' },
    el('label', { for: 'sign-in-user' }, 'User', user),
    el('label', { for: 'sign-in-password' }, 'Password', password),
    el('button', { type: 'submit' }, 'Sign in to delete'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    authorization = basic(user.value, password.value);
    const next = await fetchJson(`/api/v1/repositories/${view.name}`, { headers: headers() }).catch((error) => ({ failed: error }));
    if (next.failed || !next.deletes?.allowed) {
      const reason = next.failed?.message ?? next.deletes?.reason ?? 'not allowed';
      authorization = null;
      setNotice(`Not signed in: ${reason}.`, true);
      return;
    }
    await refresh(`Signed in as ${user.value}.`);
  });
  return el('div', { id: 'delete-access' }, el('p', { class: 'muted' }, 'Users allowed to delete can sign in to do it here.'), form);
}

function platformsCell(entry) {
  if (entry.kind !== 'index') return entry.kind === 'artifact' ? el('span', { class: 'muted' }, entry.artifactType ?? 'artifact') : '–';
  return el('ul', { class: 'plain' }, ...entry.platforms.map((platform) => el('li', { 'data-platform': platform.platform, 'data-size': platform.size }, `${platform.platform} `, el('span', { class: 'muted' }, formatBytes(platform.size)))));
}

function tagsTable(view, allowed, refresh) {
  if (view.tags.length === 0) return el('p', { class: 'muted' }, 'No tags: the repository holds only untagged manifests or blobs.');
  const rows = view.tags.map((entry) => tagRow(view.name, entry, allowed, refresh));
  const heads = ['Tag', 'Manifest digest', 'Media type', 'Platforms', 'Size (config + layers)', 'Pushed', ...(allowed ? ['Actions'] : [])];
  return el(
    'table',
    { class: 'tags-table', id: 'tags-table', 'aria-labelledby': 'tags-heading' },
    el('thead', {}, el('tr', {}, ...heads.map((head) => el('th', { scope: 'col' }, head)))),
    el('tbody', {}, ...rows),
  );
}

function tagRow(name, entry, allowed, refresh) {
  const actions = allowed ? el('td', {}, deleteButton(name, entry.tag, refresh)) : null;
  return el(
    'tr',
    { 'data-tag': entry.tag },
    el('th', { scope: 'row' }, el('code', {}, entry.tag)),
    el('td', {}, el('code', { 'data-digest': true }, entry.digest)),
    el('td', {}, el('code', {}, entry.mediaType)),
    el('td', {}, platformsCell(entry)),
    el('td', { 'data-size': entry.size, title: `${entry.size.toLocaleString()} bytes` }, formatBytes(entry.size), entry.layers !== null ? el('span', { class: 'muted' }, ` (${entry.layers} layer${entry.layers === 1 ? '' : 's'})`) : null),
    el('td', {}, entry.pushedAt ? timeElement(entry.pushedAt) : el('span', { class: 'muted' }, 'not recorded')),
    actions,
  );
}

/** Delete asks once more before it sends the registry's DELETE of the tag. */
function deleteButton(name, tag, refresh) {
  const button = el('button', { type: 'button', class: 'danger', 'aria-label': `Delete tag ${tag}` }, 'Delete');
  button.addEventListener('click', async () => {
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = `Really delete ${tag}?`;
      return;
    }
    button.disabled = true;
    const response = await fetch(`/v2/${name}/manifests/${encodeURIComponent(tag)}`, { method: 'DELETE', headers: headers() }).catch(() => null);
    if (response && response.status === 202) {
      await refresh(`Deleted tag ${tag}.`);
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    setNotice(`Deleting ${tag} failed: ${body?.errors?.[0]?.message ?? (response ? `${response.status} ${response.statusText}` : 'the registry did not answer')}`, true);
    button.disabled = false;
  });
  return button;
}
