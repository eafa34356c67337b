// Browser tests of the operator console (/console, issue 19) in headless Chromium, against the
// real binary started with the demo data (scripts/console-check.sh starts it and runs this).
//
// Usage: node console.mjs BASE_URL OUT_DIR
//   CHROMIUM        the browser (default /usr/bin/chromium; Debian's package, not a download)
//   COMPONENTS_DIR  the built components (default target/components)
//   CONSOLE_ONLY    a regular expression: only the scenarios whose name matches run
//
// Each scenario is independent where it can be: it signs in afresh in its own browser context
// and makes through the API whatever it needs that another scenario would have made. Every
// page of every scenario is watched: an uncaught error, a console error, a CSP violation, a
// 5xx answer, a request that failed or left the machine fails the scenario. Screenshots of
// every page at 1280 and 360 px go to OUT_DIR/<page>-<width>.png. Exit status 1 on any failure.
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const [baseArg, outArg] = process.argv.slice(2);
if (!baseArg || !outArg) {
  console.error('usage: node console.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
const BASE = baseArg.replace(/\/$/, '');
const OUT = resolve(outArg);
const COMPONENTS = resolve(process.env.COMPONENTS_DIR || 'target/components');
const ONLY = process.env.CONSOLE_ONLY ? new RegExp(process.env.CONSOLE_ONLY, 'i') : null;
mkdirSync(OUT, { recursive: true });

/** The longest any wait on the page may take (the brief: bounded, at most 10 s). */
const WAIT = 10_000;
/** The longest a whole scenario may take. */
const SCENARIO_TIMEOUT = 90_000;

const OWNER = { email: 'owner@demo.cineflow.local', password: 'Demo-Owner-2026' };
const ADMIN = { email: 'admin@demo.cineflow.local', password: 'Demo-Admin-2026' };
const CUSTOMER = { email: 'customer@demo.cineflow.local', password: 'Demo-Customer-2026' };
const DEMO_CHAIN_NAME = 'Cineflow Demo Cinemas';
const DEMO_THEATRE_NAME = 'Orion Multiplex';
const TZ = 'Asia/Kolkata';

// --- the API from node (bearer tokens, or a raw cookie to play another site) ----------------

class HttpError extends Error {}

async function call(method, path, { token, body, headers = {}, raw } = {}) {
  const h = { accept: 'application/json, application/problem+json', ...headers };
  let payload;
  if (body instanceof Uint8Array) {
    payload = body;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  if (token) h.authorization = `Bearer ${token}`;
  const url = path.startsWith('http') ? path : `${BASE}${path.startsWith('/api/') || path.startsWith('/readyz') ? '' : '/api/v1'}${path}`;
  const res = await fetch(url, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return raw ? { status: res.status, json, headers: res.headers } : { status: res.status, json };
}

/** Like `call`, but the status must be one of `want` (default: any 2xx). */
async function must(method, path, opts = {}, want) {
  const r = await call(method, path, opts);
  const ok = want ? [].concat(want).includes(r.status) : r.status >= 200 && r.status < 300;
  if (!ok) {
    throw new HttpError(
      `${method} ${path} answered ${r.status}${want ? ` (wanted ${want})` : ''}: ${JSON.stringify(r.json).slice(0, 400)}`,
    );
  }
  return r.json;
}

const tokens = new Map();
async function tokenOf(user) {
  if (!tokens.has(user.email)) {
    const r = await must('POST', '/auth/signin', { body: { email: user.email, password: user.password } });
    tokens.set(user.email, r.access_token);
  }
  return tokens.get(user.email);
}

function idem() {
  return { 'Idempotency-Key': `console-check-${randomUUID()}` };
}

// --- the demo data, found through the API ---------------------------------------------------

let demoCache = null;
async function demo() {
  if (demoCache) return demoCache;
  const chains = await must('GET', '/chains?limit=200');
  const chain = chains.items.find((c) => c.name === DEMO_CHAIN_NAME);
  if (!chain) throw new Error(`the demo chain "${DEMO_CHAIN_NAME}" is missing (is CINEFLOW_DEMO=true?)`);
  const theatres = await must('GET', `/theatres?chain_id=${chain.id}&limit=200`);
  const theatre = theatres.items.find((t) => t.name === DEMO_THEATRE_NAME) || theatres.items[0];
  const screens = await must('GET', `/theatres/${theatre.id}/screens?limit=200`);
  const from = new Date(Date.now() + 60 * 60 * 1000).toISOString();
  const to = new Date(Date.now() + 8 * 24 * 60 * 60 * 1000).toISOString();
  const shows = [];
  let cursor = null;
  do {
    const page = await must(
      'GET',
      `/shows?theatre_id=${theatre.id}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    shows.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  const scheduled = shows.filter((s) => s.status !== 'cancelled');
  if (scheduled.length < 4) throw new Error(`the demo chain has only ${scheduled.length} shows in the coming week`);
  demoCache = { chain, theatre, theatres: theatres.items, screens: screens.items, shows: scheduled };
  return demoCache;
}

/** A demo show starting at least `hours` from now, the `n`-th such (so scenarios differ). */
async function demoShow(n, hours = 6) {
  const { shows } = await demo();
  const later = shows
    .filter((s) => new Date(s.starts_at).getTime() > Date.now() + hours * 3600_000)
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  if (!later.length) throw new Error(`no demo show starts more than ${hours} h from now`);
  return later[n % later.length];
}

/** `count` available seats of `cls` on a show, from the API's seat map. */
async function freeSeats(showId, count, cls = 'standard', skip = 0) {
  const map = await must('GET', `/shows/${showId}/seats`);
  const seats = map.items.filter((s) => s.state === 'available' && s.class === cls).slice(skip, skip + count);
  if (seats.length < count) throw new Error(`show ${showId} has fewer than ${count} available ${cls} seats`);
  return seats;
}

async function hold(token, showId, seatIds, extra = {}) {
  return call('POST', '/bookings', { token, body: { show_id: showId, seat_ids: seatIds, ...extra }, headers: idem() });
}

let confirmedCache = null;
/** A paid booking of the demo customer (made once). */
async function confirmedBooking() {
  if (!confirmedCache) confirmedCache = await makeConfirmedBooking();
  return confirmedCache;
}

async function makeConfirmedBooking() {
  const token = await tokenOf(CUSTOMER);
  const show = await demoShow(5);
  const seats = await freeSeats(show.id, 2, 'premium');
  const r = await hold(token, show.id, seats.map((s) => s.id));
  if (r.status !== 201) throw new Error(`the customer's hold answered ${r.status}: ${JSON.stringify(r.json)}`);
  await must('POST', `/bookings/${r.json.id}/payments`, {
    token,
    headers: idem(),
    body: { amount_minor: r.json.total_minor, currency: r.json.currency, card_token: 'tok_visa' },
  });
  return r.json;
}

const PROMO_WASM = join(COMPONENTS, 'examples', 'promo-pricing.wasm');
function promoBytes() {
  if (!existsSync(PROMO_WASM)) throw new Error(`${PROMO_WASM} is missing: run scripts/build-components.sh`);
  const bytes = readFileSync(PROMO_WASM);
  return { bytes, sha: createHash('sha256').update(bytes).digest('hex') };
}

/** The promo-pricing example uploaded to the demo chain (through the API), its sha256. */
async function promoUploaded() {
  const { bytes, sha } = promoBytes();
  const { chain } = await demo();
  await must('POST', `/chains/${chain.id}/components?hook=pricing`, {
    token: await tokenOf(OWNER),
    body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/wasm' },
  });
  return sha;
}

// --- the browser ------------------------------------------------------------------------------

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Reported by the page itself: Chromium also logs a "Refused to ..." console error, but the
// event names the directive and the blocked resource.
const CSP_PROBE = () => {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
  });
};

/**
 * One scenario's browser: contexts it opens (closed at its end) and every problem any of its
 * pages reported. `expect4xx` lists status codes a scenario provokes on purpose; 4xx answers
 * are otherwise not problems (a page may probe, e.g. a shadow that does not exist is 404).
 */
class Session {
  constructor(name) {
    this.name = name;
    this.contexts = [];
    this.problems = [];
  }

  async context({ width = 1280, height = 900 } = {}) {
    const context = await browser.newContext({
      viewport: { width, height },
      timezoneId: TZ,
      locale: 'en-IN',
      baseURL: BASE,
    });
    context.setDefaultTimeout(WAIT);
    await context.addInitScript(CSP_PROBE);
    await context.route('**/*', (route) => {
      const url = route.request().url();
      let host = '';
      try {
        host = new URL(url).hostname;
      } catch {
        /* data: and blob: have no host */
      }
      if (url.startsWith('data:') || url.startsWith('blob:') || LOCAL_HOSTS.has(host)) return route.continue();
      this.problems.push(`a request left the machine (blocked): ${url}`);
      return route.abort('blockedbyclient');
    });
    this.contexts.push(context);
    return context;
  }

  watch(page) {
    const where = () => {
      try {
        return new URL(page.url()).hash || page.url();
      } catch {
        return page.url();
      }
    };
    // Requests still open, but for the seat stream (which stays open): `settle` waits for none.
    const inflight = new Set();
    page.__inflight = inflight;
    page.on('request', (req) => {
      if (req.resourceType() !== 'eventsource') inflight.add(req);
    });
    page.on('requestfinished', (req) => inflight.delete(req));
    page.on('requestfailed', (req) => inflight.delete(req));
    page.on('pageerror', (err) => this.problems.push(`uncaught error on ${where()}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // The network failures a test provokes (401 before sign-in, 403, 404) are logged by
      // Chromium as "Failed to load resource"; 5xx answers are caught below instead.
      if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
      this.problems.push(`console error on ${where()}: ${text}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 500) this.problems.push(`${res.request().method()} ${res.url()} answered ${res.status()} (on ${where()})`);
    });
    page.on('requestfailed', (req) => {
      const error = req.failure()?.errorText || '';
      // A page left while its seat stream or a fetch is open aborts them: not a failure.
      if (/ERR_ABORTED|blockedbyclient|ERR_BLOCKED_BY_CLIENT/.test(error)) return;
      this.problems.push(`request failed on ${where()}: ${req.method()} ${req.url()}: ${error}`);
    });
    return page;
  }

  /** A new page, watched; signed in to the console as `user` (through the API) unless null. */
  async page(user = OWNER, opts = {}) {
    const context = await this.context(opts);
    if (user) await consoleSession(context, user);
    return this.watch(await context.newPage());
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
  }
}

/** A console session in `context`'s cookie jar, made the way the sign-in page makes it. */
async function consoleSession(context, user) {
  const res = await context.request.post(`${BASE}/api/v1/auth/session`, {
    data: { email: user.email, password: user.password },
  });
  if (res.status() !== 200) throw new Error(`POST /auth/session for ${user.email} answered ${res.status()}: ${await res.text()}`);
  return res.json();
}

/** Opens a console route and waits for its page root (`section[data-page=name]`). */
async function open(page, hash, name) {
  await page.goto(`${BASE}/console/${hash}`, { waitUntil: 'domcontentloaded' });
  return settle(page, name);
}

async function settle(page, name) {
  const section = page.locator(`main section[data-page="${name}"]`);
  try {
    await section.first().waitFor({ state: 'attached', timeout: WAIT });
  } catch {
    const got = await page.locator('main section[data-page]').first().getAttribute('data-page', { timeout: 500 }).catch(() => null);
    const text = (await page.locator('main').innerText({ timeout: 500 }).catch(() => '')).slice(0, 300);
    throw new Error(`${page.url()}: no section[data-page="${name}"] within ${WAIT / 1000} s (page: ${got || 'none'}; text: ${JSON.stringify(text)})`);
  }
  // Let the page's own calls finish: no request open (the seat stream aside) for 300 ms,
  // at most 5 s.
  const inflight = page.__inflight;
  if (inflight) {
    const until = Date.now() + 5000;
    let quietSince = Date.now();
    while (Date.now() < until) {
      if (inflight.size) quietSince = Date.now();
      else if (Date.now() - quietSince >= 300) break;
      await new Promise((ok) => setTimeout(ok, 50));
    }
  } else {
    await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  }
  await page.waitForFunction(() => !document.querySelector('main .loading'), null, { timeout: 3000 }).catch(() => {});
  const heading = (await section.locator('h1').first().innerText({ timeout: 1000 }).catch(() => '')).trim();
  if (/something went wrong/i.test(heading)) {
    const alert = await section.locator('[role="alert"]').first().innerText({ timeout: 500 }).catch(() => '');
    throw new Error(`${page.url()}: the page failed to render: ${alert}`);
  }
  return section.first();
}

/** Fails if the page shows an error: an alert (problemText in role=alert) or an error toast. */
async function noAlert(page, where) {
  const alerts = page.locator('main [role="alert"]:visible, #toasts .toast-error');
  const n = await alerts.count();
  for (let i = 0; i < n; i++) {
    const text = (await alerts.nth(i).innerText()).trim();
    if (text) throw new Error(`${where}: the page shows an error: ${text}`);
  }
}

async function shot(page, name) {
  const width = page.viewportSize().width;
  const path = join(OUT, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Horizontal page scroll at the current width, with the elements that stick out. */
async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const width = doc.clientWidth;
    if (doc.scrollWidth <= width + 1) return null;
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (/(auto|scroll|hidden|clip)/.test(s.overflowX) && p.clientWidth < p.scrollWidth + 1) return true;
      }
      return false;
    };
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && !scrolls(el)) {
        const id = el.getAttribute('id') ? `#${el.getAttribute('id')}` : '';
        const cls = el.getAttribute('class') ? `.${el.getAttribute('class').trim().split(/\s+/).join('.')}` : '';
        wide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)} px)`);
      }
      if (wide.length >= 5) break;
    }
    return { scrollWidth: doc.scrollWidth, width, wide };
  });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// --- the scenarios ----------------------------------------------------------------------------

const scenarios = [];
function scenario(name, fn) {
  scenarios.push({ name, fn });
}

scenario('sign in as the demo owner through the form', async (s) => {
  const context = await s.context();
  const page = s.watch(await context.newPage());
  await page.goto(`${BASE}/console/`, { waitUntil: 'domcontentloaded' });
  const form = await settle(page, 'signin');
  await shot(page, 'signin');
  await form.getByLabel(/email/i).fill(OWNER.email);
  await form.getByLabel(/password/i).fill(OWNER.password);
  await form.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/#\/day$/, { timeout: WAIT }).catch(() => {
    throw new Error(`after signing in the console is at ${page.url()}, not #/day`);
  });
  await settle(page, 'day');
  const who = await page.locator('.user-name').innerText();
  assert(/owner/i.test(who), `the header names ${JSON.stringify(who)}, not the owner`);

  const cookie = (await context.cookies()).find((c) => c.name === 'cineflow_session');
  assert(cookie, 'no cineflow_session cookie after signing in');
  assert(cookie.httpOnly, 'the session cookie is not HttpOnly');
  assert(cookie.sameSite === 'Strict', `the session cookie is SameSite=${cookie.sameSite}, not Strict`);
  const leaks = await page.evaluate((value) => {
    const found = [];
    if (document.cookie.includes(value)) found.push('document.cookie');
    for (const store of [localStorage, sessionStorage]) {
      for (let i = 0; i < store.length; i++) {
        const v = store.getItem(store.key(i)) || '';
        if (v.includes(value) || /eyJ[A-Za-z0-9_-]{10,}\./.test(v)) found.push(`${store === localStorage ? 'localStorage' : 'sessionStorage'}[${store.key(i)}]`);
      }
    }
    return found;
  }, cookie.value);
  assert(leaks.length === 0, `the session token is readable by scripts: ${leaks.join(', ')}`);

  // A reload keeps the session (GET /auth/session), and signing out ends it.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await settle(page, 'day');
  await page.getByRole('button', { name: /sign out/i }).click();
  await settle(page, 'signin');
  const after = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
  assert(after === 401, `after signing out GET /auth/session answered ${after}, not 401`);
});

