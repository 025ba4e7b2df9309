// The seeds' own frontends against cachelab: a page served from another origin on loopback (as the "Cache Me If
// You Can" page is, on :3000, calling the API on :8000) looks up product 1 twice, reads the stats and clears the
// cache with fetch(), exactly as that page does, in Debian's headless Chromium. From an origin that is not
// allowed, the same calls fail as CORS failures and change nothing. Run by ctest as `e2e_cors`.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchBrowser, seed, startServer } from './support.mjs';

let api, allowedSite, otherSite, browser;
const consoleErrors = [];

// A plain static site on a free loopback port: one empty page, its own origin.
const startSite = () => new Promise((resolve) => {
  const site = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>seed frontend</title><main id="out"></main></html>');
  });
  site.listen(0, '127.0.0.1', () => resolve({ site, origin: `http://127.0.0.1:${site.address().port}` }));
});

// What the seed's page does, run inside the page: fetch, read JSON and headers, never touch the API's origin.
async function seedFrontend(base) {
  const read = async (path, init) => {
    const r = await fetch(base + path, init);
    return { status: r.status, xCache: r.headers.get('X-Cache'), cacheStatus: r.headers.get('Cache-Status'),
      body: await r.json() };
  };
  const first = await read('/products/1');
  const second = await read('/products/1');
  const stats = await read('/cache/stats');
  const missing = await read('/products/99999');
  const cleared = await read('/cache/clear', { method: 'DELETE' });  // a preflighted request
  return { first, second, stats, missing, cleared };
}

before(async () => {
  seed();
  allowedSite = await startSite();
  otherSite = await startSite();
  api = await startServer(['--cors-allow-origins', allowedSite.origin]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  allowedSite?.site.close();
  otherSite?.site.close();
  assert.equal(await api?.stop(), 0, 'the server stops cleanly');
});

const openPage = async (origin) => {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(origin + '/');
  return page;
};

test('an allowed origin reads every field the seed page uses and clears the cache', async () => {
  await fetch(api.url + '/cache/clear', { method: 'DELETE' });
  const page = await openPage(allowedSite.origin);
  const r = await page.evaluate(seedFrontend, api.url);

  assert.equal(r.first.status, 200);
  assert.equal(r.first.body.source, 'database');
  assert.equal(r.first.xCache, 'MISS', 'X-Cache is exposed to the page');
  assert.equal(r.second.body.source, 'cache');
  assert.equal(r.second.xCache, 'HIT');
  assert.match(r.second.cacheStatus, /^cachelab; hit/);
  // The fields the seed page reads, with their types: keep them stable.
  for (const a of [r.first.body, r.second.body]) {
    assert.equal(typeof a.fetch_time_ms, 'number');
    assert.equal(a.id, 1);
    for (const f of ['name', 'description', 'category']) assert.equal(typeof a[f], 'string', f);
    assert.equal(typeof a.price, 'number');
  }
  const s = r.stats.body.cache_stats;
  for (const f of ['keyspace_hits', 'keyspace_misses', 'connected_clients', 'total_commands_processed']) {
    assert.equal(typeof s[f], 'number', f);
  }
  assert.equal(typeof s.used_memory_human, 'string');
  assert.equal(r.missing.status, 404);
  assert.equal(r.missing.body.detail, 'product 99999 does not exist', 'FastAPI-style detail for errors');
  assert.equal(r.cleared.status, 200);
  assert.match(r.cleared.body.message, /^cleared \d+ keys?$/);
  assert.ok(r.cleared.body.cleared_keys >= 1, 'the preflighted DELETE went through');
  await page.close();
});

test('an origin not allowed sees CORS failures and its DELETE never runs', async () => {
  await fetch(api.url + '/products/2');  // one key that a successful DELETE would remove
  const keysBefore = (await (await fetch(api.url + '/cache/stats')).json()).cache_stats.keys;
  assert.ok(keysBefore >= 1);
  consoleErrors.length = 0;
  const page = await openPage(otherSite.origin);
  const outcome = await page.evaluate(async (base) => {
    const attempt = async (init) => {
      try { await fetch(base + '/cache/clear', init); return 'answered'; } catch (e) { return e.name; }
    };
    return { read: await attempt(), del: await attempt({ method: 'DELETE' }) };
  }, api.url);
  assert.deepEqual(outcome, { read: 'TypeError', del: 'TypeError' }, 'the browser hides the answers');
  assert.ok(consoleErrors.some((e) => /CORS policy/.test(e)), `Chromium names CORS: ${consoleErrors.join(' | ')}`);
  const keysAfter = (await (await fetch(api.url + '/cache/stats')).json()).cache_stats.keys;
  assert.equal(keysAfter, keysBefore, 'the refused preflight kept the DELETE from running');
  await page.close();
});
