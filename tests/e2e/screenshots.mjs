// `make screenshots`: the dashboard's main views as PNGs in docs/screenshots/, taken with the same tooling as
// the browser tests (the real binary, private backends, Debian's Chromium). scripts/screenshots.sh runs it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, seed, startServer } from './support.mjs';

const out = process.argv[2] || 'docs/screenshots';
mkdirSync(out, { recursive: true });
seed();
const server = await startServer();
const browser = await launchBrowser();
const shot = async (page, name, fullPage = false) => {
  await page.waitForTimeout(1200);  // let the stats bar poll once more
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(out, `${name}.png`), fullPage });
  console.log(`screenshots: ${join(out, name)}.png`);
};
try {
  await fetch(`${server.url}/api/flush-cache`, { method: 'POST' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/#speed`);
  await page.selectOption('#compare-endpoint', 'categories');
  await page.click('#run-single');
  await page.locator('#single-result').waitFor();
  await page.click('#run-load');
  await page.waitForFunction(() => document.getElementById('load-chart').dataset.pairs === '10');
  await shot(page, 'speed');

  await page.click('#tab-lookup');
  await page.click('#lookup-form [data-id="5"]');
  await page.click('#lookup-form [data-id="5"]');
  await page.locator('#lookup-badge.hit').waitFor();
  await shot(page, 'lookup');

  await page.click('#tab-catalog');
  await page.locator('#top-results li').first().waitFor();
  await shot(page, 'catalog');

  await page.click('#tab-keys');
  await page.locator('#keys-table tbody tr').first().waitFor();
  await page.locator('#keys-table tbody tr', { hasText: 'product:5' }).getByRole('button', { name: /^View/ }).click();
  await page.locator('#key-view').waitFor();
  await shot(page, 'cache-browser', true);

  await page.click('#tab-queries');
  await page.selectOption('#explain-endpoint', 'top-products');
  await page.locator('#explain-output pre.plan').first().waitFor();
  await page.click('#explain-form button[type=submit]');
  await page.locator('#explain-output pre.sql', { hasText: 'rank()' }).first().waitFor();
  await shot(page, 'query-inspector');

  await page.click('#tab-writes');
  await page.locator('#edit-form').waitFor();
  await page.click('#stampede-form button[type=submit]');
  await page.locator('#stampede-result .headline').waitFor({ timeout: 30000 });
  await page.click('#stale-form button[type=submit]');
  await page.locator('#stale-result .verdict').waitFor();
  await shot(page, 'writes-and-demos', true);

  // The load lab: a 6-second zipf-0.99 run, watched live, with its distribution and the results table.
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.click('#tab-lab');
  await page.locator('#lab-workload option[value="zipf-0.99"]').waitFor({ state: 'attached' });
  await page.fill('#lab-duration', '6');
  await page.click('#lab-start');
  await page.locator('#lab-status', { hasText: 'Done' }).waitFor({ timeout: 30000 });
  await shot(page, 'load-lab', true);

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.url}/#lookup`);
  await phone.click('#lookup-form [data-id="1"]');
  await phone.locator('#lookup-card').waitFor();
  await shot(phone, 'phone-lookup', true);
} finally {
  await browser.close();
  await server.stop();
}