scenario('the day page shows the demo chain\'s shows and a sales chart', async (s) => {
  const { chain, shows } = await demo();
  const page = await s.page(OWNER);
  const section = await open(page, '#/day', 'day');
  await noAlert(page, '#/day');
  assert((await section.locator('h1').count()) === 1, 'the day page has not exactly one h1');
  // Tomorrow's demo shows (local time) are listed as rows carrying their ids.
  const tomorrow = new Date(Date.now() + 24 * 3600_000).toLocaleDateString('en-CA', { timeZone: TZ });
  const expected = shows.filter((x) => new Date(x.starts_at).toLocaleDateString('en-CA', { timeZone: TZ }) === tomorrow);
  assert(expected.length > 0, `the demo data has no show tomorrow (${tomorrow})`);
  const listed = [];
  for (const x of expected) if ((await section.locator(`[data-id="${x.id}"]`).count()) > 0) listed.push(x.id);
  assert(listed.length === expected.length, `the day page lists ${listed.length} of tomorrow's ${expected.length} shows (missing: ${expected.filter((x) => !listed.includes(x.id)).map((x) => x.id).join(', ')})`);
  assert((await section.locator('svg').count()) > 0, 'the day page has no chart (svg)');
  const picked = await page.locator('#chain-picker').inputValue();
  assert(picked === chain.id, `the chain picker shows ${picked}, not the demo chain ${chain.id}`);
});

