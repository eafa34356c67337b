// Components: per hook, the chain's uploaded versions, what serves the hook now (binding,
// canary, breaker), the shadow beside it, and the actions that change them: upload, bind,
// unbind, roll back, canary, shadow. Ends with the chain's component trail.
//
// Endpoints (docs/API.md, "Components" and "Run logs, replay, shadow, canary, receipts"):
// GET /hooks, GET /chains/{id}/components, GET /chains/{id}/bindings,
// GET|PUT|DELETE /chains/{id}/shadows/{hook}, PUT|DELETE /chains/{id}/bindings/{hook},
// POST /chains/{id}/components?hook= (raw bytes, Content-Type: application/wasm),
// GET /chains/{id}/component-audit (oldest first, paged).

import { api, apiAll, h, raw, mount, on, toast, confirmDialog, showError, options, badge, dateTime, ago, money } from '../lib.js';

// --- helpers shared with component.js and replay.js -------------------------------------------

/** A sha256 shortened for reading; the full id stays in links and data-id. */
export function shortId(id) {
  return id ? String(id).slice(0, 12) : '—';
}

/** `<code>` of a short component id, linked to its page when `link`. */
export function componentRef(id, link = true) {
  if (!id) return h`<span class="muted">—</span>`;
  return link
    ? h`<a href="#/components/${id}" class="cid"><code>${shortId(id)}</code></a>`
    : h`<code class="cid">${shortId(id)}</code>`;
}

/** JSON for a `<pre>`. */
export function pretty(value) {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2);
}

/** A run outcome as a badge: ok / refused / a failure kind. */
export function outcomeBadge(outcome) {
  const cls = outcome === 'ok' ? 'bound' : outcome === 'refused' ? 'held' : 'failed';
  return h`<span class="badge badge-${cls}">${outcome}</span>`;
}

/** Hides the alert box inside `root` after a call that went well. */
export function clearError(root) {
  const box = root && root.querySelector('[role="alert"]');
  if (box) box.hidden = true;
}

/** Integers read with thousands separators. */
export function num(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString();
}

export const HOOK_LABELS = {
  'booking-rules': 'Booking rules',
  pricing: 'Pricing',
  'notify-templates': 'Email templates',
  'seat-picker': 'Seat picker',
};

export function hookLabel(hook) {
  return HOOK_LABELS[hook] || hook;
}

/** What a page shows when the API answers that the chain's components are not the caller's. */
export function notStaff(chain, err) {
  return h`<h1>Components</h1>
    <p class="notice" data-reason="${err.code}">You are not on the staff of ${chain.name}, so its components are not shown (the API answered ${err.status} ${err.code}). Pick one of your own chains above, or ask an admin to add you to this one.</p>`;
}

// --- the page ---------------------------------------------------------------------------------

