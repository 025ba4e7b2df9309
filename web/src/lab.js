// Load lab view: start a run or an experiment on the server, watch it live over Server-Sent Events (one point a
// second into four charts), see the finished run's latency distribution, and compare results in a table.
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement,
  Tooltip } from 'chart.js';
import { call, describeError } from './api.js';
import { $, fmtInt, h, setText, showError } from './dom.js';
import { refreshStats } from './stats.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Legend,
  Tooltip);

const GREEN = '#1e8449', RED = '#c0392b', BLUE = '#1f5fbf', AMBER = '#b9770e';
let loaded = false;
let source = null;          // the EventSource of the job we watch
const charts = {};          // id → Chart
let percentileChart = null;

function lineChart(id, datasets, yTitle, y2Title) {
  const scales = {
    x: { type: 'linear', title: { display: true, text: 'seconds' }, ticks: { precision: 0 } },
    y: { beginAtZero: true, title: { display: true, text: yTitle } },
  };
  if (y2Title) scales.y2 = { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: y2Title } };
  const chart = new Chart($(id), {
    type: 'line',
    data: { datasets: datasets.map((d) => ({ data: [], borderWidth: 2, pointRadius: 2, tension: 0.2, ...d })) },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales, plugins: { legend: { position: 'top' } } },
  });
  charts[id] = chart;
  return chart;
}

function makeCharts() {
  lineChart('lab-chart-rps', [
    { label: 'requests/s', borderColor: BLUE, backgroundColor: BLUE },
    { label: 'database queries/s', borderColor: RED, backgroundColor: RED, yAxisID: 'y2' },
  ], 'requests/s', 'queries/s');
  lineChart('lab-chart-latency', [
    { label: 'p50 ms', borderColor: GREEN, backgroundColor: GREEN },
    { label: 'p99 ms', borderColor: AMBER, backgroundColor: AMBER },
  ], 'ms');
  lineChart('lab-chart-hits', [{ label: 'hit ratio %', borderColor: GREEN, backgroundColor: GREEN }], '%');
  lineChart('lab-chart-redis', [
    { label: 'Redis memory MiB', borderColor: BLUE, backgroundColor: BLUE },
    { label: 'evicted keys (total)', borderColor: RED, backgroundColor: RED, yAxisID: 'y2' },
  ], 'MiB', 'keys');
}

function resetCharts(step) {
  setText($('lab-live-title'), step ? `Live: ${step}` : 'Live');
  for (const [id, chart] of Object.entries(charts)) {
    for (const d of chart.data.datasets) d.data = [];
    chart.update();
    $(id).dataset.points = '0';
  }
}

function addPoint(p) {
  const add = (id, ...ys) => {
    const chart = charts[id];
    ys.forEach((y, i) => { if (y !== null && y !== undefined) chart.data.datasets[i].data.push({ x: p.t, y }); });
    chart.update();
    $(id).dataset.points = String(chart.data.datasets[0].data.length);
  };
  add('lab-chart-rps', p.rps, p.db_qps);
  add('lab-chart-latency', p.p50_ms, p.p99_ms);
  add('lab-chart-hits', p.hit_ratio === null ? null : p.hit_ratio * 100);
  add('lab-chart-redis', p.used_memory === null ? null : p.used_memory / 1048576, p.evicted_keys);
}

// HdrHistogram's view: x is 1/(1 - percentile), on a log scale, so 90%, 99%, 99.9% … are evenly spaced.
const NINES = [[1, '0%'], [2, '50%'], [10, '90%'], [100, '99%'], [1000, '99.9%'], [10000, '99.99%'], [100000, '99.999%']];
function drawPercentiles(result) {
  const points = result.percentiles.filter(([p]) => p < 100).map(([p, ms]) => ({ x: 1 / (1 - p / 100), y: ms }));
  const data = { datasets: [{ label: `${result.label} (ms)`, data: points, borderColor: BLUE, backgroundColor: BLUE,
    borderWidth: 2, pointRadius: 3, stepped: false }] };
  $('lab-percentiles-wrap').hidden = false;
  if (percentileChart) {
    percentileChart.data = data;
    percentileChart.update();
  } else {
    percentileChart = new Chart($('lab-percentiles'), {
      type: 'line',
      data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: { type: 'logarithmic', min: 1, max: 100000, title: { display: true, text: 'percentile' },
            afterBuildTicks: (scale) => { scale.ticks = NINES.map(([value]) => ({ value })); },
            ticks: { callback: (v) => (NINES.find(([x]) => x === v) || [null, ''])[1] } },
          y: { type: 'logarithmic', title: { display: true, text: 'latency ms' } },
        },
        plugins: { legend: { position: 'top' } },
      },
    });
  }
  $('lab-percentiles').dataset.ready = 'true';
  setText($('lab-percentiles-note'), `${result.label}: p50 ${result.p50_ms.toFixed(3)} ms · p99 ` +
    `${result.p99_ms.toFixed(3)} ms · p99.9 ${result.p999_ms.toFixed(3)} ms · max ${result.max_ms.toFixed(3)} ms`);
}