scenario('create a show through the console\'s form', async (s) => {
  const { theatre, screens, shows } = await demo();
  const screen = screens[0];
  const usedMovies = new Set(shows.map((x) => x.movie_id));
  const movies = await must('GET', `/theatres/${theatre.id}/movies`);
  const movie = (movies.items || movies).find((m) => usedMovies.has(m.id)) || (movies.items || movies)[0];
  // 11:30 in the theatre's zone, ten days ahead or the first day after with nothing on the
  // screen: past the demo week, and not a show an earlier run made (the API must get a new one).
  const later = await must('GET', `/shows?theatre_id=${theatre.id}&from=${encodeURIComponent(new Date(Date.now() + 9 * 24 * 3600_000).toISOString())}&limit=200`);
  const busy = new Set(later.items.filter((x) => x.screen_id === screen.id).map((x) => new Date(x.starts_at).toLocaleDateString('en-CA', { timeZone: TZ })));
  let offset = 10;
  while (busy.has(new Date(Date.now() + offset * 24 * 3600_000).toLocaleDateString('en-CA', { timeZone: TZ }))) offset++;
  const day = new Date(Date.now() + offset * 24 * 3600_000).toLocaleDateString('en-CA', { timeZone: TZ });
  const local = `${day}T11:30`;
  const startsAt = new Date(`${local}:00+05:30`).toISOString();

  const page = await s.page(OWNER);
  const section = await open(page, '#/catalogue', 'catalogue');
  // The show form: found by its start-time field, wherever the page puts it.
  const form = section.locator('form').filter({ has: page.locator('input[type="datetime-local"]') }).first();
  await form.waitFor({ state: 'attached' }).catch(() => {
    throw new Error('the catalogue page has no form with a datetime-local field (the show form)');
  });
  await form.scrollIntoViewIfNeeded();
  const choose = async (label, value, text) => {
    const select = form.getByLabel(label).first();
    await select.waitFor({ state: 'visible' }).catch(() => {
      throw new Error(`the show form has no field labelled ${label}`);
    });
    const tag = await select.evaluate((el) => el.tagName.toLowerCase());
    if (tag === 'select') {
      // Options load from the API: wait for ours.
      await page.waitForFunction(([el, v]) => [...el.options].some((o) => o.value === v), [await select.elementHandle(), value], { timeout: WAIT }).catch(() => {
        throw new Error(`the field ${label} offers no option ${value} (${text})`);
      });
      await select.selectOption(value);
    } else {
      await select.fill(text);
    }
  };
  // Exact labels: "the theatre's now-showing list" is a label too.
  if ((await form.getByLabel(/^\s*theatre\s*$/i).count()) > 0) await choose(/^\s*theatre\s*$/i, theatre.id, theatre.name);
  await choose(/^\s*screen\s*$/i, screen.id, screen.name);
  await choose(/^\s*(movie|film)\s*$/i, movie.id, movie.title);
  await form.locator('input[type="datetime-local"]').first().fill(local);
  // The price fields follow the screen's seat classes: wait for them.
  await form.getByLabel(/standard/i).first().waitFor({ state: 'visible' }).catch(() => {
    throw new Error('the show form shows no price field for the screen\'s standard seats');
  });
  // Every seat class of the screen needs a price: fill the empty ones.
  const prices = { standard: 30000, premium: 45000, vip: 70000, accessible: 30000 };
  for (const [cls, minor] of Object.entries(prices)) {
    const input = form.getByLabel(new RegExp(cls, 'i'));
    if ((await input.count()) === 0) continue;
    const el = input.first();
    if (!(await el.isVisible()) || (await el.inputValue()).trim() !== '') continue;
    // The form takes major units ("300.00"), as an operator types them.
    await el.fill((minor / 100).toFixed(2));
  }
  await form.getByRole('button', { name: /create|add|schedule|save/i }).first().click();
  // The API has it…
  let created = null;
  const deadline = Date.now() + WAIT;
  while (!created && Date.now() < deadline) {
    const list = await must('GET', `/shows?theatre_id=${theatre.id}&from=${encodeURIComponent(startsAt)}&to=${encodeURIComponent(new Date(Date.parse(startsAt) + 60_000).toISOString())}`);
    created = list.items.find((x) => x.starts_at && Date.parse(x.starts_at) === Date.parse(startsAt) && x.screen_id === screen.id);
    if (!created) await page.waitForTimeout(250);
  }
  if (!created) {
    const alert = await section.locator('[role="alert"]').first().innerText({ timeout: 500 }).catch(() => '');
    throw new Error(`no show at ${startsAt} on ${screen.name} after submitting the form${alert ? `; the page says: ${alert}` : ''}`);
  }
  assert(created.movie_id === movie.id, `the new show is of movie ${created.movie_id}, not ${movie.id}`);
  // …and the page shows it without a reload.
  await section.locator(`[data-id="${created.id}"]`).first().waitFor({ state: 'attached' }).catch(() => {
    throw new Error(`the catalogue page does not list the new show ${created.id} after creating it`);
  });
  await noAlert(page, '#/catalogue after creating a show');
});