export async function render(main, _params, ctx) {
  if (!ctx.chain) {
    mount(
      main,
      h`<section data-page="components"><h1>Components</h1>
        <p class="notice">There is no chain yet: components belong to a chain. Create one (or ask an admin to add you to one) first.</p></section>`,
    );
    return;
  }
  const chain = ctx.chain;
  const base = `/chains/${chain.id}`;
  mount(
    main,
    h`<section data-page="components">
        <h1>Components</h1>
        <p role="alert" class="alert" hidden></p>
        <p class="muted">WebAssembly components of <strong>${chain.name}</strong>: upload a version, try it (dry run, replay, shadow, canary), bind it, roll it back. Open a version for its stats, run log, dry run and replays.</p>
        <div class="card" id="upload-card">
          <h2>Upload a version</h2>
          <form id="upload-form" class="inline" novalidate>
            <div>
              <label for="upload-hook">Hook</label>
              <select id="upload-hook" name="hook" required></select>
            </div>
            <div>
              <label for="upload-file">Component (.wasm)</label>
              <input id="upload-file" name="file" type="file" accept=".wasm,application/wasm" required>
            </div>
            <button type="submit">Upload</button>
          </form>
          <p class="muted small">The file must be a component (not a core module) of the hook's world; the server checks it against the hook's fixtures and the chain's own test cases before storing it. The same bytes again answer with the stored version.</p>
          <div id="upload-result" aria-live="polite"></div>
        </div>
        <div id="hooks"><p class="loading">Loading components…</p></div>
        <section class="card" id="audit-card" aria-labelledby="audit-title">
          <h2 id="audit-title">Recent component changes</h2>
          <div id="audit"><p class="loading">Loading…</p></div>
        </section>
      </section>`,
  );
  const root = main.querySelector('section[data-page="components"]');
  const hooksEl = root.querySelector('#hooks');
  const auditEl = root.querySelector('#audit');
  const uploadForm = root.querySelector('#upload-form');
  const state = { hooks: [], components: [], bindings: [], shadows: {}, audit: [] };

  async function load() {
    const [hooks, comps, binds, audit] = await Promise.all([
      api('GET', '/hooks'),
      api('GET', `${base}/components`),
      api('GET', `${base}/bindings`),
      apiAll(`${base}/component-audit?limit=200`, 5000).catch((err) => ({ error: err })),
    ]);
    state.hooks = hooks.items || [];
    state.components = comps.items || [];
    state.bindings = binds.items || [];
    state.usage = binds.usage || null;
    state.audit = audit;
    const shadows = await Promise.all(
      state.hooks.map((hk) =>
        api('GET', `${base}/shadows/${hk.name}`).catch((err) => (err.status === 404 ? null : { error: err })),
      ),
    );
    state.shadows = {};
    state.hooks.forEach((hk, i) => {
      state.shadows[hk.name] = shadows[i];
    });
  }

  function fillHookSelect() {
    const select = uploadForm.querySelector('#upload-hook');
    const current = select.value || 'pricing';
    mount(select, options(state.hooks.map((hk) => [hk.name, `${hookLabel(hk.name)} (${hk.name})`]), current));
  }

  /** Re-reads everything and re-renders the hooks and the trail; `focusHook` gets focus back
   * (the button that was pressed is gone after the re-render). */
  async function refresh(focusHook) {
    try {
      await load();
    } catch (err) {
      if (!state.hooks.length && (err.status === 404 || err.status === 403)) {
        // Not staff of this chain (the API hides other chains' components as 404).
        mount(root, notStaff(chain, err));
        return;
      }
      showError(root, err);
      if (!state.hooks.length) mount(hooksEl, h`<p class="muted">Could not load the components.</p>`);
      return;
    }
    clearError(root);
    fillHookSelect();
    mount(hooksEl, state.hooks.map((hk) => hookCard(hk)));
    mount(auditEl, auditTable());
    if (focusHook) {
      const heading = hooksEl.querySelector(`.hook-card[data-hook="${focusHook}"] h2`);
      if (heading) heading.focus();
    }
  }

  /**
   * The version bound before `boundId`: the newest other component the trail shows bound to
   * this hook (a canary change re-records the same binding, so those are skipped); null when
   * only the platform default served before; undefined when the trail cannot say.
   */
  function previousOf(hook, boundId) {
    if (!Array.isArray(state.audit)) return undefined;
    let sawCurrent = false;
    for (let i = state.audit.length - 1; i >= 0; i--) {
      const e = state.audit[i];
      if (e.hook !== hook || e.kind !== 'bound') continue;
      if (e.component_id === boundId) {
        sawCurrent = true;
        continue;
      }
      if (state.components.some((c) => c.id === e.component_id)) return e.component_id;
    }
    return sawCurrent ? null : undefined;
  }

  function hookCard(hk) {
    const hook = hk.name;
    const b = state.bindings.find((x) => x.hook === hook) || {};
    const versions = state.components.filter((c) => c.hook === hook);
    const shadow = state.shadows[hook];
    const bound = b.bound_component_id || null;
    const canary = b.canary || null;
    const open = b.breaker && b.breaker.state === 'open';
    let prev = bound ? previousOf(hook, bound) : undefined;
    if (bound && prev === undefined) {
      // The trail does not say (it could not be read, or is older than the binding): the
      // version uploaded just before the bound one is the best guess of "the previous".
      const at = (c) => Date.parse(c.uploaded_at);
      const boundAt = at(versions.find((c) => c.id === bound) || {});
      const older = versions.filter((c) => c.id !== bound && at(c) < boundAt).sort((x, y) => at(y) - at(x));
      if (older.length) prev = older[0].id;
    }
    const others = versions.filter((c) => c.id !== bound);
    const versionPairs = (list) => list.map((c) => [c.id, `${shortId(c.id)} · ${dateTime(c.uploaded_at)}`]);

    const serving = h`
      <dl class="facts">
        <div><dt>Serving now</dt><dd>${b.component_id && b.component_id === bound ? componentRef(b.component_id) : h`${componentRef(b.component_id || hk.default_component.id, false)} <span class="muted">platform default</span>`}</dd></div>
        <div><dt>Bound</dt><dd>${bound ? h`${componentRef(bound)} <span class="muted">${b.bound_at ? 'since ' + dateTime(b.bound_at) : ''}</span>` : h`<span class="muted">nothing (platform default)</span>`}</dd></div>
        <div><dt>On failure</dt><dd>${b.on_failure || '—'}</dd></div>
        <div><dt>Breaker</dt><dd>${badge(b.breaker ? b.breaker.state : 'closed')} ${open && b.breaker.tripped_at ? h`<span class="muted">tripped ${ago(b.breaker.tripped_at)}</span>` : ''}</dd></div>
        <div><dt>Canary</dt><dd>${canary ? h`${componentRef(canary.component_id)} <span class="badge badge-canary">${canary.percent} %</span> <span class="muted">since ${dateTime(canary.since)} · ${num(canary.calls)} calls, ${num(canary.failures)} failed</span>` : h`<span class="muted">none</span>`}</dd></div>
        <div><dt>Shadow</dt><dd>${shadowSummary(shadow)}</dd></div>
      </dl>
      ${open && b.breaker.reason ? h`<details class="reason"><summary>Why the breaker opened</summary><pre>${b.breaker.reason}</pre></details><p class="notice">The breaker is open: the platform default serves this hook until you bind a version again.</p>` : ''}`;

    const rollbackLabel = prev === undefined ? null : prev === null ? 'Roll back to the platform default' : `Roll back to ${shortId(prev)}`;
    const quick = h`
      <div class="actions">
        ${open && bound ? h`<button type="button" data-action="bind" data-hook="${hook}" data-id="${bound}">Bind ${shortId(bound)} again (closes the breaker)</button>` : ''}
        ${bound ? h`<button type="button" class="secondary" data-action="unbind" data-hook="${hook}">Unbind (platform default)</button>` : ''}
        ${rollbackLabel ? h`<button type="button" class="secondary" data-action="rollback" data-hook="${hook}" data-previous="${prev || ''}">${rollbackLabel}</button>` : ''}
        ${canary ? h`<button type="button" class="secondary" data-action="stop-canary" data-hook="${hook}">Remove canary</button>` : ''}
        ${shadow && !shadow.error ? h`<button type="button" class="secondary" data-action="stop-shadow" data-hook="${hook}">Stop shadow</button>` : ''}
      </div>`;

    const table = versions.length
      ? h`<div class="table-wrap"><table class="versions">
          <caption class="visually-hidden">${hookLabel(hook)} versions</caption>
          <thead><tr><th scope="col">Version</th><th scope="col">Uploaded</th><th scope="col" class="num">Size</th><th scope="col">Checks</th><th scope="col">Role</th><th scope="col">Actions</th></tr></thead>
          <tbody>${versions.map((c) => versionRow(c, hook, bound, canary, shadow, open))}</tbody>
        </table></div>`
      : h`<p class="muted">No version uploaded for this hook: the platform default (${componentRef(hk.default_component.id, false)}) serves it.</p>`;

    const forms = versions.length
      ? h`<div class="hook-forms">
          <form class="inline" data-form="bind" data-hook="${hook}">
            <div><label for="bind-${hook}">Version to bind</label>
              <select id="bind-${hook}" name="component_id">${options(versionPairs(versions), bound || (versions[0] && versions[0].id))}</select></div>
            <div><label for="policy-${hook}">On failure</label>
              <select id="policy-${hook}" name="on_failure">${options([['reject', 'reject (503, no seat taken)'], ['fallback', 'fallback (platform default answers)']], b.on_failure || 'reject')}</select></div>
            <button type="submit">Bind</button>
          </form>
          ${bound && others.length
            ? h`<form class="inline" data-form="canary" data-hook="${hook}">
                <div><label for="canary-${hook}">Canary version</label>
                  <select id="canary-${hook}" name="component_id">${options(versionPairs(others), canary ? canary.component_id : others[0].id)}</select></div>
                <div><label for="canary-pct-${hook}">Customers (%)</label>
                  <input id="canary-pct-${hook}" name="percent" type="number" min="1" max="99" step="1" required value="${canary ? canary.percent : 5}" data-type="int" class="pct"></div>
                <button type="submit">${canary ? 'Update canary' : 'Start canary'}</button>
              </form>`
            : h`<p class="muted small">${bound ? 'Upload another version to try it as a canary.' : 'A canary needs a bound version to stand beside: bind one first.'}</p>`}
          <form class="inline" data-form="shadow" data-hook="${hook}">
            <div><label for="shadow-${hook}">Shadow version</label>
              <select id="shadow-${hook}" name="component_id">${options(versionPairs(others.length ? others : versions), shadow && !shadow.error ? shadow.component_id : (others[0] || versions[0]).id)}</select></div>
            <div><label for="shadow-pct-${hook}">Sample (%)</label>
              <input id="shadow-pct-${hook}" name="sample_percent" type="number" min="1" max="100" step="1" required value="${shadow && !shadow.error ? shadow.sample_percent : 100}" data-type="int" class="pct"></div>
            <button type="submit">${shadow && !shadow.error ? 'Restart shadow' : 'Start shadow'}</button>
          </form>
        </div>`
      : '';

    return h`<section class="card hook-card" data-hook="${hook}" aria-labelledby="hook-${hook}">
        <h2 id="hook-${hook}" tabindex="-1">${hookLabel(hook)} <code class="muted">${hook}</code></h2>
        ${serving}
        ${shadow && !shadow.error ? shadowDetail(shadow) : ''}
        ${shadow && shadow.error ? h`<p class="alert">Shadow: could not be read (${shadow.error.message}).</p>` : ''}
        ${quick}
        ${table}
        ${forms}
      </section>`;
  }

  function versionRow(c, hook, bound, canary, shadow, open) {
    const roles = [];
    if (c.id === bound) roles.push(h`<span class="badge badge-bound">bound</span>`);
    if (c.id === bound && open) roles.push(h` <span class="badge badge-open">breaker open</span>`);
    if (canary && canary.component_id === c.id) roles.push(h`<span class="badge badge-canary">canary ${canary.percent} %</span>`);
    if (shadow && !shadow.error && shadow.component_id === c.id) roles.push(h`<span class="badge badge-running">shadow</span>`);
    const f = c.fixtures || {};
    return h`<tr data-id="${c.id}">
        <td>${componentRef(c.id)}</td>
        <td>${dateTime(c.uploaded_at)}</td>
        <td class="num">${(c.size_bytes / 1024).toFixed(1)} KiB</td>
        <td>${f.passed ?? '—'} fixtures${f.fuel_max ? h`<span class="muted">, fuel ≤ ${num(f.fuel_max)}</span>` : ''}</td>
        <td>${roles.length ? roles : h`<span class="muted">—</span>`}</td>
        <td class="row-actions">
          ${c.id === bound ? '' : h`<button type="button" class="secondary" data-action="bind" data-hook="${hook}" data-id="${c.id}">Bind</button>`}
          <a class="button secondary" href="#/components/${c.id}">Open</a>
        </td>
      </tr>`;
  }

  function shadowSummary(shadow) {
    if (!shadow) return h`<span class="muted">none</span>`;
    if (shadow.error) return h`<span class="muted">unknown</span>`;
    return h`${componentRef(shadow.component_id)} <span class="muted">on ${shadow.sample_percent} % of calls since ${dateTime(shadow.since)}</span>`;
  }

  function shadowDetail(s) {
    const failures = Object.values(s.failures || {}).reduce((a, b) => a + b, 0);
    return h`<div class="shadow-box">
        <dl class="stats">
          <div><dt>Shadow runs</dt><dd>${num(s.runs)}</dd></div>
          <div><dt>Same</dt><dd>${num(s.same)}</dd></div>
          <div><dt>Different</dt><dd>${num(s.changed)}</dd></div>
          <div><dt>Failed</dt><dd>${num(failures)}</dd></div>
          ${s.hook === 'pricing' ? h`<div><dt>Revenue delta</dt><dd>${money(s.revenue_delta_minor, chain.currency)}</dd></div>` : ''}
        </dl>
        ${Object.keys(s.failures || {}).length ? h`<p class="muted small">Failures: ${Object.entries(s.failures).map(([k, v]) => `${k} ${v}`).join(', ')}</p>` : ''}
        ${Array.isArray(s.examples) && s.examples.length
          ? h`<details><summary>${s.examples.length} example${s.examples.length === 1 ? '' : 's'} answered differently</summary>
              ${s.examples.map((ex) => h`<div class="diff"><div><h3>Served</h3><pre>${pretty(ex.before)}</pre></div><div><h3>Shadow</h3><pre>${pretty(ex.after)}</pre></div></div>`)}
            </details>`
          : ''}
      </div>`;
  }

  function auditTable() {
    if (state.audit && state.audit.error) return h`<p class="alert" role="alert">Could not read the component trail: ${state.audit.error.message}</p>`;
    const recent = [...state.audit].reverse().slice(0, 25);
    if (!recent.length) return h`<p class="muted">Nothing has changed yet.</p>`;
    return h`<div class="table-wrap"><table>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Hook</th><th scope="col">Component</th><th scope="col">Detail</th></tr></thead>
        <tbody>${recent.map(
          (e) => h`<tr data-id="${e.id}">
            <td title="${e.at}">${dateTime(e.at)}</td>
            <td>${badge(e.kind)}</td>
            <td>${e.hook || '—'}</td>
            <td>${componentRef(e.component_id, state.components.some((c) => c.id === e.component_id))}</td>
            <td class="detail">${auditDetail(e)}</td>
          </tr>`,
        )}</tbody>
      </table></div>`;
  }

  function auditDetail(e) {
    const d = e.detail || {};
    const known = new Set(['previous', 'on_failure', 'percent', 'stable', 'sample_percent', 'fixtures_passed', 'cases_passed', 'fuel_max', 'size_bytes', 'replay_id', 'max_runs', 'reason']);
    const parts = [];
    if ('previous' in d) parts.push(h`previous ${d.previous ? h`<code>${shortId(d.previous)}</code>` : 'platform default'}`);
    if (d.on_failure) parts.push(h`on failure ${d.on_failure}`);
    if (d.percent !== undefined) parts.push(h`${d.percent} % of customers`);
    if (d.stable) parts.push(h`beside <code>${shortId(d.stable)}</code>`);
    if (d.sample_percent !== undefined) parts.push(h`sample ${d.sample_percent} %`);
    if (d.fixtures_passed !== undefined) parts.push(h`${d.fixtures_passed} fixtures`);
    if (d.cases_passed) parts.push(h`${d.cases_passed} test cases`);
    if (d.fuel_max) parts.push(h`fuel ≤ ${num(d.fuel_max)}`);
    if (d.size_bytes) parts.push(h`${(d.size_bytes / 1024).toFixed(1)} KiB`);
    if (d.replay_id) parts.push(h`<a href="#/replays/${d.replay_id}">replay report</a>`);
    if (d.max_runs) parts.push(h`up to ${num(d.max_runs)} runs`);
    const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !known.has(k)));
    const restText = Object.keys(rest).length ? JSON.stringify(rest) : '';
    return h`${parts.map((p, i) => h`${i ? ', ' : ''}${p}`)}${restText ? h`${parts.length ? ' · ' : ''}<span class="muted small">${restText.length > 160 ? restText.slice(0, 160) + '…' : restText}</span>` : ''}
      ${d.reason ? h`<details class="reason"><summary>reason</summary><pre>${d.reason}</pre></details>` : ''}`;
  }

  // --- actions ------------------------------------------------------------------------------

  function binding(hook) {
    return state.bindings.find((x) => x.hook === hook) || {};
  }

  /** PUT the binding; keeps the current canary unless told otherwise (a PUT without one ends it). */
  async function putBinding(hook, componentId, onFailure, canary) {
    const body = { component_id: componentId };
    if (onFailure) body.on_failure = onFailure;
    if (canary) body.canary = { component_id: canary.component_id, percent: canary.percent };
    return api('PUT', `${base}/bindings/${hook}`, body);
  }

  async function bind(hook, id, onFailure, errorRoot) {
    const b = binding(hook);
    const keepCanary = b.canary && b.canary.component_id !== id ? b.canary : null;
    const ok = await confirmDialog(
      `Bind ${shortId(id)} to ${hook}?`,
      h`<p>New ${hook} calls use <code>${shortId(id)}</code> on every server within a second; calls already running finish on the old one.</p>
        ${b.canary ? (keepCanary ? h`<p>The canary <code>${shortId(b.canary.component_id)}</code> at ${b.canary.percent} % stays.</p>` : h`<p>The canary of this version ends: it becomes the bound one.</p>`) : ''}
        ${b.breaker && b.breaker.state === 'open' ? h`<p>Binding closes the open breaker.</p>` : ''}`,
      'Bind',
    );
    if (!ok) return;
    try {
      await putBinding(hook, id, onFailure || b.on_failure, keepCanary);
      toast(`${hook}: bound ${shortId(id)}`);
      await refresh(hook);
    } catch (err) {
      showError(errorRoot, err);
    }
  }

  on(root, 'click', 'button[data-action]', async (event, button) => {
    const { action, hook } = button.dataset;
    const card = button.closest('.hook-card') || root;
    const b = binding(hook);
    button.disabled = true;
    try {
      if (action === 'bind') {
        await bind(hook, button.dataset.id, null, card);
      } else if (action === 'unbind') {
        const ok = await confirmDialog(
          `Unbind ${hook}?`,
          h`<p>The platform default serves ${hook} again; <code>${shortId(b.bound_component_id)}</code> stays stored for a later bind.${b.canary ? ' The canary ends too.' : ''}</p>`,
          'Unbind',
        );
        if (!ok) return;
        await api('DELETE', `${base}/bindings/${hook}`);
        toast(`${hook}: back to the platform default`);
        await refresh(hook);
      } else if (action === 'rollback') {
        const previous = button.dataset.previous;
        const ok = await confirmDialog(
          `Roll ${hook} back?`,
          previous
            ? h`<p>Bind <code>${shortId(previous)}</code> again, the version bound before <code>${shortId(b.bound_component_id)}</code>.</p>`
            : h`<p>Before <code>${shortId(b.bound_component_id)}</code> the platform default served ${hook}: unbind it.</p>`,
          'Roll back',
        );
        if (!ok) return;
        if (previous) {
          const keep = b.canary && b.canary.component_id !== previous ? b.canary : null;
          await putBinding(hook, previous, b.on_failure, keep);
        } else {
          await api('DELETE', `${base}/bindings/${hook}`);
        }
        toast(`${hook}: rolled back to ${previous ? shortId(previous) : 'the platform default'}`);
        await refresh(hook);
      } else if (action === 'stop-canary') {
        const ok = await confirmDialog(`Remove the ${hook} canary?`, h`<p>Every customer gets <code>${shortId(b.bound_component_id)}</code> again.</p>`, 'Remove canary');
        if (!ok) return;
        await putBinding(hook, b.bound_component_id, b.on_failure, null);
        toast(`${hook}: canary removed`);
        await refresh(hook);
      } else if (action === 'stop-shadow') {
        const ok = await confirmDialog(`Stop the ${hook} shadow?`, h`<p>Its counts and examples are dropped.</p>`, 'Stop shadow');
        if (!ok) return;
        await api('DELETE', `${base}/shadows/${hook}`);
        toast(`${hook}: shadow stopped`);
        await refresh(hook);
      }
    } catch (err) {
      showError(card, err);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });

  on(root, 'submit', 'form[data-form]', async (event, form) => {
    event.preventDefault();
    const hook = form.dataset.hook;
    const kind = form.dataset.form;
    const card = form.closest('.hook-card');
    const b = binding(hook);
    const submit = form.querySelector('button[type=submit]');
    const id = form.elements.component_id.value;
    try {
      if (kind === 'bind') {
        await bind(hook, id, form.elements.on_failure.value, card);
        return;
      }
      if (kind === 'canary') {
        const percent = Number.parseInt(form.elements.percent.value, 10);
        if (!(percent >= 1 && percent <= 99)) {
          showError(card, new Error('The canary share is a whole percentage between 1 and 99.'));
          form.elements.percent.focus();
          return;
        }
        submit.disabled = true;
        await putBinding(hook, b.bound_component_id, b.on_failure, { component_id: id, percent });
        toast(`${hook}: canary ${shortId(id)} on ${percent} % of customers`);
      } else if (kind === 'shadow') {
        const sample = Number.parseInt(form.elements.sample_percent.value, 10);
        if (!(sample >= 1 && sample <= 100)) {
          showError(card, new Error('The shadow sample is a whole percentage between 1 and 100.'));
          form.elements.sample_percent.focus();
          return;
        }
        submit.disabled = true;
        await api('PUT', `${base}/shadows/${hook}`, { component_id: id, sample_percent: sample });
        toast(`${hook}: shadowing ${shortId(id)} on ${sample} % of calls`);
      }
      await refresh(hook);
    } catch (err) {
      showError(card, err);
    } finally {
      if (submit.isConnected) submit.disabled = false;
    }
  });

  uploadForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const card = root.querySelector('#upload-card');
    const hook = uploadForm.elements.hook.value;
    const file = uploadForm.elements.file.files[0];
    if (!file) {
      showError(card, new Error('Choose a .wasm file first.'));
      uploadForm.elements.file.focus();
      return;
    }
    const submit = uploadForm.querySelector('button');
    submit.disabled = true;
    submit.textContent = 'Uploading…';
    const result = root.querySelector('#upload-result');
    mount(result, h`<p class="muted">Uploading ${file.name} and running the hook's fixtures…</p>`);
    try {
      const res = await api('POST', `${base}/components?hook=${encodeURIComponent(hook)}`, file, { type: 'application/wasm' });
      clearError(card);
      const f = res.fixtures || {};
      mount(
        result,
        h`<p class="notice" data-id="${res.id}">${res.bound ? 'Already stored and bound' : 'Stored'}: <a href="#/components/${res.id}"><code>${shortId(res.id)}</code></a> for ${res.hook},
            ${f.passed ?? 0} fixtures passed${f.cases_passed ? `, ${f.cases_passed} test cases` : ''}${f.fuel_max ? `, fuel at most ${num(f.fuel_max)}` : ''}.
            ${res.bound ? '' : h`<button type="button" data-action="bind" data-hook="${res.hook}" data-id="${res.id}">Bind it now</button>`}</p>`,
      );
      toast(`Uploaded ${file.name} as ${shortId(res.id)}`);
      uploadForm.elements.file.value = '';
      await refresh();
    } catch (err) {
      result.replaceChildren();
      showError(card, err);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Upload';
    }
  });

  await refresh();
}
