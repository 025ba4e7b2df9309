// The stats bar: polls /api/stats every second (never two polls at once) and the Flush button with its
// confirmation dialog.
import { call, describeError } from './api.js';
import { $, fmtBytes, fmtInt, setText } from './dom.js';

const POLL_MS = 1000;
let timer = null;
let lastOk = 0;

function render(s) {
  const app = s.app;
  const total = app.hits + app.misses;
  setText($('stat-hit-rate'), total ? `${(app.hit_rate * 100).toFixed(1)}%` : 'no reads yet');
  setText($('stat-hits'), `${fmtInt(app.hits)} / ${fmtInt(app.misses)}`);
  setText($('stat-collapsed'), fmtInt(app.collapsed));
  const r = s.redis;
  if (r) {
    const max = r.maxmemory > 0 ? fmtBytes(r.maxmemory) : 'no limit';
    // On a Redis Cluster the figures are summed over its masters: say so.
    const over = r.masters > 1 ? ` · ${r.masters} masters` : '';
    setText($('stat-memory'), `${fmtBytes(r.used_memory)} / ${max}${over}`);
    $('stat-memory-bar').style.width = r.maxmemory > 0 ? `${Math.min(100, (100 * r.used_memory) / r.maxmemory)}%` : '0';
    setText($('stat-keys'), fmtInt(r.keys));
    setText($('stat-evicted'), fmtInt(r.evicted_keys));
    setText($('stat-expired'), fmtInt(r.expired_keys));
  } else {
    for (const id of ['stat-memory', 'stat-keys', 'stat-evicted', 'stat-expired']) setText($(id), 'Redis down');
  }
  // The in-process tier: its share of the hits, and how full it is; "not listening" while it is blind.
  const l1 = app.near_cache;
  $('tile-l1').hidden = !l1;
  if (l1) {
    const share = app.hits ? `${((100 * app.near_hits) / app.hits).toFixed(1)}% of hits` : 'no hits yet';
    const lag = l1.invalidation_lag.samples ? ` · invalidation lag ${l1.invalidation_lag.p50_ms.toFixed(2)} ms` : '';
    setText($('stat-l1'), l1.listening
      ? `${share} · ${fmtInt(l1.entries)} ${l1.entries === 1 ? 'entry' : 'entries'} · ${fmtBytes(l1.bytes)} / ${fmtBytes(l1.max_bytes)}${lag}`
      : 'not listening to Redis: off until it is');
  }
  $('tile-delay').hidden = !(s.db_delay_ms > 0);
  setText($('stat-delay'), `${s.db_delay_ms} ms per read`);
}

async function poll() {
  const r = await call('/api/stats');
  const status = $('stats-status');
  if (r.ok) {
    render(r.data);
    lastOk = Date.now();
    status.classList.remove('bad');
    const updated = `Live · updated ${new Date(lastOk).toLocaleTimeString('en-GB')}`;
    setText(status, r.data.cache === 'ok' ? updated
      : r.data.cache === 'degraded' ? `${updated} · Redis failed calls in the last 10 s (see redis_errors)`
        : 'Live · Redis is unavailable: reads go to PostgreSQL');
  } else {
    status.classList.add('bad');
    setText(status, `Stats unavailable: ${describeError(r)}`);
  }
}

async function loop() {
  if (!document.hidden) await poll();
  timer = setTimeout(loop, POLL_MS);
}

// Refresh now (after a flush, a write, a demo) instead of waiting for the next tick.
export async function refreshStats() {
  clearTimeout(timer);
  await poll();
  timer = setTimeout(loop, POLL_MS);
}

export function initStats() {
  const dialog = $('flush-dialog');
  $('flush').addEventListener('click', () => {
    dialog.returnValue = '';  // Escape keeps the last value: a past "confirm" must not flush again
    dialog.showModal();
  });
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'confirm') return;
    const out = $('flush-result');
    const r = await call('/api/flush-cache', { method: 'POST' });
    out.classList.toggle('bad', !r.ok);
    setText(out, r.ok ? `Flushed ${fmtInt(r.data.cleared_keys)} keys.` : `Flush failed: ${describeError(r)}`);
    await refreshStats();
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshStats(); });
  loop();
}
