// Product lookup: one product by id through the cache, with a HIT/MISS badge and the entry's TTL counting
// down to the moment the next lookup will miss.
import { call, describeError } from './api.js';
import { $, badge, countdown, fmtMs, fmtPrice, fmtSeconds, setText, showError, stopCountdown } from './dom.js';
import { refreshStats } from './stats.js';

function renderTtl(el, left) {
  if (left > 0) {
    setText(el, `expires in ${fmtSeconds(left)}`);
    el.className = '';
  } else {
    setText(el, 'expired: the next lookup reads PostgreSQL');
    el.className = 'expired';
  }
}

export async function lookup(id) {
  const error = $('lookup-error');
  const card = $('lookup-card');
  showError(error, '');
  if (id === '') {
    showError(error, 'Enter a product id, for example 1.');
    return;
  }
  const r = await call(`/products/${encodeURIComponent(id)}`);
  refreshStats();
  if (!r.ok) {
    card.hidden = true;
    stopCountdown($('lookup-ttl'));
    showError(error, `Product “${id}”: ${describeError(r)}`);
    return;
  }
  const p = r.data;
  $('lookup-badge').replaceWith(Object.assign(badge(p.source), { id: 'lookup-badge' }));
  setText($('lookup-name'), p.name);
  setText($('lookup-pid'), p.id);
  setText($('lookup-category'), p.category);
  setText($('lookup-price'), fmtPrice(p.price));
  setText($('lookup-time'), fmtMs(p.fetch_time_ms));
  setText($('lookup-rtt'), fmtMs(r.rttMs));
  setText($('lookup-description'), p.description);
  const ttl = $('lookup-ttl');
  if (typeof p.ttl_remaining_s === 'number') countdown(ttl, p.ttl_remaining_s, renderTtl);
  else {
    stopCountdown(ttl);
    setText(ttl, p.cache === 'unavailable' ? 'not cached: Redis is unavailable' : 'not cached');
  }
  card.hidden = false;
}

export function initLookup() {
  const input = $('lookup-id');
  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    lookup(input.value.trim());
  });
  for (const b of document.querySelectorAll('#lookup-form [data-id]')) {
    b.addEventListener('click', () => {
      input.value = b.dataset.id;
      lookup(b.dataset.id);
    });
  }
}
