// One component version: its facts, its call statistics, a dry run on an example input, its
// run log (filtered, with one run's input, output and log) and its replays over recorded runs.
//
// Endpoints (docs/API.md): GET /chains/{id}/components (the version's record; there is no
// single-version GET), GET /chains/{id}/bindings, GET /chains/{id}/components/{cid}/stats,
// POST /chains/{id}/components/{cid}/invoke, GET /chains/{id}/test-cases/{hook},
// GET /chains/{id}/runs?component_id=&outcome=&from=&to=&limit=&cursor=,
// GET /chains/{id}/runs/{run_id}, POST|GET /chains/{id}/replays.

import { api, apiAll, h, mount, on, toast, showError, confirmDialog, options, badge, dateTime, date, money } from '../lib.js';
import { shortId, pretty, outcomeBadge, clearError, num, hookLabel, notStaff } from './components.js';

// --- example inputs per hook, taken from the hooks' fixtures (host/src/plugins/hooks/*/fixtures.json)

const SHOW = {
  show_id: '0190f3b2-0000-7000-8000-000000000001',
  chain_id: '0190f3b2-0000-7000-8000-000000000002',
  theatre_id: '0190f3b2-0000-7000-8000-000000000003',
  theatre_name: 'Regal Central',
  movie_id: '0190f3b2-0000-7000-8000-000000000004',
  movie_title: 'The Long Night',
  screen_name: 'Screen 1',
  format: '2D',
  starts_at_ms: 1893456000000,
  timezone: 'Asia/Kolkata',
  currency: 'INR',
  prices: [['standard', 25000], ['premium', 40000]],
  capacity: 200,
  seats_sold: 0,
};
const CUSTOMER = { user_id: '0190f3b2-0000-7000-8000-000000000005', email: 'asha@example.com', confirmed_bookings: 0 };
const NOW = 1893369600000;
const seat = (row, number, cls = 'standard') => ({ id: `${row}-${number}`, row, number, class: cls });

function pickerScreen() {
  // Five rows of ten: A–C standard, D premium, E accessible; a few seats taken in B.
  const seats = [];
  for (const [row, cls] of [['A', 'standard'], ['B', 'standard'], ['C', 'standard'], ['D', 'premium'], ['E', 'accessible']]) {
    for (let n = 1; n <= 10; n++) seats.push({ seat: seat(row, n, cls), state: row === 'B' && n >= 4 && n <= 6 ? 'taken' : 'free' });
  }
  return seats;
}

const FIXTURES = {
  pricing: [
    ['One standard seat', { show: SHOW, seats: [seat('A', 1)], customer: CUSTOMER, promo_code: null, now_ms: NOW }],
    ['Four seats of two classes', { show: SHOW, seats: [seat('A', 1), seat('A', 2), seat('P', 1, 'premium'), seat('P', 2, 'premium')], customer: CUSTOMER, promo_code: null, now_ms: NOW }],
    ['A promo code the component may not know', { show: SHOW, seats: [seat('A', 1)], customer: CUSTOMER, promo_code: 'NO-SUCH-CODE', now_ms: NOW }],
  ],
  'booking-rules': [
    [
      'check-hold: one seat at the end of an empty row',
      {
        function: 'check-hold',
        show: SHOW,
        seats: [seat('A', 1)],
        row_seats: Array.from({ length: 10 }, (_, i) => ({ seat: seat('A', i + 1), taken: false })),
        customer: CUSTOMER,
        now_ms: NOW,
      },
    ],
    ['cancel: a paid booking two days ahead', { function: 'cancel', show: SHOW, seats: [seat('A', 1), seat('A', 2)], paid_minor: 50000, confirmed: true, now_ms: 1893283200000 }],
    ['check-waitlist: 2 seats, no other waiting lists', { function: 'check-waitlist', show: SHOW, seat_count: 2, seat_class: null, customer: CUSTOMER, customer_entries: 0, now_ms: NOW }],
  ],
  'notify-templates': [
    [
      'booking-confirmed in English',
      {
        kind: 'booking-confirmed',
        locale: 'en',
        fields: [
          ['name', 'Asha'],
          ['movie-title', 'The Long Night'],
          ['theatre-name', 'Regal Central'],
          ['screen-name', 'Screen 1'],
          ['seats', 'A-1, A-2'],
          ['starts-at', '1 Jan 2030, 05:30 IST'],
          ['total', 'INR 500.00'],
          ['booking-id', '0190f3b2-0000-7000-8000-0000000000aa'],
        ],
      },
    ],
    ['custom', { kind: 'custom', locale: 'en', fields: [['subject', 'Maintenance on Sunday'], ['content', 'The box office opens at noon.']] }],
  ],
  'seat-picker': [
    ['Two seats on a screen with a few taken', { show: { ...SHOW, prices: [...SHOW.prices, ['accessible', 25000]], capacity: 50, seats_sold: 3 }, seats: pickerScreen(), count: 2, seat_class: null, accessible: false, now_ms: NOW }],
    ['Four premium seats', { show: { ...SHOW, prices: [...SHOW.prices, ['accessible', 25000]], capacity: 50, seats_sold: 3 }, seats: pickerScreen(), count: 4, seat_class: 'premium', accessible: false, now_ms: NOW }],
    ['An accessible space with a companion', { show: { ...SHOW, prices: [...SHOW.prices, ['accessible', 25000]], capacity: 50, seats_sold: 3 }, seats: pickerScreen(), count: 2, seat_class: null, accessible: true, now_ms: NOW }],
  ],
};

