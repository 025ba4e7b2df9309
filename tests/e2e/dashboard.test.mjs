// The dashboard end to end: the real binary (ASan build under ctest) against the private PostgreSQL and Redis,
// driven in Debian's headless Chromium by playwright-core. One server and one browser for the whole file;
// each test leaves the page on the view it used. Run by ctest (tests/CMakeLists.txt) as `e2e_dashboard`.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { launchBrowser, seed, startServer } from './support.mjs';

// Product entries live 3 s (no jitter) so the TTL countdown reaches zero quickly; the rest stay 60 s.
const SERVER_ARGS = ['--cache-ttl-seconds', '3', '--ttl-jitter', '0', '--products-ttl-seconds', '60',
  '--categories-ttl-seconds', '60', '--search-ttl-seconds', '60', '--top-products-ttl-seconds', '60'];
const XSS = '<img src=x onerror=alert(1)>';

let server, browser, page;
const problems = [];  // console errors, page errors and dialogs: none is allowed

const api = async (path, init = {}) => {
  const r = await fetch(server.url + path, { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });
  return { status: r.status, body: await r.json() };
};
const text = (selector) => page.locator(selector).innerText();
const tab = async (name) => {
  await page.click(`#tab-${name}`);
  await page.locator(`#tab-${name}[aria-selected=true]`).waitFor();
};

before(async () => {
  seed();
  server = await startServer(SERVER_ARGS);
  await api('/api/flush-cache', { method: 'POST' });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // Chromium logs every 4xx fetch as "Failed to load resource"; the bad-id tests cause those on purpose.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); await d.dismiss(); });
  await page.goto(server.url + '/');
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'the server stops cleanly');
});

test('the page loads and the stats bar is live (≤ 2 s stale)', async () => {
  await page.locator('#stats-status', { hasText: 'Live' }).waitFor();
  assert.equal(await page.title(), 'cachelab: cache-aside, measured');
  const before = await text('#stat-hits');
  await api('/products/2');  // a read from outside the page
  await api('/products/2');
  await page.waitForFunction((b) => document.getElementById('stat-hits').textContent !== b, before, { timeout: 2500 });
  assert.match(await text('#stat-memory'), /\d.* \/ 64 MiB/);
});

test('a single comparison shows a database time, a cache time and the speedup', async () => {
  await tab('speed');
  await page.click('#run-single');
  await page.locator('#single-result').waitFor();
  assert.match(await text('#cmp-db-server'), /^\d+\.\d+ ms$/);
  assert.match(await text('#cmp-cache-server'), /^\d+\.\d+ ms$/);
  assert.match(await text('#cmp-db-rtt'), /^\d+\.\d+ ms$/);
  assert.match(await text('#cmp-cache-rtt'), /^\d+\.\d+ ms$/);
  assert.match(await text('#cmp-speedup'), /^\d+(\.\d)?×$/);
});

test('the load test draws 10 rounds, each cache bar as the hit or miss it was', async () => {
  await page.selectOption('#compare-endpoint', 'categories');
  await api('/api/flush-cache', { method: 'POST' });  // the first round's read through the cache must miss
  await page.click('#run-load');
  await page.waitForFunction(() => document.getElementById('load-chart').dataset.pairs === '10', null, { timeout: 30000 });
  await page.locator('#load-summary', { hasText: 'Median speedup on hits' }).waitFor();
  assert.equal(await page.locator('#load-table tbody tr').count(), 10);
  for (const cell of await page.locator('#load-table tbody td.num').allTextContents()) assert.match(cell, /\d/);
  const paths = await page.locator('#load-table tbody td:nth-child(4)').allTextContents();
  assert.deepEqual(paths, ['miss', ...Array(9).fill('hit')]);
  assert.match(await text('#load-summary'), /1 of 10 reads through the cache were misses/);
  const legend = await page.locator('#load-chart').evaluate((c) => c.width > 0 && c.height > 0);
  assert.ok(legend, 'the chart has a size');
});

test('lookup of product 5 is a MISS, then a HIT, and its TTL counts down to a MISS', async () => {
  await tab('lookup');
  await page.click('#lookup-form [data-id="5"]');
  await page.locator('#lookup-badge.miss').waitFor();
  assert.equal(await text('#lookup-badge'), 'MISS · from PostgreSQL');
  await page.click('#lookup-form [data-id="5"]');
  await page.locator('#lookup-badge.hit').waitFor();
  assert.equal(await text('#lookup-badge'), 'HIT · from Redis');
  assert.equal(await text('#lookup-pid'), '5');
  const first = await text('#lookup-ttl');
  assert.match(first, /^expires in [1-3] s$/);
  await page.waitForFunction((f) => document.getElementById('lookup-ttl').textContent !== f, first, { timeout: 2500 });
  await page.locator('#lookup-ttl', { hasText: 'expired' }).waitFor({ timeout: 5000 });
  await page.click('#lookup-form button[type=submit]');
  await page.locator('#lookup-badge.miss').waitFor();
});

