// DOM helpers. Every value that came from the server reaches the page through textContent (never innerHTML),
// so a product named `<img src=x onerror=alert(1)>` shows as those characters and runs nothing.

export const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
};

// h('td', {class: 'num'}, 'text', childNode…) — attributes are set as attributes, children as text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function setText(el, text) {
  el.textContent = text ?? '';
}

// An error paragraph: shown with the message in words, hidden when empty.
export function showError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

export const fmtMs = (ms) => (ms == null ? '–' : ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`);
export const fmtInt = (n) => (n == null ? '–' : Number(n).toLocaleString('en-US'));
export const fmtPrice = (p) => (p == null ? '–' : `$${Number(p).toFixed(2)}`);
export const fmtFactor = (x) => (x == null || !isFinite(x) ? '–' : x >= 100 ? `${Math.round(x)}×` : `${x.toFixed(1)}×`);

export function fmtBytes(n) {
  if (n == null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 || Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

export function fmtSeconds(s) {
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// A HIT/MISS badge: the word and the color say the same thing, and which tier answered.
const BADGES = { memory: 'HIT · from memory (L1)', cache: 'HIT · from Redis', database: 'MISS · from PostgreSQL' };
export function badge(source) {
  const hit = source === 'cache' || source === 'memory';
  return h('span', { class: `badge ${hit ? 'hit' : 'miss'}` }, BADGES[source] ?? BADGES.database);
}

// "HIT · from Redis · 0.14 ms on the server · 1.2 ms round trip" for a read's answer.
export function sourceLine(el, result) {
  el.replaceChildren();
  if (!result.ok) return;
  el.append(badge(result.data.source), ` ${fmtMs(result.data.fetch_time_ms)} on the server · ${fmtMs(result.rttMs)} round trip`);
}

// Countdowns: elements registered here are re-rendered once a second until their deadline passes.
const countdowns = new Set();
export function countdown(el, seconds, render) {
  const entry = { el, deadline: performance.now() + seconds * 1000, render };
  stopCountdown(el);
  countdowns.add(entry);
  tick(entry);
}
export function stopCountdown(el) {
  for (const c of countdowns) if (c.el === el) countdowns.delete(c);
}
function tick(c) {
  const left = Math.max(0, Math.ceil((c.deadline - performance.now()) / 1000));
  c.render(c.el, left);
  if (left === 0) countdowns.delete(c);
}
setInterval(() => {
  for (const c of [...countdowns]) {
    if (!c.el.isConnected) countdowns.delete(c);
    else tick(c);
  }
}, 250);
