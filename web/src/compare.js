// Speed view: one comparison (server and browser timings side by side) and the 10-round load test with its
// grouped bar chart (Chart.js).
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { call, describeError } from './api.js';
import { $, fmtFactor, fmtMs, h, median, setText, showError } from './dom.js';
import { refreshStats } from './stats.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export const DB_COLOR = '#c0392b';
export const CACHE_COLOR = '#1e8449';
// A read through the cache that missed: it went to PostgreSQL too, and is slower than the bypass (it also
// looked in Redis and stored the answer), so it must never pass for a cache bar.
export const MISS_COLOR = '#b9770e';
const ROUNDS = 10;
let chart = null;

// The compare query and the public URL the browser times for the chosen endpoint.
function target() {
  const endpoint = $('compare-endpoint').value;
  const id = $('compare-id').value.trim();
  const q = $('compare-q').value.trim();
  switch (endpoint) {
    case 'product':
      return { compare: `endpoint=product&id=${encodeURIComponent(id)}`, url: `/products/${encodeURIComponent(id)}` };
    case 'search':
      return { compare: `endpoint=search&q=${encodeURIComponent(q)}`, url: `/api/products?q=${encodeURIComponent(q)}` };
    case 'categories':
      return { compare: 'endpoint=categories', url: '/api/categories' };
    default:
      return { compare: 'endpoint=top-products', url: '/api/top-products' };
  }
}

function syncFields() {
  const endpoint = $('compare-endpoint').value;
  $('compare-id-field').hidden = endpoint !== 'product';
  $('compare-q-field').hidden = endpoint !== 'search';
}

function setBusy(busy) {
  $('run-single').disabled = busy;
  $('run-load').disabled = busy;
}

async function runSingle() {
  const t = target();
  const error = $('compare-error');
  showError(error, '');
  setBusy(true);
  try {
    const r = await call(`/api/compare?${t.compare}`);
    if (!r.ok) {
      showError(error, describeError(r));
      return;
    }
    // The browser's own round trips, alternating: the URL straight from PostgreSQL, then through the cache.
    const sep = t.url.includes('?') ? '&' : '?';
    const db = [], cached = [];
    for (let i = 0; i < 3; i++) {
      db.push(await call(`${t.url}${sep}cache=bypass`));
      cached.push(await call(t.url));
    }
    const rtt = (rs) => (rs.every((x) => x.ok) ? fmtMs(median(rs.map((x) => x.rttMs))) : 'failed');
    const d = r.data;
    setText($('cmp-db-server'), fmtMs(d.database.fetch_time_ms));
    setText($('cmp-cache-server'), fmtMs(d.cache.fetch_time_ms));
    setText($('cmp-db-rtt'), rtt(db));
    setText($('cmp-cache-rtt'), rtt(cached));
    setText($('cmp-speedup'), fmtFactor(d.speedup));
    setText($('cmp-same'), d.same_data ? 'Both paths returned the same data.' : 'The two answers differ: a write happened in between.');
    $('single-result').hidden = false;
  } finally {
    setBusy(false);
    refreshStats();
  }
}

// Each round: the bypass read, and the read through the cache drawn as what it really was, a hit or a miss.
function drawChart(rows) {
  const data = {
    labels: rows.map((_, i) => `Round ${i + 1}`),
    datasets: [
      { label: 'Database (ms)', data: rows.map((r) => r.db), backgroundColor: DB_COLOR, skipNull: true },
      { label: 'Through the cache: hit (ms)', data: rows.map((r) => (r.hit ? r.cache : null)),
        backgroundColor: CACHE_COLOR, skipNull: true },
      { label: 'Through the cache: miss, read from PostgreSQL (ms)', data: rows.map((r) => (r.hit ? null : r.cache)),
        backgroundColor: MISS_COLOR, skipNull: true },
    ],
  };
  const canvas = $('load-chart');
  $('load-chart-wrap').hidden = false;
  if (chart) {
    chart.data = data;
    chart.update();
  } else {
    chart = new Chart(canvas, {
      type: 'bar',
      data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 200 },
        scales: { y: { beginAtZero: true, title: { display: true, text: 'server time (ms)' } } },
        plugins: { legend: { position: 'top' } },
      },
    });
  }
  canvas.dataset.pairs = String(rows.length);
}

async function runLoad() {
  const t = target();
  const error = $('compare-error');
  const status = $('load-status');
  showError(error, '');
  setBusy(true);
  const rows = [];
  const tbody = $('load-table').querySelector('tbody');
  tbody.replaceChildren();
  try {
    for (let i = 0; i < ROUNDS; i++) {
      setText(status, `Round ${i + 1} of ${ROUNDS}…`);
      const r = await call(`/api/compare?${t.compare}`);
      if (!r.ok) {
        showError(error, describeError(r));
        setText(status, `Stopped after ${i} rounds.`);
        return;
      }
      const row = { db: r.data.database.fetch_time_ms, cache: r.data.cache.fetch_time_ms,
        hit: r.data.cache.source !== 'database' };
      rows.push(row);
      tbody.append(h('tr', {}, h('th', { scope: 'row' }, i + 1), h('td', { class: 'num' }, row.db.toFixed(3)),
        h('td', { class: 'num' }, row.cache.toFixed(3)), h('td', {}, row.hit ? 'hit' : 'miss'),
        h('td', { class: 'num' }, fmtFactor(row.db / Math.max(row.cache, 0.001)))));
      drawChart(rows);
    }
    setText(status, `Done: ${ROUNDS} rounds of ${t.url}.`);
    const hits = rows.filter((r) => r.hit);
    const misses = rows.length - hits.length;
    const missNote = misses === 0 ? 'every read through the cache was a hit'
      : `${misses} of ${ROUNDS} reads through the cache were misses (read from PostgreSQL, in amber)`;
    setText($('load-summary'), hits.length === 0 ? `No hits: ${missNote}.`
      : `Median speedup on hits: ${fmtFactor(median(hits.map((r) => r.db / Math.max(r.cache, 0.001))))} · ` +
        `median database ${fmtMs(median(rows.map((r) => r.db)))} · median hit ${fmtMs(median(hits.map((r) => r.cache)))}` +
        ` · ${missNote}.`);
  } finally {
    setBusy(false);
    refreshStats();
  }
}

export function initCompare() {
  $('compare-endpoint').addEventListener('change', syncFields);
  syncFields();
  $('compare-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runSingle();
  });
  $('run-load').addEventListener('click', runLoad);
}
