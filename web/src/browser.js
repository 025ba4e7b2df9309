// Cache browser: our keys page by page (the server's bounded SCAN), each with type, size and a TTL that
// counts down; view one key's value as pretty JSON; delete one key.
import { call, describeError } from './api.js';
import { $, countdown, fmtBytes, fmtInt, fmtSeconds, h, setText, showError } from './dom.js';
import { refreshStats } from './stats.js';

const PAGE = 50;
let cursor = '0';
let shown = 0;

function renderTtl(el, left) {
  setText(el, left > 0 ? fmtSeconds(left) : 'expired');
  el.classList.toggle('expired', left === 0);
}

function pretty(value) {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;  // not JSON (a lease token, say): as it is
  }
}

async function view(key) {
  const error = $('keys-error');
  showError(error, '');
  const r = await call(`/api/cache/key?name=${encodeURIComponent(key)}`);
  if (!r.ok) {
    showError(error, `${key}: ${describeError(r)}`);
    return;
  }
  const d = r.data;
  setText($('key-view-name'), d.key);
  setText($('key-view-meta'), `${d.type} · ${d.ttl_ms >= 0 ? `TTL ${fmtSeconds(Math.ceil(d.ttl_ms / 1000))}` : 'no expiry'}`);
  setText($('key-view-value'), pretty(d.value));
  $('key-view').hidden = false;
  $('key-view-value').focus();
}

async function remove(key, row) {
  const error = $('keys-error');
  showError(error, '');
  const r = await call(`/api/cache/key?name=${encodeURIComponent(key)}`, { method: 'DELETE' });
  if (!r.ok) {
    showError(error, `Could not delete ${key}: ${describeError(r)}`);
    return;
  }
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  shown--;
  setText($('keys-status'), `Deleted ${key}. ${fmtInt(shown)} keys listed.`);
  if ($('key-view-name').textContent === key) $('key-view').hidden = true;
  next?.querySelector('button')?.focus();
  refreshStats();
}

function row(k) {
  const ttl = h('td', { class: 'num' });
  const tr = h('tr', {},
    h('th', { scope: 'row', class: 'key' }, k.key),
    h('td', {}, k.type),
    h('td', { class: 'num' }, fmtBytes(k.size_bytes)),
    ttl,
    h('td', { class: 'actions' },
      h('button', { type: 'button', 'aria-label': `View ${k.key}`, onclick: () => view(k.key) }, 'View'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${k.key}`, onclick: () => remove(k.key, tr) }, 'Delete')));
  if (k.ttl_ms >= 0) countdown(ttl, Math.ceil(k.ttl_ms / 1000), renderTtl);
  else setText(ttl, 'no expiry');
  return tr;
}

async function page(first) {
  const error = $('keys-error');
  showError(error, '');
  const tbody = $('keys-table').querySelector('tbody');
  if (first) {
    cursor = '0';
    shown = 0;
    tbody.replaceChildren();
  }
  const match = $('keys-match').value.trim() || '*';
  // SCAN may return few or no keys in one step while more remain: keep stepping until a page fills or it ends.
  let done = false;
  let added = 0;
  for (let steps = 0; steps < 20 && added < PAGE && !done; steps++) {
    const r = await call(`/api/cache/keys?match=${encodeURIComponent(match)}&cursor=${cursor}&count=${PAGE}`);
    if (!r.ok) {
      showError(error, describeError(r));
      return;
    }
    tbody.append(...r.data.keys.map(row));
    added += r.data.keys.length;
    cursor = r.data.cursor;
    done = r.data.done;
  }
  shown += added;
  $('keys-more').hidden = done;
  setText($('keys-status'), shown === 0 ? 'No keys match: the cache is empty for this pattern. Read something first.'
    : `${fmtInt(shown)} keys listed${done ? '' : '; more remain'}.`);
}

export function showKeys() {
  return page(true);
}

export function initKeys() {
  $('keys-form').addEventListener('submit', (e) => {
    e.preventDefault();
    page(true);
  });
  $('keys-more').addEventListener('click', () => page(false));
}
