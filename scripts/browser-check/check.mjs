// Headless Chromium check of the /docs Swagger UI with no network: the page must load
// everything from the service itself, list the endpoints and execute GET /api/v1/hooks.
//
// Usage: node check.mjs BASE_URL SCREENSHOT_PATH   (scripts/browser-check.sh runs it)
// CHROMIUM (default /usr/bin/chromium) is the browser; Debian's package, not a download.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [baseUrl, screenshotArg] = process.argv.slice(2);
if (!baseUrl || !screenshotArg) {
  console.error('usage: node check.mjs BASE_URL SCREENSHOT_PATH');
  process.exit(2);
}
const screenshot = resolve(screenshotArg);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 30_000;

// Operations the UI must list (method, path).
const EXPECTED = [
  ['get', '/api/v1/hooks'],
  ['post', '/api/v1/bookings'],
  ['get', '/api/v1/notifications'],
  ['get', '/api/v1/chains/{id}/components'],
];

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const blocked = [];
const pageErrors = [];
const failedRequests = [];

function fail(message) {
  throw new Error(message);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

let exitCode = 0;
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1600 } });
  // No network: anything not on this machine's loopback is aborted and recorded.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      // data: and blob: URLs have no host and never leave the browser.
    }
    if (url.startsWith('data:') || url.startsWith('blob:') || LOCAL_HOSTS.has(host)) {
      return route.continue();
    }
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('requestfailed', (req) => {
    if (!blocked.includes(req.url())) failedRequests.push(`${req.url()}: ${req.failure()?.errorText}`);
  });

  const response = await page.goto(`${baseUrl}/docs/`, { waitUntil: 'load', timeout: TIMEOUT });
  if (!response || !response.ok()) fail(`GET /docs/ answered ${response ? response.status() : 'nothing'}`);

  // The operation list renders once the UI has fetched /openapi.json.
  await page
    .locator('.opblock')
    .first()
    .waitFor({ state: 'visible', timeout: TIMEOUT })
    .catch(() => fail('the Swagger UI rendered no operation (.opblock) within 30 s'));
  const count = await page.locator('.opblock').count();
  console.log(`operations listed: ${count}`);

  const opblock = (method, path) =>
    page.locator(`.opblock.opblock-${method}`).filter({
      has: page.locator('.opblock-summary-path', { hasText: new RegExp(`^${path.replace(/[{}]/g, '\\$&')}$`) }),
    });
  for (const [method, path] of EXPECTED) {
    const n = await opblock(method, path).count();
    if (n < 1) fail(`operation ${method.toUpperCase()} ${path} is not listed`);
    console.log(`listed: ${method.toUpperCase()} ${path}`);
  }

  // Expand GET /api/v1/hooks, Try it out, Execute.
  const hooks = opblock('get', '/api/v1/hooks').first();
  await hooks.locator('.opblock-summary').first().click();
  await hooks.locator('button.try-out__btn').click({ timeout: TIMEOUT });
  await hooks.locator('button.execute').click({ timeout: TIMEOUT });
  const live = hooks.locator('.live-responses-table');
  await live.waitFor({ state: 'visible', timeout: TIMEOUT });
  const statusCell = live.locator('.response .response-col_status').first();
  await statusCell.waitFor({ state: 'visible', timeout: TIMEOUT });
  const status = (await statusCell.innerText()).trim();
  if (!/^200\b/.test(status)) fail(`GET /api/v1/hooks executed from the UI shows code ${JSON.stringify(status)}, not 200`);
  const body = await live.locator('.response .response-col_description').first().innerText();
  if (!body.includes('pricing')) fail(`the executed response body does not show "pricing": ${body.slice(0, 300)}`);
  console.log(`executed GET /api/v1/hooks: code ${status}, body shows "pricing"`);
  // The screenshot shows the executed operation from its summary down.
  await hooks.evaluate((el) => el.scrollIntoView({ block: 'start' }));

  if (blocked.length) fail(`the page needed the network; blocked requests:\n  ${blocked.join('\n  ')}`);
  if (pageErrors.length) fail(`the page raised errors:\n  ${pageErrors.join('\n  ')}`);
  if (failedRequests.length) fail(`requests failed:\n  ${failedRequests.join('\n  ')}`);
} catch (err) {
  console.error(`browser check FAILED: ${err.message}`);
  if (blocked.length) console.error(`blocked (non-local) requests:\n  ${blocked.join('\n  ')}`);
  exitCode = 1;
} finally {
  if (page) {
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: false }).catch((e) => {
      console.error(`could not take the screenshot: ${e.message}`);
      exitCode = 1;
    });
    console.log(`screenshot: ${screenshot}`);
  }
  await browser.close();
}
if (exitCode === 0) console.log('browser check passed: /docs works offline in headless Chromium');
process.exit(exitCode);
