// Query inspector: the SQL behind an endpoint and PostgreSQL's EXPLAIN (ANALYZE, BUFFERS) of it, as the
// server produces them from its own fixed query set.
import { call, describeError } from './api.js';
import { $, h, showError } from './dom.js';

// "Executed in 3.23 ms, planned in 0.41 ms" from the plan's last lines.
function timing(plan) {
  const ms = (label) => plan.match(new RegExp(`${label} Time: ([\\d.]+) ms`))?.[1];
  const exec = ms('Execution');
  const planning = ms('Planning');
  return exec ? `Executed in ${exec} ms${planning ? `, planned in ${planning} ms` : ''} on this run.` : '';
}

async function explain() {
  const endpoint = $('explain-endpoint').value;
  const error = $('explain-error');
  const out = $('explain-output');
  showError(error, '');
  out.replaceChildren(h('p', { class: 'status' }, `Running EXPLAIN ANALYZE for ${endpoint}…`));
  const r = await call(`/api/explain?endpoint=${encodeURIComponent(endpoint)}`);
  if (!r.ok) {
    out.replaceChildren();
    showError(error, describeError(r));
    return;
  }
  out.replaceChildren(...r.data.queries.map((q, i) => h('section', { class: 'query' },
    h('h3', {}, r.data.queries.length > 1 ? `Statement ${i + 1} of ${r.data.queries.length}` : 'Statement'),
    h('pre', { class: 'code sql', tabindex: 0 }, q.sql.trim()),
    h('p', { class: 'source' }, q.parameters.length ? `Sample parameters: ${q.parameters.map((p) => p ?? 'NULL').join(', ')}` : 'No parameters'),
    h('h4', {}, 'Plan'),
    h('p', { class: 'summary' }, timing(q.plan)),
    h('pre', { class: 'code plan', tabindex: 0 }, q.plan))));
}

export async function showQueries() {
  const select = $('explain-endpoint');
  const r = await call('/api/explain');
  if (!r.ok) {
    showError($('explain-error'), describeError(r));
    return;
  }
  select.replaceChildren(...r.data.endpoints.map((e) => h('option', { value: e }, e)));
  await explain();
}

export function initQueries() {
  $('explain-form').addEventListener('submit', (e) => {
    e.preventDefault();
    explain();
  });
}