const OUTCOMES = ['ok', 'refused', 'trap', 'out_of_fuel', 'timeout', 'memory', 'bad_output', 'unavailable'];

/** JSON with object keys sorted, to compare outputs whatever the key order. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** A datetime-local value (local time) as RFC 3339 UTC, or undefined. */
function localToIso(value) {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function micros(us) {
  if (us === null || us === undefined) return '—';
  return us >= 1000 ? `${(us / 1000).toFixed(us >= 10000 ? 0 : 1)} ms` : `${us} µs`;
}

function bytes(n) {
  if (n === null || n === undefined) return '—';
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

export async function render(main, params, ctx) {
  const id = String(params[0] || '').toLowerCase();
  if (!ctx.chain) {
    mount(main, h`<section data-page="component"><h1>Component</h1><p class="notice">There is no chain yet: components belong to a chain.</p></section>`);
    return;
  }
  const chain = ctx.chain;
  const base = `/chains/${chain.id}`;
  mount(main, h`<section data-page="component"><h1>Component <code>${shortId(id)}</code></h1><p class="loading">Loading…</p></section>`);
  const root = main.querySelector('section');

  let comp;
  let bindings;
  try {
    const [list, binds] = await Promise.all([api('GET', `${base}/components`), api('GET', `${base}/bindings`)]);
    comp = (list.items || []).find((c) => c.id === id);
    bindings = binds.items || [];
  } catch (err) {
    if (err.status === 404 || err.status === 403) {
      mount(root, notStaff(chain, err));
      return;
    }
    mount(root, h`<h1>Component <code>${shortId(id)}</code></h1><p><a href="#/components">← All components</a></p>`);
    showError(root, err);
    return;
  }
  if (!comp) {
    mount(
      root,
      h`<h1>Component <code>${shortId(id)}</code></h1>
        <p class="notice">${chain.name} has no component <code class="wrap">${id}</code>. It may belong to another chain, or be a platform default (those have no page).</p>
        <p><a href="#/components">← All components</a></p>`,
    );
    return;
  }
  const hook = comp.hook;
  const b = bindings.find((x) => x.hook === hook) || {};
  const roles = [];
  if (b.bound_component_id === id) roles.push(h`<span class="badge badge-bound">bound</span>`);
  if (b.component_id === id) roles.push(h`<span class="badge badge-active">serving</span>`);
  if (b.canary && b.canary.component_id === id) roles.push(h`<span class="badge badge-canary">canary ${b.canary.percent} %</span>`);

  mount(
    root,
    h`<p role="alert" class="alert" hidden></p>
      <p class="crumbs"><a href="#/components">← All components</a></p>
      <h1>${hookLabel(hook)} <code>${shortId(id)}</code></h1>
      <div class="card">
        <dl class="facts">
          <div class="wide"><dt>Id (sha256)</dt><dd><code class="wrap">${id}</code></dd></div>
          <div><dt>Hook</dt><dd>${hook}</dd></div>
          <div><dt>Uploaded</dt><dd>${dateTime(comp.uploaded_at)}</dd></div>
          <div><dt>Size</dt><dd>${bytes(comp.size_bytes)} (${num(comp.size_bytes)} bytes)</dd></div>
          <div><dt>Fixtures</dt><dd>${comp.fixtures ? h`${comp.fixtures.passed} passed, fuel at most ${num(comp.fixtures.fuel_max)}` : '—'}</dd></div>
          <div><dt>Role</dt><dd>${roles.length ? roles : h`<span class="muted">stored, not serving</span>`}</dd></div>
        </dl>
        <div class="actions">
          ${b.bound_component_id === id && !(b.breaker && b.breaker.state === 'open')
            ? ''
            : h`<button type="button" id="bind-this">${b.bound_component_id === id ? 'Bind again (closes the breaker)' : 'Bind this version'}</button>`}
          <a class="button secondary" href="#/components">Canary, shadow, roll back…</a>
        </div>
      </div>
      <section class="card" aria-labelledby="stats-title">
        <h2 id="stats-title">Calls</h2>
        <div id="stats"><p class="loading">Loading…</p></div>
      </section>
      <section class="card" aria-labelledby="dry-title">
        <h2 id="dry-title">Dry run</h2>
        <p class="muted small">Runs this version once under the real sandbox and limits, touching no data.</p>
        <form id="dry-form" class="stack">
          <label for="dry-example">Example input</label>
          <select id="dry-example" name="example"></select>
          <label for="dry-input">Input (JSON: the hook's input record${hook === 'booking-rules' ? ', with "function"' : ''})</label>
          <textarea id="dry-input" name="input" rows="12" spellcheck="false" class="code"></textarea>
          <div class="actions"><button type="submit">Run</button></div>
        </form>
        <div id="dry-result" aria-live="polite"></div>
      </section>
      <section class="card" aria-labelledby="replay-title">
        <h2 id="replay-title">Replays</h2>
        <form id="replay-form" class="inline">
          <div><label for="replay-days">Recorded runs of the last</label>
            <select id="replay-days" name="days">${options([['1', '1 day'], ['7', '7 days'], ['14', '14 days'], ['30', '30 days']], '7')}</select></div>
          <div><label for="replay-limit">At most (runs)</label>
            <input id="replay-limit" name="limit" type="number" min="1" max="1000000" value="100000" data-type="int"></div>
          <button type="submit">Start replay</button>
        </form>
        <p class="muted small">Runs this version over the chain's recorded ${hook} inputs, oldest first, and compares its answers with what was answered. At most 3 replays of the chain run at once.</p>
        <div id="replays"><p class="loading">Loading…</p></div>
      </section>
      <section class="card" aria-labelledby="runs-title">
        <h2 id="runs-title">Run log</h2>
        <form id="runs-form" class="inline">
          <div><label for="runs-outcome">Outcome</label>
            <select id="runs-outcome" name="outcome">${options([['', 'any'], ...OUTCOMES.map((o) => [o, o])], '')}</select></div>
          <div><label for="runs-from">From</label><input id="runs-from" name="from" type="datetime-local"></div>
          <div><label for="runs-to">Before</label><input id="runs-to" name="to" type="datetime-local"></div>
          <div><label for="runs-limit">Per page</label><input id="runs-limit" name="limit" type="number" min="1" max="200" value="25" data-type="int" class="pct"></div>
          <button type="submit">Filter</button>
        </form>
        <div id="runs"><p class="loading">Loading…</p></div>
        <div id="run-detail" tabindex="-1"></div>
      </section>`,
  );

  const bindButton = root.querySelector('#bind-this');
  if (bindButton) {
    bindButton.addEventListener('click', async () => {
      const card = bindButton.closest('.card');
      // A PUT without a canary ends it: keep the current one unless it is this version.
      const keep = b.canary && b.canary.component_id !== id ? b.canary : null;
      const ok = await confirmDialog(
        `Bind ${shortId(id)} to ${hook}?`,
        h`<p>New ${hook} calls use <code>${shortId(id)}</code> on every server within a second${b.bound_component_id && b.bound_component_id !== id ? h`, instead of <code>${shortId(b.bound_component_id)}</code>` : ''}.</p>
          ${keep ? h`<p>The canary <code>${shortId(keep.component_id)}</code> at ${keep.percent} % stays.</p>` : ''}`,
        'Bind',
      );
      if (!ok) return;
      bindButton.disabled = true;
      try {
        const body = { component_id: id, on_failure: b.on_failure || undefined };
        if (keep) body.canary = { component_id: keep.component_id, percent: keep.percent };
        await api('PUT', `${base}/bindings/${hook}`, body);
        toast(`${hook}: bound ${shortId(id)}`);
        ctx.refresh();
      } catch (err) {
        showError(card, err);
        bindButton.disabled = false;
      }
    });
  }

  const statsEl = root.querySelector('#stats');
  const dryForm = root.querySelector('#dry-form');
  const dryResult = root.querySelector('#dry-result');
  const replaysEl = root.querySelector('#replays');
  const runsForm = root.querySelector('#runs-form');
  const runsEl = root.querySelector('#runs');
  const detailEl = root.querySelector('#run-detail');

  // --- stats --------------------------------------------------------------------------------
  async function loadStats() {
    try {
      const s = await api('GET', `${base}/components/${id}/stats`);
      const failures = Object.entries(s.failures || {});
      const failed = failures.reduce((a, [, v]) => a + v, 0);
      mount(
        statsEl,
        h`<dl class="stats">
            <div><dt>Calls</dt><dd>${num(s.calls)}</dd></div>
            <div><dt>Refused</dt><dd>${num(s.refused)}</dd></div>
            <div><dt>Failed</dt><dd>${num(failed)}</dd></div>
            <div><dt>Fuel p50 / p99</dt><dd>${num(s.fuel_p50)} / ${num(s.fuel_p99)}</dd></div>
            <div><dt>Time p50 / p99</dt><dd>${micros(s.duration_us_p50)} / ${micros(s.duration_us_p99)}</dd></div>
          </dl>
          ${failures.length ? h`<p>Failures by kind: ${failures.map(([k, v], i) => h`${i ? ', ' : ''}${outcomeBadge(k)} ${num(v)}`)}</p>` : ''}
          <p class="muted small">Since ${dateTime(s.since)} (${s.scope === 'all-replicas' ? 'every server, from the run log' : 'this server only: the run log is off'}).
            ${s.replica ? `This server counted ${num(s.replica.calls)} calls since ${dateTime(s.replica.since)}.` : ''}</p>`,
      );
    } catch (err) {
      mount(statsEl, h`<p class="alert" role="alert">Could not read the stats: ${err.message}</p>`);
    }
  }

  // --- dry run ------------------------------------------------------------------------------
  const examples = (FIXTURES[hook] || []).map(([name, input]) => ({ name: `Fixture: ${name}`, input, expect: undefined }));
  async function loadExamples() {
    try {
      const tc = await api('GET', `${base}/test-cases/${hook}`);
      for (const c of tc.cases || []) examples.push({ name: `Test case: ${c.name}`, input: c.input, expect: c.expect });
    } catch (err) {
      if (err.status !== 404) toast(`Test cases could not be read: ${err.message}`, 'error');
    }
    const select = dryForm.elements.example;
    mount(select, [...options(examples.map((e, i) => [String(i), e.name]), '0'), h`<option value="custom">Your own (edit below)</option>`]);
    if (examples.length) dryForm.elements.input.value = pretty(examples[0].input);
  }
  dryForm.elements.example.addEventListener('change', () => {
    const ex = examples[Number(dryForm.elements.example.value)];
    if (ex) dryForm.elements.input.value = pretty(ex.input);
  });
  dryForm.elements.input.addEventListener('input', () => {
    dryForm.elements.example.value = 'custom';
  });

  function expectation(ex, res) {
    if (!ex || ex.expect === undefined) return '';
    let pass;
    if (!res.output) pass = false;
    else if ('ok' in ex.expect) pass = 'ok' in res.output && canonical(res.output.ok) === canonical(ex.expect.ok);
    else pass = 'err' in res.output && (ex.expect.err === null || ex.expect.err === res.output.err);
    return h`<p>${pass ? h`<span class="badge badge-bound">test case passes</span>` : h`<span class="badge badge-failed">test case fails</span>`} <span class="muted small">expected ${JSON.stringify(ex.expect).slice(0, 200)}</span></p>`;
  }

  dryForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const card = dryForm.closest('.card');
    let input;
    try {
      input = JSON.parse(dryForm.elements.input.value);
    } catch (e) {
      showError(card, new Error(`The input is not JSON: ${e.message}`));
      dryForm.elements.input.focus();
      return;
    }
    const button = dryForm.querySelector('button');
    button.disabled = true;
    try {
      const res = await api('POST', `${base}/components/${id}/invoke`, { input });
      clearError(card);
      const ex = examples[Number(dryForm.elements.example.value)];
      const verdict = res.error ? badge('failed') : 'ok' in (res.output || {}) ? h`<span class="badge badge-bound">answered</span>` : h`<span class="badge badge-held">refused</span>`;
      mount(
        dryResult,
        h`<h3>Result ${verdict}</h3>
          <dl class="stats">
            <div><dt>Fuel</dt><dd>${num(res.fuel_used)}</dd></div>
            <div><dt>Time</dt><dd>${micros(res.duration_us)}</dd></div>
            <div><dt>Memory</dt><dd>${bytes(res.memory_bytes)}</dd></div>
          </dl>
          ${expectation(ex, res)}
          ${res.output && res.output.ok && typeof res.output.ok === 'object' && 'total_minor' in res.output.ok
            ? h`<p>Quote: <strong>${money(res.output.ok.total_minor, (input.show && input.show.currency) || chain.currency)}</strong> for ${(res.output.ok.items || []).length} item(s)</p>`
            : ''}
          ${res.output && 'err' in res.output ? h`<p>Refused: “${res.output.err}”</p>` : ''}
          ${res.output ? h`<h4>Output</h4><pre data-testid="dry-output">${pretty(res.output)}</pre>` : ''}
          ${res.error ? h`<h4>Failure: ${res.error.kind}</h4><pre>${res.error.report || res.error.message}</pre>` : ''}
          ${res.log ? h`<h4>Log</h4><pre>${res.log}</pre>` : ''}`,
      );
      toast(res.error ? `Dry run failed: ${res.error.kind}` : 'Dry run done');
    } catch (err) {
      showError(card, err);
    } finally {
      button.disabled = false;
    }
  });

  // --- replays ------------------------------------------------------------------------------
  async function loadReplays() {
    try {
      const all = await apiAll(`${base}/replays?limit=200`, 400);
      const mine = all.filter((r) => r.component_id === id);
      mount(
        replaysEl,
        mine.length
          ? h`<div class="table-wrap"><table>
              <thead><tr><th scope="col">Requested</th><th scope="col">Status</th><th scope="col">Window</th><th scope="col" class="num">Runs</th><th scope="col" class="num">Same</th><th scope="col" class="num">Different</th><th scope="col">Report</th></tr></thead>
              <tbody>${mine.map(
                (r) => h`<tr data-id="${r.id}">
                  <td>${dateTime(r.created_at)}</td>
                  <td>${badge(r.status)}${r.status === 'running' && r.progress && r.progress.total ? h` <span class="muted small">${Math.floor((100 * r.progress.done) / r.progress.total)} %</span>` : ''}</td>
                  <td class="small">${r.from ? date(r.from) : 'first run'} – ${r.to ? date(r.to) : 'now'}</td>
                  <td class="num">${num(r.runs)}</td><td class="num">${num(r.same)}</td><td class="num">${num(r.changed)}</td>
                  <td><a href="#/replays/${r.id}">Open report</a></td>
                </tr>`,
              )}</tbody></table></div>`
          : h`<p class="muted">No replay of this version yet.</p>`,
      );
    } catch (err) {
      mount(replaysEl, h`<p class="alert" role="alert">Could not read the replays: ${err.message}</p>`);
    }
  }

  root.querySelector('#replay-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const card = form.closest('.card');
    const days = Number(form.elements.days.value) || 7;
    const limit = Number.parseInt(form.elements.limit.value, 10);
    if (form.elements.limit.value && !(limit >= 1 && limit <= 1000000)) {
      showError(card, new Error('At most: a whole number of runs between 1 and 1 000 000.'));
      return;
    }
    const to = new Date();
    const from = new Date(to.getTime() - days * 86400000);
    const body = { component_id: id, hook, from: from.toISOString(), to: to.toISOString() };
    if (limit) body.limit = limit;
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const replay = await api('POST', `${base}/replays`, body);
      clearError(card);
      toast(`Replay queued over the last ${days} days`);
      ctx.navigate(`#/replays/${replay.id}`);
    } catch (err) {
      showError(card, err);
    } finally {
      button.disabled = false;
    }
  });

  // --- run log ------------------------------------------------------------------------------
  let cursor = null;
  let runs = [];
  function runQuery(withCursor) {
    const f = runsForm.elements;
    const q = new URLSearchParams({ component_id: id });
    if (f.outcome.value) q.set('outcome', f.outcome.value);
    const from = localToIso(f.from.value);
    const to = localToIso(f.to.value);
    if (from === null || to === null) throw new Error('A time in the filter is not a valid date and time.');
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const limit = Number.parseInt(f.limit.value, 10);
    if (f.limit.value && !(limit >= 1 && limit <= 200)) throw new Error('Per page: between 1 and 200.');
    if (limit) q.set('limit', String(limit));
    if (withCursor && cursor) q.set('cursor', cursor);
    return `${base}/runs?${q}`;
  }

  function runsTable() {
    if (!runs.length) return h`<p class="muted">No recorded run matches.</p>`;
    return h`<div class="table-wrap"><table class="runs">
        <thead><tr><th scope="col">At</th><th scope="col">Function</th><th scope="col">Outcome</th><th scope="col" class="num">Fuel</th><th scope="col" class="num">Time</th><th scope="col" class="num">Memory</th><th scope="col">For</th><th scope="col">Detail</th></tr></thead>
        <tbody>${runs.map(
          (r) => h`<tr data-id="${r.id}">
            <td title="${r.at}">${dateTime(r.at)}</td>
            <td><code>${r.function}</code></td>
            <td>${outcomeBadge(r.outcome)}${r.canary ? h` <span class="badge badge-canary">canary</span>` : ''}</td>
            <td class="num">${num(r.fuel_used)}</td>
            <td class="num">${micros(r.duration_us)}</td>
            <td class="num">${bytes(r.memory_bytes)}</td>
            <td>${r.booking_id ? h`<a href="#/bookings/${r.booking_id}">booking ${r.booking_id.slice(-8)}</a>` : r.notification_id ? h`email ${r.notification_id.slice(-8)}` : '—'}</td>
            <td><button type="button" class="secondary" data-run="${r.id}">Details</button></td>
          </tr>`,
        )}</tbody></table></div>
      ${cursor ? h`<div class="actions"><button type="button" class="secondary" data-more>Load more</button></div>` : ''}`;
  }

  async function loadRuns(more) {
    const card = runsForm.closest('.card');
    let path;
    try {
      path = runQuery(more);
    } catch (err) {
      showError(card, err);
      return;
    }
    try {
      const page = await api('GET', path);
      clearError(card);
      runs = more ? [...runs, ...(page.items || [])] : page.items || [];
      cursor = page.next_cursor || null;
      mount(runsEl, runsTable());
    } catch (err) {
      showError(card, err);
    }
  }

  runsForm.addEventListener('submit', (event) => {
    event.preventDefault();
    detailEl.replaceChildren();
    loadRuns(false);
  });
  on(runsEl, 'click', 'button[data-more]', (event, button) => {
    button.disabled = true;
    loadRuns(true);
  });
  on(runsEl, 'click', 'button[data-run]', async (event, button) => {
    const card = runsForm.closest('.card');
    button.disabled = true;
    try {
      const r = await api('GET', `${base}/runs/${button.dataset.run}`);
      clearError(card);
      mount(
        detailEl,
        h`<div class="run-detail" data-id="${r.id}">
            <h3>Run of ${dateTime(r.at)} ${outcomeBadge(r.outcome)}</h3>
            <p class="muted small"><code>${r.function}</code> · ${num(r.fuel_used)} fuel · ${micros(r.duration_us)} · ${bytes(r.memory_bytes)} · run ${r.id}</p>
            <div class="actions">
              <button type="button" class="secondary" data-use-input>Use this input in the dry run</button>
              <button type="button" class="secondary" data-close-run>Close</button>
            </div>
            <div class="diff">
              <div><h4>Input</h4><pre>${pretty(r.input)}</pre></div>
              <div><h4>Output</h4><pre>${r.output ? pretty(r.output) : 'none (the call failed)'}</pre></div>
            </div>
            ${r.error ? h`<h4>Failure</h4><pre>${r.error}</pre>` : ''}
            ${r.log ? h`<h4>Log</h4><pre>${r.log}</pre>` : ''}
          </div>`,
      );
      detailEl.querySelector('[data-use-input]').addEventListener('click', () => {
        dryForm.elements.input.value = pretty(r.input);
        dryForm.elements.example.value = 'custom';
        dryForm.elements.input.focus();
        toast('The run’s input is in the dry-run form');
      });
      detailEl.querySelector('[data-close-run]').addEventListener('click', () => {
        detailEl.replaceChildren();
        button.focus();
      });
      detailEl.focus();
    } catch (err) {
      showError(card, err);
    } finally {
      button.disabled = false;
    }
  });

  await Promise.all([loadStats(), loadExamples(), loadReplays(), loadRuns(false)]);
}