scenario('a customer\'s hold turns the open show page\'s seats held without a reload', async (s) => {
  const show = await demoShow(1);
  const seats = (await freeSeats(show.id, 2, 'standard', 4)).map((x) => x.id);
  const page = await s.page(OWNER);
  await open(page, `#/shows/${show.id}`, 'show');
  const map = page.locator('main [data-version]').first();
  await map.waitFor({ state: 'attached' }).catch(() => {
    throw new Error('the show page has no seat map (an element with data-version)');
  });
  for (const id of seats) {
    const state = await page.locator(`main [data-seat="${id}"]`).first().getAttribute('data-state').catch(() => null);
    assert(state === 'available', `seat ${id} is drawn ${state ?? 'not at all'} before the hold, not available`);
  }
  // Wait until the stream is live (its snapshot arrived), so the change is not a first load.
  await page.waitForFunction(() => document.querySelector('main .live-status')?.dataset.live === 'true' || !document.querySelector('main .live-status'), null, { timeout: WAIT }).catch(() => {});
  const marker = await page.evaluate(() => (window.__consoleCheck = Math.random()));
  const version = await map.getAttribute('data-version');

  const token = await tokenOf(CUSTOMER);
  const r = await hold(token, show.id, seats);
  assert(r.status === 201, `the customer's hold answered ${r.status}: ${JSON.stringify(r.json)}`);
  try {
    await page
      .waitForFunction((ids) => ids.every((id) => document.querySelector(`main [data-seat="${id}"]`)?.getAttribute('data-state') === 'held'), seats, { timeout: WAIT })
      .catch(async () => {
        const states = await page.evaluate((ids) => ids.map((id) => `${id}=${document.querySelector(`main [data-seat="${id}"]`)?.getAttribute('data-state')}`), seats);
        throw new Error(`within ${WAIT / 1000} s of the hold the seat map shows ${states.join(', ')}, not held`);
      });
    const same = await page.evaluate(() => window.__consoleCheck);
    assert(same === marker, 'the page was reloaded to show the hold');
    const after = await page.locator('main [data-version]').first().getAttribute('data-version');
    assert(after !== version, `the seat map's data-version stayed ${version} after the change`);
    await shot(page, 'show-held');
  } finally {
    // The seats back: the release shows too.
    await call('POST', `/bookings/${r.json.id}/cancel`, { token });
  }
  await page
    .waitForFunction((ids) => ids.every((id) => document.querySelector(`main [data-seat="${id}"]`)?.getAttribute('data-state') === 'available'), seats, { timeout: WAIT })
    .catch(() => {
      throw new Error('the seat map did not turn the released seats available again');
    });
});

