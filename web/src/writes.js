// Writes & demos: edit a product and watch the next read be fresh; the stampede and stale-read demonstrations.
import { call, describeError } from './api.js';
import { $, badge, fmtInt, fmtMs, fmtPrice, h, showError } from './dom.js';
import { refreshStats } from './stats.js';

const FIELDS = ['name', 'price', 'category', 'description'];
let loaded = null;  // the product as last read from PostgreSQL

// The cache side of a write's outcome in words: "invalidated", "written through", "invalidation pending".
const cacheOutcome = (cache) => cache.replace('_', ' ');

async function loadProduct() {
  const id = $('edit-id').value.trim();
  const error = $('edit-error');
  showError(error, '');
  $('edit-result').hidden = true;
  const r = await call(`/products/${encodeURIComponent(id)}?cache=bypass`);
  if (!r.ok) {
    $('edit-form').hidden = true;
    showError(error, `Product “${id}”: ${describeError(r)}`);
    return;
  }
  loaded = r.data;
  for (const f of FIELDS) $(`edit-${f}`).value = f === 'price' ? loaded.price.toFixed(2) : loaded[f];
  $('edit-form').hidden = false;
}

// The fields the user changed, typed as the API wants them (a price that is not a number is sent as typed,
// so the server's own validation message explains it).
function changes() {
  const body = {};
  for (const f of FIELDS) {
    const raw = $(`edit-${f}`).value;
    if (f === 'price') {
      const n = Number(raw.trim());
      const value = raw.trim() !== '' && Number.isFinite(n) ? n : raw;
      if (value !== loaded.price) body.price = value;
    } else if (raw !== loaded[f]) {
      body[f] = raw;
    }
  }
  return body;
}

async function save() {
  const error = $('edit-error');
  const out = $('edit-result');
  showError(error, '');
  const body = changes();
  if (Object.keys(body).length === 0) {
    showError(error, 'Nothing changed: edit a field first.');
    return;
  }
  const w = await call(`/products/${loaded.id}`, { method: 'PATCH', body });
  if (!w.ok) {
    showError(error, `Not saved: ${describeError(w)}`);
    return;
  }
  // The read that matters: through the cache, right after the write.
  const r = await call(`/products/${loaded.id}`);
  refreshStats();
  const saved = w.data;
  const fresh = r.ok && FIELDS.every((f) => r.data[f] === saved[f]);
  out.replaceChildren(
    h('h3', {}, 'Saved'),
    h('p', {}, `PostgreSQL committed the change; cache: ${cacheOutcome(saved.cache)}.`),
    h('p', {}, 'Invalidated keys:'),
    h('ul', { class: 'keys' }, ...saved.invalidated_keys.map((k) => h('li', {}, h('code', {}, k)))),
    h('p', {}, 'Next read through the cache: ', r.ok ? badge(r.data.source) : 'failed', r.ok ? ` ${fmtMs(r.data.fetch_time_ms)}` : ''),
    h('p', { class: fresh ? 'verdict good' : 'verdict bad' },
      fresh ? `Fresh: the read shows what was saved (“${saved.name}”, ${fmtPrice(saved.price)}).`
        : `Stale: the read does not match what was saved. ${r.ok ? '' : describeError(r)}`));
  out.hidden = false;
  loaded = saved;
}

// Runs one demo: POST `url`, then show what `render` makes of the answer in #{prefix}-result, or the error in
// words in #{prefix}-error. `pending`, when given, is shown while the demo runs.
async function runDemo(prefix, url, render, pending) {
  const error = $(`${prefix}-error`);
  const out = $(`${prefix}-result`);
  showError(error, '');
  if (pending) {
    out.replaceChildren(h('p', { class: 'status' }, pending));
    out.hidden = false;
  }
  const r = await call(url, { method: 'POST' });
  refreshStats();
  if (!r.ok) {
    out.hidden = true;
    showError(error, describeError(r));
    return;
  }
  out.replaceChildren(...render(r.data));
  out.hidden = false;
}

function stampede() {
  const n = $('stampede-n').value.trim();
  const id = $('stampede-id').value.trim();
  return runDemo('stampede', `/api/demo/stampede?n=${encodeURIComponent(n)}&id=${encodeURIComponent(id)}`, (d) => [
    h('p', { class: 'headline' }, h('strong', {}, fmtInt(d.requests)), ' requests → ',
      h('strong', {}, fmtInt(d.database_queries)), d.database_queries === 1 ? ' database query' : ' database queries'),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Stampede suppressed'), h('dd', {}, fmtInt(d.stampede_suppressed))),
      h('div', {}, h('dt', {}, 'Waited on the lease'), h('dd', {}, fmtInt(d.lease_waits))),
      h('div', {}, h('dt', {}, 'Answered'), h('dd', {}, fmtInt(d.answered))),
      h('div', {}, h('dt', {}, 'Took'), h('dd', {}, fmtMs(d.duration_ms)))),
    h('p', { class: 'source' }, `Key ${d.key}. Other traffic during the burst counts too.`),
  ], `Firing ${n} concurrent reads…`);
}

function staleRead() {
  const id = $('stale-id').value.trim();
  return runDemo('stale', `/api/demo/stale-read?id=${encodeURIComponent(id)}`, (d) => [
    h('ol', { class: 'steps' },
      h('li', {}, `Read: ${fmtPrice(d.before.price)} `, badge(d.before.source)),
      h('li', {}, `Write: price → ${fmtPrice(d.write.price)}; cache ${cacheOutcome(d.write.cache)}`),
      h('li', {}, `Read again: ${fmtPrice(d.read_after_write.price)} `, badge(d.read_after_write.source))),
    h('p', { class: d.fresh ? 'verdict good' : 'verdict bad' },
      d.fresh ? 'Fresh: the read after the write shows the new price.' : 'Stale: the read after the write shows the old price.'),
  ]);
}

const onSubmit = (id, fn) => $(id).addEventListener('submit', (e) => {
  e.preventDefault();
  fn();
});

export function initWrites() {
  onSubmit('edit-load-form', loadProduct);
  onSubmit('edit-form', save);
  onSubmit('stampede-form', stampede);
  onSubmit('stale-form', staleRead);
}

export function showWrites() {
  return loadProduct();
}