function addResultRow(r) {
  $('lab-results-empty').hidden = true;
  const pct = (x) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  $('lab-results').querySelector('tbody').append(h('tr', {},
    h('th', { scope: 'row' }, r.label),
    h('td', { class: 'num' }, fmtInt(Math.round(r.rps))),
    h('td', { class: 'num' }, r.p50_ms.toFixed(3)),
    h('td', { class: 'num' }, r.p99_ms.toFixed(3)),
    h('td', { class: 'num' }, pct(r.hit_ratio)),
    h('td', { class: 'num' }, fmtInt(Math.round(r.db_qps))),
    h('td', { class: 'num' }, fmtInt(r.evicted_keys)),
    h('td', { class: 'num' }, fmtInt(r.errors))));
}

function setRunning(running) {
  $('lab-start').disabled = running;
  for (const b of document.querySelectorAll('#lab-experiments button')) b.disabled = running;
}

// Follows the job under way until its `done`; EventSource would reconnect after the server ends the stream,
// so the page closes it itself.
function watch() {
  if (source) source.close();
  source = new EventSource('/api/lab/events');
  const status = $('lab-status');
  source.addEventListener('state', (e) => {
    const s = JSON.parse(e.data);
    setRunning(true);
    resetCharts(s.step);
    setText(status, s.kind === 'run' ? `Running ${s.step}…` : `Experiment ${s.kind}: running ${s.step}…`);
  });
  source.addEventListener('point', (e) => addPoint(JSON.parse(e.data)));
  source.addEventListener('result', (e) => {
    const r = JSON.parse(e.data);
    addResultRow(r);
    drawPercentiles(r);
  });
  const finish = (e) => {
    const s = JSON.parse(e.data);
    source.close();
    source = null;
    setRunning(false);
    if (e.type === 'done') setText(status, s.error ? `Ended early: ${s.error}` : 'Done. The results are in the table below.');
    refreshStats();
  };
  source.addEventListener('done', finish);
  source.addEventListener('idle', finish);
  source.onerror = () => {
    if (!source) return;
    source.close();
    source = null;
    setRunning(false);
    setText(status, 'Lost the live events from the server; reload the view to see where the lab is.');
  };
}

async function start(path, body, what) {
  const error = $('lab-error');
  showError(error, '');
  const r = await call(path, { method: 'POST', body });
  if (!r.ok) {
    showError(error, r.status === 409 ? `Not started: ${describeError(r)}` : describeError(r));
    if (r.status === 409 && !source) watch();  // started elsewhere: follow it here
    return;
  }
  setText($('lab-status'), `Starting ${what}…`);
  watch();
}

function runRequest() {
  const body = { workload: $('lab-workload').value, duration_seconds: Number($('lab-duration').value) };
  if (document.querySelector('input[name=lab-mode]:checked').value === 'open') body.rate = Number($('lab-rate').value);
  else body.connections = Number($('lab-connections').value);
  return body;
}

export async function showLab() {
  if (loaded) return;
  const r = await call('/api/lab');
  if (!r.ok) {
    setText($('lab-status'), `The lab is not available: ${describeError(r)}`);
    return;
  }
  loaded = true;
  const select = $('lab-workload');
  const about = new Map();
  for (const w of r.data.workloads) {
    select.append(h('option', { value: w.name, selected: w.name === 'zipf-0.99' }, w.name));
    about.set(w.name, w.description);
  }
  const describe = () => setText($('lab-workload-about'), about.get(select.value) || '');
  select.addEventListener('change', describe);
  describe();
  const box = $('lab-experiments');
  for (const e of r.data.experiments) {
    box.append(h('div', { class: 'experiment' }, h('h3', {}, e.title), h('p', {}, e.explanation),
      h('button', { type: 'button', 'data-experiment': e.name,
        onclick: () => start(`/api/lab/experiments/${e.name}`, { seconds_per_run: Number($('lab-per-run').value) }, e.title) },
      `Run: ${e.title}`)));
  }
  for (const result of r.data.results) addResultRow(result);
  if (r.data.results.length) drawPercentiles(r.data.results[r.data.results.length - 1]);
  setText($('lab-status'), r.data.state.running ? 'A job is under way; following it…' : 'Ready.');
  if (r.data.state.running) watch();
}

export function initLab() {
  makeCharts();
  $('lab-form').addEventListener('submit', (e) => {
    e.preventDefault();
    start('/api/lab/runs', runRequest(), $('lab-workload').value);
  });
  $('lab-stop').addEventListener('click', async () => {
    const r = await call('/api/lab/stop', { method: 'POST' });
    if (!r.ok) showError($('lab-error'), describeError(r));
    else if (!r.data.stopped) setText($('lab-status'), 'Nothing was running.');
  });
}