// The demo data already uploads both pricing examples and binds promo-pricing, so the upload
// here is of a pricing component the demo does not have: the test guest that charges twice
// each seat's class price (tests/guests/hostile, feature `double`; it passes the fixtures).
const DOUBLE_WASM = join(COMPONENTS, 'hostile', 'double.wasm');

scenario('upload and bind a pricing component through the console; a new booking is priced by it', async (s) => {
  const { chain } = await demo();
  if (!existsSync(DOUBLE_WASM)) throw new Error(`${DOUBLE_WASM} is missing: run scripts/build-components.sh`);
  const sha = createHash('sha256').update(readFileSync(DOUBLE_WASM)).digest('hex');
  const token = await tokenOf(CUSTOMER);
  const owner = await tokenOf(OWNER);
  const show = await demoShow(2);
  const seats = await freeSeats(show.id, 2, 'standard');
  // What the platform's default pricing charges: each seat at its class price.
  const base = seats.reduce((sum, x) => sum + x.price_minor, 0);

  const bindingOf = async () => {
    const b = await must('GET', `/chains/${chain.id}/bindings`, { token: owner });
    return (b.items || b).find((x) => x.hook === 'pricing');
  };
  const before = await bindingOf();
  assert(before.bound_component_id !== sha, 'the doubling component is bound before the test binds it');
  const listedBefore = await must('GET', `/chains/${chain.id}/components`, { token: owner });
  const isNew = !(listedBefore.items || listedBefore).some((c) => c.id === sha);

  const page = await s.page(OWNER);
  try {
    const section = await open(page, '#/components', 'components');
    const file = section.locator('input[type="file"]').first();
    await file.waitFor({ state: 'attached' }).catch(() => {
      throw new Error('the components page has no file input to upload a .wasm');
    });
    const form = section.locator('form').filter({ has: page.locator('input[type="file"]') }).first();
    const hookField = form.getByLabel(/hook/i);
    if ((await hookField.count()) > 0) await hookField.first().selectOption('pricing');
    await file.setInputFiles(DOUBLE_WASM);
    const uploaded = page.waitForResponse((r) => r.request().method() === 'POST' && /\/components\?hook=pricing/.test(r.url()), { timeout: WAIT });
    await form.getByRole('button', { name: /upload/i }).first().click();
    const res = await uploaded.catch(() => {
      throw new Error(`clicking Upload sent no POST /chains/{id}/components?hook=pricing within ${WAIT / 1000} s`);
    });
    assert(res.status() === (isNew ? 201 : 200), `the upload answered ${res.status()}, not ${isNew ? 201 : 200}`);
    // The upload is listed, carrying its sha256.
    const row = section.locator(`[data-id="${sha}"]:not(button)`).first();
    await row.waitFor({ state: 'attached' }).catch(async () => {
      const alert = await section.locator('[role="alert"]').first().innerText({ timeout: 500 }).catch(() => '');
      throw new Error(`the uploaded component ${sha.slice(0, 12)}… is not listed within ${WAIT / 1000} s${alert ? `; the page says: ${alert}` : ''}`);
    });
    const listed = await must('GET', `/chains/${chain.id}/components`, { token: owner });
    assert((listed.items || listed).some((c) => c.id === sha), 'the API does not list the uploaded component');

    // Bind: a button on its row (or the notice after the upload), else on its own page.
    let bind = row.getByRole('button', { name: /^bind/i });
    if ((await bind.count()) === 0) {
      await open(page, `#/components/${sha}`, 'component');
      bind = page.locator('main section[data-page="component"]').getByRole('button', { name: /^bind/i });
    }
    await bind.first().click().catch(() => {
      throw new Error('no enabled "Bind" button for the uploaded component');
    });
    const dialog = page.locator('dialog[open]');
    if (await dialog.waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false)) {
      await dialog.locator('[data-confirm], button[value="ok"]').first().click();
    }
    const deadline = Date.now() + WAIT;
    let bound = false;
    while (!bound && Date.now() < deadline) {
      bound = (await bindingOf()).bound_component_id === sha;
      if (!bound) await page.waitForTimeout(200);
    }
    assert(bound, `the pricing hook is not bound to ${sha.slice(0, 12)}… within ${WAIT / 1000} s of clicking Bind`);
    await noAlert(page, 'after binding');

    // A new booking is priced by it: twice what the default pricing charges.
    let r = null;
    const until = Date.now() + 5000;
    do {
      if (r && r.status === 201) await call('POST', `/bookings/${r.json.id}/cancel`, { token });
      r = await hold(token, show.id, seats.map((x) => x.id));
      if (r.status !== 201 || r.json.total_minor !== 2 * base) await page.waitForTimeout(250);
    } while ((r.status !== 201 || r.json.total_minor !== 2 * base) && Date.now() < until);
    assert(r.status === 201, `after the bind, the hold answered ${r.status}: ${JSON.stringify(r.json)}`);
    try {
      assert(r.json.total_minor === 2 * base, `the new booking costs ${r.json.total_minor}, not twice the default pricing's ${base}`);
      const receipt = await must('GET', `/bookings/${r.json.id}/receipt`, { token });
      const decision = receipt.decisions.find((d) => d.hook === 'pricing');
      assert(decision && decision.component_id === sha, `the booking's receipt names pricing by ${decision?.component_id}, not ${sha}`);
    } finally {
      await call('POST', `/bookings/${r.json.id}/cancel`, { token });
    }
  } finally {
    // The demo's binding back, for the scenarios after this one.
    if (before.bound_component_id) {
      await call('PUT', `/chains/${chain.id}/bindings/pricing`, { token: owner, body: { component_id: before.bound_component_id, on_failure: before.on_failure } });
    } else {
      await call('DELETE', `/chains/${chain.id}/bindings/pricing`, { token: owner });
    }
  }
});

