// The console's shell: who is signed in (the session cookie, read back through
// GET /auth/session), which chain they are looking at, the navigation, and a hash router that
// loads one page module per route. Pages are plain modules: `render(main, params, ctx)`.

import { api, setCsrf, mount, h, problemText, toast } from './lib.js';

const ROUTES = [
  ['signin', /^#\/signin$/, 'signin'],
  ['day', /^#\/day$/, 'day'],
  ['show', /^#\/shows\/([0-9a-f-]{36})$/, 'show'],
  ['catalogue', /^#\/catalogue$/, 'catalogue'],
  ['screen', /^#\/screens\/([0-9a-f-]{36})$/, 'screen'],
  ['bookings', /^#\/bookings$/, 'bookings'],
  ['booking', /^#\/bookings\/([0-9a-f-]{36})$/, 'booking'],
  ['components', /^#\/components$/, 'components'],
  // A component version is named by its sha256.
  ['component', /^#\/components\/([0-9a-f]{64})$/, 'component'],
  ['replay', /^#\/replays\/([0-9a-f-]{36})$/, 'replay'],
  ['boxoffice', /^#\/boxoffice$/, 'boxoffice'],
  ['webhooks', /^#\/webhooks$/, 'webhooks'],
  ['outbox', /^#\/outbox$/, 'outbox'],
  ['admin', /^#\/admin$/, 'admin'],
];

const NAV = [
  ['#/day', 'Today'],
  ['#/catalogue', 'Theatres & shows'],
  ['#/bookings', 'Bookings'],
  ['#/components', 'Components'],
  ['#/boxoffice', 'Vouchers & gift cards'],
  ['#/webhooks', 'Webhooks'],
  ['#/outbox', 'Email outbox'],
];

const state = { user: null, chains: [], chain: null, cleanup: null, renderId: 0 };
const main = document.getElementById('main');

function chainKey() {
  return 'cineflow.chain';
}

async function loadSession() {
  try {
    const session = await api('GET', '/auth/session', undefined, { noSigninRedirect: true });
    setCsrf(session.csrf_token);
    state.user = session.user;
  } catch (err) {
    if (err.status !== 401) toast(problemText(err), 'error');
    state.user = null;
  }
}

async function loadChains() {
  state.chains = [];
  state.chain = null;
  if (!state.user || (state.user.role !== 'owner' && state.user.role !== 'admin')) return;
  try {
    // Only the chains this account may run (every chain is public in GET /chains).
    const page = await api('GET', '/chains?staff=me&limit=100');
    state.chains = page.items || [];
  } catch (err) {
    toast(problemText(err), 'error');
  }
  const wanted = localStorage.getItem(chainKey());
  state.chain = state.chains.find((c) => c.id === wanted) || state.chains[0] || null;
}

function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.querySelector('.who');
  const toggle = document.querySelector('.menu-toggle');
  const signedIn = Boolean(state.user);
  nav.hidden = !signedIn;
  who.hidden = !signedIn;
  toggle.hidden = !signedIn;
  if (!signedIn) return;
  const items = [...NAV];
  if (state.user.role === 'admin') items.push(['#/admin', 'Admin']);
  mount(nav, h`<ul>${items.map(([href, label]) => h`<li><a href="${href}">${label}</a></li>`)}</ul>`);
  markCurrent();
  const picker = document.getElementById('chain-picker');
  mount(
    picker,
    state.chains.length
      ? state.chains.map((c) => h`<option value="${c.id}" ${state.chain && c.id === state.chain.id ? h`selected` : ''}>${c.name}</option>`)
      : h`<option value="">No chain yet</option>`,
  );
  document.querySelector('.user-name').textContent = `${state.user.name || state.user.email} (${state.user.role})`;
}

function markCurrent() {
  const current = location.hash.split('/').slice(0, 2).join('/');
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function context() {
  return {
    user: state.user,
    chain: state.chain,
    chains: state.chains,
    navigate(hash) {
      location.hash = hash;
    },
    refresh: route,
  };
}

async function route() {
  const renderId = ++state.renderId;
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch {
      /* a page's cleanup failing must not stop navigation */
    }
    state.cleanup = null;
  }
  let hash = location.hash || '#/day';
  if (!state.user && hash !== '#/signin') {
    sessionStorage.setItem('cineflow.after-signin', hash);
    hash = '#/signin';
    history.replaceState(null, '', hash);
  }
  if (state.user && hash === '#/signin') {
    hash = '#/day';
    history.replaceState(null, '', hash);
  }
  const found = ROUTES.map(([name, re, module]) => [name, hash.match(re), module]).find(([, m]) => m);
  markCurrent();
  if (!found) {
    mount(main, h`<section data-page="not-found"><h1>Not found</h1><p>No page at ${hash}. <a href="#/day">Back to today</a>.</p></section>`);
    return;
  }
  const [name, match, module] = found;
  try {
    const page = await import(`./pages/${module}.js`);
    if (renderId !== state.renderId) return;
    main.replaceChildren();
    const cleanup = await page.render(main, match.slice(1), context());
    if (renderId !== state.renderId) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    if (typeof cleanup === 'function') state.cleanup = cleanup;
    main.dataset.route = name;
    const heading = main.querySelector('h1');
    if (heading) document.title = `${heading.textContent} · Cineflow console`;
  } catch (err) {
    if (renderId !== state.renderId) return;
    mount(main, h`<section data-page="${name}"><h1>Something went wrong</h1><p role="alert" class="alert">${problemText(err)}</p></section>`);
  }
}

/** Called by the sign-in page once the session exists. */
export async function signedIn(session) {
  setCsrf(session.csrf_token);
  state.user = session.user;
  await loadChains();
  renderChrome();
  const next = sessionStorage.getItem('cineflow.after-signin') || '#/day';
  sessionStorage.removeItem('cineflow.after-signin');
  location.hash = next === '#/signin' ? '#/day' : next;
  if (location.hash === next) route();
}

async function signOut() {
  try {
    await api('DELETE', '/auth/session');
  } catch {
    /* the cookie is cleared below either way */
  }
  setCsrf(null);
  state.user = null;
  state.chains = [];
  state.chain = null;
  renderChrome();
  location.hash = '#/signin';
}

document.getElementById('signout').addEventListener('click', signOut);
// The skip link must not change the hash (the router would read "#main" as a page).
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
document.getElementById('chain-picker').addEventListener('change', (event) => {
  state.chain = state.chains.find((c) => c.id === event.target.value) || null;
  if (state.chain) localStorage.setItem(chainKey(), state.chain.id);
  route();
});
document.querySelector('.menu-toggle').addEventListener('click', (event) => {
  const open = event.currentTarget.getAttribute('aria-expanded') !== 'true';
  event.currentTarget.setAttribute('aria-expanded', String(open));
  document.getElementById('nav').classList.toggle('open', open);
});
window.addEventListener('hashchange', () => {
  document.getElementById('nav').classList.remove('open');
  route();
});
window.addEventListener('cineflow:signed-out', () => {
  if (!state.user) return;
  state.user = null;
  renderChrome();
  toast('Your session ended; sign in again.', 'error');
  route();
});

// No top-level await: page modules import this one (signedIn), and a module still
// evaluating would make their dynamic import wait on itself.
async function start() {
  await loadSession();
  await loadChains();
  renderChrome();
  await route();
}
start();