test('bad ids get inline errors in words', async () => {
  for (const [id, words] of [['abc', /integer/i], ['0', /1/], ['99999', /not found|does not exist/i]]) {
    await page.fill('#lookup-id', id);
    await page.press('#lookup-id', 'Enter');
    await page.locator('#lookup-error', { hasText: `“${id}”` }).waitFor();
    assert.match(await text('#lookup-error'), words);
    assert.equal(await page.locator('#lookup-card').isHidden(), true);
  }
});

test('a product named like markup shows as text and runs nothing', async () => {
  const created = await api('/products', { method: 'POST',
    body: JSON.stringify({ name: XSS, description: '<script>alert(2)</script>', price: 1.5, category: 'Books' }) });
  assert.equal(created.status, 201);
  const id = created.body.id;
  try {
    await page.fill('#lookup-id', String(id));
    await page.press('#lookup-id', 'Enter');
    await page.locator('#lookup-name', { hasText: XSS }).waitFor();
    assert.equal(await text('#lookup-name'), XSS);
    assert.equal(await page.locator('#lookup-card img, #lookup-card script').count(), 0);
    await tab('keys');
    await page.fill('#keys-match', `product:${id}`);
    await page.press('#keys-match', 'Enter');
    await page.getByRole('button', { name: `View cachelab:{v1}:product:${id}` }).click();
    await page.locator('#key-view-value', { hasText: XSS }).waitFor();
    assert.equal(await page.locator('#key-view img').count(), 0);
  } finally {
    await api(`/products/${id}`, { method: 'DELETE' });
  }
});

test('the cache browser lists keys and deletes one', async () => {
  await api('/api/categories');
  await tab('keys');
  await page.fill('#keys-match', '*');
  await page.press('#keys-match', 'Enter');
  // Entries of older generations (retired by the edits above) stay listed until their TTL ends: take the first.
  const row = page.locator('#keys-table tbody tr', { hasText: ':categories' }).first();
  await row.waitFor();
  assert.match(await row.locator('td').nth(0).innerText(), /string/);
  assert.match(await row.locator('td').nth(2).innerText(), /min|s$/);
  const key = await row.locator('th').innerText();
  await row.getByRole('button', { name: `Delete ${key}` }).click();
  await page.locator('#keys-status', { hasText: `Deleted ${key}` }).waitFor();
  assert.equal(await page.getByRole('rowheader', { name: key, exact: true }).count(), 0);
  assert.equal((await api(`/api/cache/key?name=${encodeURIComponent(key)}`)).status, 404);
});

test('the query inspector shows the SQL and its plan', async () => {
  await tab('queries');
  await page.locator('#explain-output pre.plan').first().waitFor({ timeout: 15000 });
  await page.selectOption('#explain-endpoint', 'search');
  await page.click('#explain-form button[type=submit]');
  await page.locator('#explain-output pre.sql', { hasText: 'ILIKE' }).first().waitFor();
  assert.match(await page.locator('#explain-output pre.plan').first().innerText(), /Execution Time: [\d.]+ ms/);
  assert.match(await page.locator('#explain-output .summary').first().innerText(), /^Executed in [\d.]+ ms, planned in [\d.]+ ms/);
});

test('an edit is fresh on the next read, and the demos show requests vs database queries', async () => {
  await tab('writes');
  await page.locator('#edit-form').waitFor();
  const name = `Edited in the browser ${Date.now()}`;
  await page.fill('#edit-name', name);
  await page.click('#edit-form button[type=submit]');
  await page.locator('#edit-result .verdict.good').waitFor();
  assert.match(await text('#edit-result'), /cachelab:{v1}:product:1/);
  assert.match(await text('#edit-result'), new RegExp(name));
  await page.fill('#stampede-n', '200');
  await page.click('#stampede-form button[type=submit]');
  await page.locator('#stampede-result .headline').waitFor({ timeout: 30000 });
  assert.match(await text('#stampede-result .headline'), /^200 requests → 1 database query$/);
  // The 199 that waited show as collapsed, not as misses that would sink the hit rate.
  await page.waitForFunction(() => Number(document.getElementById('stat-collapsed').textContent.replace(/\D/g, '')) >= 199,
    null, { timeout: 3000 });
  await page.click('#stale-form button[type=submit]');
  await page.locator('#stale-result .verdict.good', { hasText: 'Fresh' }).waitFor();
});

test('flush asks first, then empties the key count', async () => {
  await api('/products/3');
  await page.waitForFunction(() => document.getElementById('stat-keys').textContent !== '0');
  await page.click('#flush');
  await page.locator('#flush-dialog[open]').waitFor();
  await page.keyboard.press('Escape');  // cancel: nothing is flushed
  assert.notEqual((await api('/api/stats')).body.redis.keys, 0);
  await page.click('#flush');
  await page.click('#flush-confirm');
  await page.locator('#flush-result', { hasText: /Flushed \d+ keys/ }).waitFor();
  await page.locator('#stat-keys', { hasText: /^0$/ }).waitFor({ timeout: 2500 });
  // Cancelling after a confirmed flush must not flush again.
  await api('/products/3');
  await page.locator('#stat-keys', { hasText: /^[1-9]/ }).waitFor({ timeout: 2500 });
  await page.click('#flush');
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  assert.notEqual((await api('/api/stats')).body.redis.keys, 0);
});