scenario('start a replay in the console and read its report', async (s) => {
  const { chain } = await demo();
  const sha = await promoUploaded();
  // At least one recorded pricing run to replay: a hold, released.
  const token = await tokenOf(CUSTOMER);
  const show = await demoShow(3);
  const seats = await freeSeats(show.id, 1, 'standard', 2);
  const r = await hold(token, show.id, [seats[0].id]);
  if (r.status === 201) await call('POST', `/bookings/${r.json.id}/cancel`, { token });

  const page = await s.page(OWNER);
  const section = await open(page, `#/components/${sha}`, 'component');
  const start = section.getByRole('button', { name: /replay/i }).first();
  await start.waitFor({ state: 'visible' }).catch(() => {
    throw new Error('the component page has no button to start a replay');
  });
  await start.click();
  const dialog = page.locator('dialog[open]');
  if (await dialog.waitFor({ state: 'visible', timeout: 1500 }).then(() => true, () => false)) {
    await dialog.locator('[data-confirm], button[value="ok"], button[type="submit"]').last().click();
  }
  await page.waitForURL(/#\/replays\/[0-9a-f-]{36}$/, { timeout: WAIT }).catch(() => {
    throw new Error(`starting the replay did not open its report (the console is at ${page.url()})`);
  });
  const replayId = page.url().match(/#\/replays\/([0-9a-f-]{36})$/)[1];
  const report = await settle(page, 'replay');
  // The report shows the finished replay: wait for the API to call it done, then the page.
  const owner = await tokenOf(OWNER);
  let replay = null;
  const deadline = Date.now() + WAIT;
  do {
    replay = await must('GET', `/chains/${chain.id}/replays/${replayId}`, { token: owner });
    if (replay.status !== 'done' && replay.status !== 'failed') await page.waitForTimeout(250);
  } while (replay.status !== 'done' && replay.status !== 'failed' && Date.now() < deadline);
  assert(replay.status === 'done', `the replay is ${replay.status} after ${WAIT / 1000} s${replay.error ? `: ${replay.error}` : ''}`);
  assert(replay.component_id === sha, `the replay is of ${replay.component_id}, not the component whose page started it`);
  // The page polls a running replay: its card turns done without a reload.
  await page
    .waitForFunction(
      () => {
        const root = document.querySelector('main section[data-page="replay"]');
        const card = root?.querySelector('[data-status]');
        return card ? card.dataset.status === 'done' : /\bdone\b/i.test(root?.innerText || '');
      },
      null,
      { timeout: WAIT },
    )
    .catch(async () => {
      const text = await page.locator('main section[data-page="replay"]').innerText();
      throw new Error(`the report page does not show the replay done within ${WAIT / 1000} s: ${JSON.stringify(text.slice(0, 300))}`);
    });
  const runsCell = report.locator('[data-count="runs"]');
  const shown = (await runsCell.count()) ? (await runsCell.first().innerText()).replace(/\D/g, '') : null;
  if (shown !== null) assert(shown === String(replay.runs), `the report shows ${shown} runs replayed, the API ${replay.runs}`);
  else assert((await report.innerText()).includes(String(replay.runs)), `the report does not show the ${replay.runs} runs replayed`);
  assert(replay.runs > 0, 'the replay replayed no run (the chain has recorded runs)');
  assert((await report.locator('svg').count()) > 0, 'the report has no chart (revenue before/after)');
  await noAlert(page, '#/replays/…');
});

scenario('a write without the CSRF header, or from another site, is refused with 403 csrf_failed', async (s) => {
  const { chain } = await demo();
  const page = await s.page(OWNER);
  await open(page, '#/day', 'day');
  const name = `CSRF probe ${randomUUID().slice(0, 8)}`;
  const body = { chain_id: chain.id, name, description: 'must not exist', city: 'Bengaluru', pin_code: '560001', address: 'nowhere' };

  // From the console's own page, with the cookie: no header, then a wrong one.
  const attempts = await page.evaluate(async (body) => {
    const post = async (headers) => {
      const res = await fetch('/api/v1/theatres', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      let code = null;
      try {
        code = (await res.json()).code;
      } catch {
        /* not JSON */
      }
      return { status: res.status, code, type: res.headers.get('content-type') };
    };
    return { none: await post({}), wrong: await post({ 'x-csrf-token': 'not-the-token' }) };
  }, body);
  for (const [what, a] of Object.entries({ 'no X-CSRF-Token': attempts.none, 'a wrong X-CSRF-Token': attempts.wrong })) {
    assert(a.status === 403 && a.code === 'csrf_failed', `a cookie write with ${what} answered ${a.status} ${a.code}, not 403 csrf_failed`);
    assert(/problem\+json/.test(a.type || ''), `the refusal is ${a.type}, not application/problem+json`);
  }

  // A request that carries the cookie from another site (as a browser marks it), even with
  // the right token: node plays the other site, with the page's own cookie.
  const cookie = (await page.context().cookies()).find((c) => c.name === 'cineflow_session');
  const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json());
  const cross = await call('POST', '/theatres', {
    body,
    headers: { cookie: `cineflow_session=${cookie.value}`, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'x-csrf-token': session.csrf_token },
  });
  assert(cross.status === 403 && cross.json?.code === 'csrf_failed', `a cross-site write carrying the cookie and the token answered ${cross.status} ${cross.json?.code}, not 403 csrf_failed`);

  // A real page of another origin posting to the API in this browser (the cookie jar holds
  // the session): the browser withholds the SameSite=Strict cookie, so nothing is written.
  const evil = await page.context().newPage();
  await evil.route('http://evil.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>evil</title><p>evil' }));
  const seen = [];
  evil.on('request', async (req) => {
    if (req.url().startsWith(BASE)) seen.push({ url: req.url(), cookie: (await req.allHeaders()).cookie || '' });
  });
  const statuses = [];
  evil.on('response', (res) => {
    if (res.url().startsWith(BASE)) statuses.push(res.status());
  });
  await evil.goto('http://evil.example/');
  await evil.evaluate(async ([url, body]) => {
    await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) }).catch(() => {});
  }, [`${BASE}/api/v1/theatres`, body]);
  await evil.waitForTimeout(300);
  await evil.close();
  assert(seen.length > 0, 'the other site\'s request never reached the server');
  assert(seen.every((x) => !x.cookie.includes('cineflow_session')), 'the browser sent the session cookie with another site\'s request');
  assert(statuses.every((x) => x === 401 || x === 403), `the other site's write answered ${statuses.join(', ')}, not 401/403`);

  const theatres = await must('GET', `/theatres?chain_id=${chain.id}&q=${encodeURIComponent(name)}`);
  assert(theatres.items.length === 0, `a refused write created the theatre ${name}`);

  // The same write through the console's api() (which adds the header) is accepted: the
  // refusals were about the header, not the request.
  const ok = await page.evaluate(async (body) => {
    const { api } = await import('/console/lib.js');
    const made = await api('POST', '/theatres', body);
    await api('DELETE', `/theatres/${made.id}`);
    return made.id;
  }, body);
  assert(ok, 'the write with the CSRF header failed');
});

