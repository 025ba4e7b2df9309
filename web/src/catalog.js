// Catalog views: category statistics, search and top products, each saying where its answer came from.
import { call, describeError } from './api.js';
import { $, fmtInt, fmtPrice, h, showError, sourceLine } from './dom.js';
import { refreshStats } from './stats.js';

async function load(url, prefix, render) {
  const error = $(`${prefix}-error`);
  showError(error, '');
  const r = await call(url);
  refreshStats();
  sourceLine($(`${prefix}-source`), r);
  if (!r.ok) {
    showError(error, describeError(r));
    return;
  }
  render(r.data);
}

function loadCategories() {
  return load('/api/categories', 'categories', (d) => {
    $('categories-table').querySelector('tbody').replaceChildren(...d.categories.map((c) =>
      h('tr', {}, h('th', { scope: 'row' }, c.name), h('td', { class: 'num' }, fmtInt(c.product_count)),
        h('td', { class: 'num' }, fmtInt(c.review_count)), h('td', { class: 'num' }, c.avg_rating?.toFixed(2) ?? '–'),
        h('td', { class: 'num' }, fmtPrice(c.price.avg)), h('td', { class: 'num' }, fmtPrice(c.price.min)),
        h('td', { class: 'num' }, fmtPrice(c.price.max)))));
  });
}

function search() {
  const q = $('search-q').value.trim();
  if (!q) {
    showError($('search-error'), 'Type something to search for.');
    return;
  }
  return load(`/api/products?q=${encodeURIComponent(q)}`, 'search', (d) => {
    const list = $('search-results');
    list.replaceChildren(...d.items.map((p) =>
      h('li', {}, h('span', { class: 'name' }, p.name), h('span', { class: 'meta' }, `${p.category} · ${fmtPrice(p.price)}`))));
    if (d.items.length === 0) list.append(h('li', { class: 'empty' }, `Nothing matches “${d.query}”.`));
    else if (d.total > d.items.length) list.append(h('li', { class: 'empty' }, `${d.items.length} of ${fmtInt(d.total)} shown.`));
  });
}

function loadTop() {
  return load('/api/top-products?limit=10', 'top', (d) => {
    $('top-results').replaceChildren(...d.items.map((p) =>
      h('li', {}, h('span', { class: 'rank' }, `#${p.rank}`), h('span', { class: 'name' }, p.name),
        h('span', { class: 'meta' }, `${p.category} · ★ ${p.avg_rating.toFixed(2)} from ${p.review_count} reviews`))));
  });
}

export function showCatalog() {
  loadCategories();
  search();
  loadTop();
}

export function initCatalog() {
  $('categories-refresh').addEventListener('click', loadCategories);
  $('top-refresh').addEventListener('click', loadTop);
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
}