test('keyboard: arrow keys move between tabs and the focused tab opens its view', async () => {
  await page.focus('#tab-speed');
  await page.click('#tab-speed');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-lookup');
  assert.equal(await page.locator('#panel-lookup').isVisible(), true);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-lab');
  await page.keyboard.press('Tab');  // out of the tab list, into the view
  assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute('role')), 'tab');
});

test('the load lab follows a run live, refuses a second start in words, stops, and plots the distribution', async () => {
  await tab('lab');
  await page.locator('#lab-workload option[value="hot-product"]').waitFor({ state: 'attached' });
  const started = await api('/api/lab/runs', { method: 'POST',
    body: JSON.stringify({ workload: 'hot-product', duration_seconds: 60, connections: 4 }) });
  assert.equal(started.status, 202);
  await page.click('#lab-start');  // this page did not start it: the server refuses, in words
  await page.locator('#lab-error', { hasText: 'Not started' }).waitFor();
  assert.match(await text('#lab-error'), /a run is already under way.*\(409 lab_busy\)/);
  // The page follows the run under way: a point a second.
  await page.waitForFunction(() => Number(document.getElementById('lab-chart-rps').dataset.points) >= 3, null,
    { timeout: 20000 });
  assert.match(await text('#lab-live-title'), /Live: hot-product/);
  await page.click('#lab-stop');
  await page.locator('#lab-percentiles[data-ready=true]').waitFor({ timeout: 15000 });
  await page.locator('#lab-status', { hasText: 'Done' }).waitFor();
  assert.match(await text('#lab-percentiles-note'), /^hot-product: p50 \d+\.\d{3} ms · p99 .* max \d+\.\d{3} ms$/);
  const row = await page.locator('#lab-results tbody tr').last().allInnerTexts();
  assert.match(row[0], /^hot-product\s+[\d,]+\s+\d+\.\d{3}/);
  assert.equal((await api('/api/lab')).body.state.running, false);
});

test('at 390 px wide nothing overflows sideways', async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  try {
    for (const view of ['speed', 'lookup', 'catalog', 'keys', 'queries', 'writes', 'lab']) {
      await phone.goto(`${server.url}/#${view}`);
      await phone.locator(`#tab-${view}[aria-selected=true]`).waitFor();
      await phone.waitForTimeout(300);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${view} overflows by ${overflow}px`);
    }
  } finally {
    await phone.close();
  }
});

test('no accessibility violations in any view (axe-core: WCAG 2.1 A/AA and best practices)', async () => {
  // axe is injected as a script, which the page's Content-Security-Policy forbids: this context bypasses it.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  try {
    const a11y = await context.newPage();
    await a11y.goto(`${server.url}/`);
    await a11y.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    for (const view of ['speed', 'lookup', 'catalog', 'keys', 'queries', 'writes', 'lab']) {
      await a11y.click(`#tab-${view}`);
      if (view === 'speed') await a11y.click('#run-single');
      if (view === 'lookup') await a11y.click('#lookup-form [data-id="1"]');
      await a11y.waitForTimeout(500);
      const found = await a11y.evaluate(() =>
        window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }));
      const described = found.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(described, [], `${view} view`);
    }
  } finally {
    await context.close();
  }
});

test('the API page (/docs) lists every route and "try it out" of GET /products/{id} answers 200, offline under the strict CSP', async () => {
  const docs = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const seen = [];
  docs.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.push(`console: ${m.text()}`); });
  docs.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  docs.on('request', (r) => { if (!r.url().startsWith(server.url)) seen.push(`request elsewhere: ${r.url()}`); });
  try {
    // Reached from the dashboard's footer link.
    await page.goto(server.url + '/');
    assert.equal(await page.getByRole('link', { name: 'API docs' }).getAttribute('href'), '/docs');
    const response = await docs.goto(server.url + '/docs');
    assert.match(response.headers()['content-security-policy'], /script-src 'self';/);
    const routes = (await api('/api')).body.endpoints.length;
    await docs.locator('.opblock').nth(routes - 1).waitFor({ timeout: 20000 });
    assert.equal(await docs.locator('.opblock').count(), routes, 'one operation per route of GET /api');
    const op = docs.locator('#operations-default-get_products_id');
    await op.locator('.opblock-summary').click();
    await op.getByRole('button', { name: 'Try it out' }).click();
    await op.locator('input[placeholder="id"]').fill('1');
    await op.getByRole('button', { name: 'Execute' }).click();
    const status = op.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 10000 });
    assert.equal((await status.innerText()).trim(), '200');
    assert.match(await op.locator('.live-responses-table tbody .response-col_description').first().innerText(), /"id": 1/);
    assert.deepEqual(seen, []);
  } finally {
    await docs.close();
  }
});

test('no console errors, page errors or dialogs happened', () => {
  assert.deepEqual(problems, []);
});