scenario('an owner of another chain sees nothing of the demo chain', async (s) => {
  const d = await demo();
  const admin = await tokenOf(ADMIN);
  const stamp = randomUUID().slice(0, 8);
  const other = { email: `second-owner-${stamp}@example.com`, password: 'Second-Owner-2026' };
  const user = await must('POST', '/auth/signup', { body: { name: 'Second Owner', email: other.email, password: other.password, role: 'owner' } });
  await must('PATCH', `/users/${user.id}`, { token: admin, body: { status: 'approved' } });
  const otherToken = await tokenOf(other);
  const otherChain = await must('POST', '/chains', { token: otherToken, body: { name: `Second Chain ${stamp}`, currency: 'INR', timezone: TZ } });
  // A demo booking to look for.
  const booking = await confirmedBooking();

  const context = await s.context();
  const page = s.watch(await context.newPage());
  await page.goto(`${BASE}/console/#/signin`, { waitUntil: 'domcontentloaded' });
  const form = await settle(page, 'signin');
  await form.getByLabel(/email/i).fill(other.email);
  await form.getByLabel(/password/i).fill(other.password);
  await form.getByRole('button', { name: /sign in/i }).click();
  await settle(page, 'day');

  // Every finding is gathered, so that one run shows all that leaks.
  const findings = [];
  const options = await page.locator('#chain-picker option').evaluateAll((els) => els.map((o) => ({ value: o.value, text: o.textContent })));
  if (!options.some((o) => o.value === otherChain.id)) findings.push(`the chain picker does not offer the owner's own chain (${JSON.stringify(options)})`);
  if (options.some((o) => o.value === d.chain.id || o.text.includes(DEMO_CHAIN_NAME))) findings.push(`the chain picker offers the demo chain: ${options.map((o) => o.text).join(', ')}`);
  // The owner's own chain selected (as a picker that offered only it would have it).
  if (options.some((o) => o.value === otherChain.id) && (await page.locator('#chain-picker').inputValue()) !== otherChain.id) {
    findings.push('the chain picker selects another chain than the owner\'s own by default');
    await page.locator('#chain-picker').selectOption(otherChain.id);
  }

  const demoIds = [d.chain.id, ...d.theatres.map((t) => t.id), ...d.screens.map((x) => x.id), ...d.shows.map((x) => x.id), booking.id];
  const demoWords = [DEMO_CHAIN_NAME, DEMO_THEATRE_NAME, CUSTOMER.email];
  const pages = [['#/day', 'day'], ['#/catalogue', 'catalogue'], ['#/bookings', 'bookings'], ['#/components', 'components'], ['#/boxoffice', 'boxoffice'], ['#/webhooks', 'webhooks'], ['#/outbox', 'outbox'], [`#/bookings/${booking.id}`, 'booking']];
  for (const [hash, name] of pages) {
    await open(page, hash, name);
    const found = await page.evaluate(
      ([ids, words]) => {
        const main = document.querySelector('main');
        const html = main.innerHTML;
        const text = main.innerText;
        // The page of a booking may echo the id it was asked for ("no booking …"): that id
        // is the visitor's own input, not the chain's data.
        const asked = location.hash.split('/')[2] || '';
        return [...ids.filter((id) => id !== asked && html.includes(id)), ...words.filter((w) => text.includes(w))];
      },
      [demoIds, demoWords],
    );
    if (found.length) findings.push(`${hash} shows the demo chain's ${[...new Set(found)].slice(0, 5).join(', ')}`);
  }

  // The API with this session: the demo chain's staff resources are 404.
  const answers = await page.evaluate(
    async ([chainId, bookingId, showId]) => {
      const { api } = await import('/console/lib.js');
      const probe = async (method, path, body) => {
        try {
          await api(method, path, body, { noSigninRedirect: true });
          return `${method} ${path}: 2xx`;
        } catch (e) {
          return e.status === 404 ? null : `${method} ${path}: ${e.status} ${e.code}`;
        }
      };
      return (
        await Promise.all([
          probe('GET', `/bookings/${bookingId}`),
          probe('GET', `/bookings/${bookingId}/audit`),
          probe('GET', `/chains/${chainId}/components`),
          probe('GET', `/chains/${chainId}/bindings`),
          probe('GET', `/chains/${chainId}/members`),
          probe('GET', `/chains/${chainId}/runs`),
          probe('GET', `/chains/${chainId}/vouchers`),
          probe('GET', `/shows/${showId}/waitlist`),
          probe('POST', `/bookings/${bookingId}/cancel`, {}),
          probe('PATCH', `/shows/${showId}`, { format: '3D' }),
        ])
      ).filter(Boolean);
    },
    [d.chain.id, booking.id, d.shows[0].id],
  );
  for (const a of answers) findings.push(`with this session the API answered ${a}, not 404`);
  // The demo chain's bookings, asked for by chain: refused.
  const list = await call('GET', `/bookings?chain_id=${d.chain.id}`, { token: otherToken });
  if (list.status < 400 && (list.json.items || []).length) findings.push(`GET /bookings?chain_id=<demo> lists ${list.json.items.length} bookings`);
  assert(findings.length === 0, `another chain's owner sees the demo chain:\n    ${findings.join('\n    ')}`);
});

// Every page: a screenshot at 1280 and at 360 px, no horizontal page scroll at 360 px, no
// error on the page (the watcher catches console errors and CSP violations).
const PAGES = [
  ['day', () => '#/day'],
  ['show', async () => `#/shows/${(await demoShow(0)).id}`],
  ['catalogue', () => '#/catalogue'],
  ['screen', async () => `#/screens/${(await demo()).screens[0].id}`],
  ['bookings', () => '#/bookings'],
  ['booking', async () => `#/bookings/${(await confirmedBooking()).id}`],
  ['components', () => '#/components'],
  ['component', async () => `#/components/${await promoUploaded()}`],
  ['replay', async () => `#/replays/${await aReplay()}`],
  ['boxoffice', () => '#/boxoffice'],
  ['webhooks', () => '#/webhooks'],
  ['outbox', () => '#/outbox'],
  ['admin', () => '#/admin', ADMIN],
];

async function aReplay() {
  const { chain } = await demo();
  const owner = await tokenOf(OWNER);
  const list = await must('GET', `/chains/${chain.id}/replays`, { token: owner });
  const done = (list.items || list).find((x) => x.status === 'done');
  if (done) return done.id;
  const sha = await promoUploaded();
  const made = await must('POST', `/chains/${chain.id}/replays`, { token: owner, body: { component_id: sha, hook: 'pricing' } });
  const deadline = Date.now() + WAIT;
  let r = made;
  while (r.status !== 'done' && r.status !== 'failed' && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 250));
    r = await must('GET', `/chains/${chain.id}/replays/${made.id}`, { token: owner });
  }
  return made.id;
}

for (const width of [1280, 360]) {
  scenario(`every page at ${width} px: screenshot, no error${width === 360 ? ', no horizontal page scroll' : ''}`, async (s) => {
    const failures = [];
    const times = [];
    const demoChainId = (await demo()).chain.id;
    const pages = {};
    for (const user of [OWNER, ADMIN]) pages[user.email] = await s.page(user, { width, height: width === 360 ? 780 : 900 });
    for (const [name, where, user = OWNER] of PAGES) {
      const page = pages[user.email];
      const before = s.problems.length;
      const t0 = Date.now();
      try {
        const hash = await where();
        await open(page, hash, name);
        await noAlert(page, hash);
        // The page is of the demo chain (not a "no chain yet" notice).
        if (user === OWNER) {
          const picked = await page.locator('#chain-picker').inputValue();
          if (picked !== demoChainId) throw new Error(`the chain picker holds ${JSON.stringify(picked)}, not the demo chain`);
        }
        await shot(page, name);
        if (width === 360) {
          const over = await horizontalOverflow(page);
          if (over) failures.push(`${name}: the page scrolls sideways at 360 px (${over.scrollWidth} px wide; sticking out: ${over.wide.join(', ') || 'nothing found'})`);
        }
      } catch (err) {
        await shot(page, name).catch(() => {});
        failures.push(`${name}: ${err.message}`);
      }
      if (s.problems.length > before) failures.push(`${name}: ${s.problems.splice(before).join('; ')}`);
      times.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}`);
    }
    console.log(`       seconds per page: ${times.join(', ')}`);
    // The sign-in page, signed out.
    const page = await s.page(null, { width });
    await open(page, '#/signin', 'signin');
    await shot(page, 'signin');
    if (width === 360) {
      const over = await horizontalOverflow(page);
      if (over) failures.push(`signin: the page scrolls sideways at 360 px (${over.wide.join(', ')})`);
    }
    assert(failures.length === 0, `${failures.length} page(s) failed:\n    ${failures.join('\n    ')}`);
  });
}

// --- the runner -----------------------------------------------------------------------------

const results = [];
for (const { name, fn } of scenarios) {
  if (ONLY && !ONLY.test(name)) continue;
  const s = new Session(name);
  const started = Date.now();
  let error = null;
  let timer;
  try {
    await Promise.race([
      fn(s),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`took longer than ${SCENARIO_TIMEOUT / 1000} s`)), SCENARIO_TIMEOUT);
      }),
    ]);
    if (s.problems.length) throw new Error(`the pages reported problems:\n    ${s.problems.join('\n    ')}`);
  } catch (err) {
    error = err;
    if (s.problems.length && !String(err.message).includes('reported problems')) {
      err.message += `\n  and the pages reported:\n    ${s.problems.join('\n    ')}`;
    }
  } finally {
    clearTimeout(timer);
    await s.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, error, secs });
  console.log(`${error ? 'FAIL' : 'ok  '} ${secs.padStart(5)} s  ${name}`);
  if (error) console.log(`       ${String(error.message).split('\n').join('\n       ')}`);
}
await browser.close();

const failed = results.filter((r) => r.error);
console.log(`\nconsole tests: ${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${OUT}`);
if (failed.length) {
  console.log(`failed:\n  ${failed.map((r) => r.name).join('\n  ')}`);
  process.exit(1);
}
if (results.length === 0) {
  console.log(`no scenario matches CONSOLE_ONLY=${process.env.CONSOLE_ONLY}`);
  process.exit(1);
}
