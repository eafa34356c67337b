// Webhook endpoints of the selected chain (GET/POST/DELETE /chains/{id}/webhooks, a new secret
// with POST …/secret) and each endpoint's deliveries (…/deliveries, newest first, with
// redeliver). A secret is shown once, right after it is made, and never kept by the page.

import { api, h, mount, on, showError, toast, confirmDialog, problemText, dateTime, ago, badge, options } from '../lib.js';
import { cardTables } from './bookings.js';

// The event kinds the API knows (docs/webhooks.md); the server checks them again.
const KINDS = [
  'booking.held',
  'booking.confirmed',
  'booking.cancelled',
  'booking.expired',
  'payment.succeeded',
  'payment.refunded',
  'show.cancelled',
  'waitlist.joined',
  'waitlist.left',
  'waitlist.offered',
  'waitlist.offer_expired',
  'checkin.accepted',
  'component.bound',
  'component.unbound',
  'component.breaker_tripped',
  'component.canary_rolled_back',
];

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'webhooks';
  main.append(section);
  if (!ctx.chain) {
    mount(section, h`<h1>Webhooks</h1><p class="notice">There is no chain yet: webhook endpoints belong to a chain.</p>`);
    return;
  }
  const base = `/chains/${ctx.chain.id}/webhooks`;
  mount(
    section,
    h`<h1>Webhooks</h1>
      <p class="muted">${ctx.chain.name}'s endpoints: each gets a signed POST per event (see docs/webhooks.md for verifying the signature).</p>
      <p role="alert" class="alert" hidden></p>
      <div id="wh-secret" aria-live="polite"></div>
      <div id="wh-list"><p class="loading">Loading…</p></div>
      <details class="card" id="wh-new">
        <summary>New endpoint</summary>
        <form id="wh-form" class="stack">
          <label for="wh-url">URL (http or https, a public host)</label>
          <input id="wh-url" name="url" type="url" required maxlength="2048" placeholder="https://example.com/cineflow">
          <label for="wh-desc">Description (optional, at most 200 characters)</label>
          <input id="wh-desc" name="description" maxlength="200">
          <fieldset class="wh-kinds">
            <legend>Events</legend>
            <p class="actions"><button type="button" class="secondary" id="wh-all">Tick all</button><button type="button" class="secondary" id="wh-none">Untick all</button></p>
            ${KINDS.map((k) => h`<label class="wh-kind"><input type="checkbox" name="events" value="${k}" ${k.startsWith('booking.') ? 'checked' : ''}> <code>${k}</code></label>`)}
          </fieldset>
          <div class="actions"><button type="submit">Create endpoint</button></div>
        </form>
      </details>
      <div id="wh-deliveries" aria-live="polite"></div>`,
  );
  const list = section.querySelector('#wh-list');
  const form = section.querySelector('#wh-form');
  const secretBox = section.querySelector('#wh-secret');
  const deliveriesBox = section.querySelector('#wh-deliveries');
  const alertBox = section.querySelector('[role="alert"]');
  let endpoints = [];
  // The endpoint whose deliveries are open, its filter and the cursors of the pages seen.
  let open = null;

  function showSecret(endpoint, secret, why) {
    mount(
      secretBox,
      h`<div class="notice wh-secret">
          <p><strong>${why}</strong> The signing secret of <code>${endpoint.url}</code> is shown only now; store it where your receiver reads it:</p>
          <p><code class="wh-secret-value" id="wh-secret-value">${secret}</code></p>
          <div class="actions">
            <button type="button" class="secondary" id="wh-copy">Copy secret</button>
            <button type="button" class="secondary" id="wh-hide">I have stored it, hide it</button>
          </div>
        </div>`,
    );
    secretBox.querySelector('#wh-copy').focus();
  }
  on(secretBox, 'click', '#wh-copy', async () => {
    try {
      await navigator.clipboard.writeText(secretBox.querySelector('#wh-secret-value').textContent);
      toast('Secret copied.');
    } catch {
      toast('Copying is not allowed here: select the secret and copy it.', 'error');
    }
  });
  on(secretBox, 'click', '#wh-hide', () => secretBox.replaceChildren());

  async function loadEndpoints() {
    try {
      // This list comes whole, as a bare array (not a page); accept a page too.
      const page = await api('GET', base);
      endpoints = Array.isArray(page) ? page : page.items || [];
      paintEndpoints();
    } catch (err) {
      mount(list, h`<p class="alert">${err.status === 404 ? `You are not staff of ${ctx.chain.name}: the API shows nothing of its webhooks (${problemText(err)}).` : `Endpoints: ${problemText(err)}`}</p>`);
    }
  }

  function paintEndpoints() {
    if (!endpoints.length) {
      mount(list, h`<p class="muted">No endpoints yet.</p>`);
      return;
    }
    mount(
      list,
      h`<div class="table-wrap"><table class="cards">
          <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
          <tbody>${endpoints.map(
            (e) => h`<tr data-id="${e.id}" class="${open && open.id === e.id ? 'wh-open' : ''}">
              <td><code class="wh-url">${e.url}</code>${e.description ? h`<br><span class="muted">${e.description}</span>` : ''}</td>
              <td>${e.events.map((k) => h`<span class="badge">${k}</span> `)}</td>
              <td>${dateTime(e.created_at)}</td>
              <td class="wh-actions">
                <button type="button" data-deliveries="${e.id}">Deliveries</button>
                <button type="button" class="secondary" data-rotate="${e.id}">New secret</button>
                <button type="button" class="danger" data-delete="${e.id}">Delete</button>
              </td>
            </tr>`,
          )}</tbody>
        </table></div>`,
    );
    cardTables(list);
  }

  on(form, 'click', '#wh-all', () => form.querySelectorAll('input[name="events"]').forEach((i) => (i.checked = true)));
  on(form, 'click', '#wh-none', () => form.querySelectorAll('input[name="events"]').forEach((i) => (i.checked = false)));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
    if (!events.length) return showError(section, new Error('Tick at least one event.'));
    const body = { url: form.elements.url.value.trim(), events };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const created = await api('POST', base, body);
      alertBox.hidden = true;
      toast('Endpoint created.');
      form.elements.url.value = '';
      form.elements.description.value = '';
      section.querySelector('#wh-new').open = false;
      await loadEndpoints();
      showSecret(created, created.secret, 'Endpoint created.');
    } catch (err) {
      showError(section, err);
    } finally {
      button.disabled = false;
    }
  });

  on(list, 'click', 'button[data-rotate]', async (_e, button) => {
    const endpoint = endpoints.find((e) => e.id === button.dataset.rotate);
    const ok = await confirmDialog(
      'Make a new signing secret?',
      h`<p>The current secret of <code>${endpoint.url}</code> stops signing at once: deliveries signed with the new one fail verification until the receiver has it.</p>`,
      'Make new secret',
    );
    if (!ok) return;
    try {
      const { secret } = await api('POST', `${base}/${endpoint.id}/secret`);
      alertBox.hidden = true;
      toast('New secret made: store it now.');
      showSecret(endpoint, secret, 'New secret made.');
    } catch (err) {
      showError(section, err);
    }
  });

  on(list, 'click', 'button[data-delete]', async (_e, button) => {
    const endpoint = endpoints.find((e) => e.id === button.dataset.delete);
    const ok = await confirmDialog(
      'Delete this endpoint?',
      h`<p><code>${endpoint.url}</code> gets no more events; its pending deliveries become failed (“endpoint deleted”).</p>`,
      'Delete endpoint',
    );
    if (!ok) return;
    try {
      await api('DELETE', `${base}/${endpoint.id}`);
      alertBox.hidden = true;
      toast('Endpoint deleted.');
      if (open && open.id === endpoint.id) {
        open = null;
        deliveriesBox.replaceChildren();
      }
      await loadEndpoints();
    } catch (err) {
      showError(section, err);
    }
  });

  on(list, 'click', 'button[data-deliveries]', (_e, button) => {
    const endpoint = endpoints.find((e) => e.id === button.dataset.deliveries);
    open = { id: endpoint.id, url: endpoint.url, status: '', cursors: [null], index: 0 };
    paintEndpoints();
    loadDeliveries(0).then(() => deliveriesBox.querySelector('h2')?.focus());
  });

  async function loadDeliveries(index) {
    if (!open) return;
    const params = new URLSearchParams({ limit: '25' });
    if (open.status) params.set('status', open.status);
    if (open.cursors[index]) params.set('cursor', open.cursors[index]);
    try {
      const page = await api('GET', `${base}/${open.id}/deliveries?${params}`);
      open.cursors = open.cursors.slice(0, index + 1);
      if (page.next_cursor) open.cursors[index + 1] = page.next_cursor;
      open.index = index;
      paintDeliveries(page.items || [], index, Boolean(page.next_cursor));
    } catch (err) {
      mount(deliveriesBox, h`<p class="alert">Deliveries: ${problemText(err)}</p>`);
    }
  }

  function paintDeliveries(items, index, more) {
    mount(
      deliveriesBox,
      h`<div class="card">
          <h2 tabindex="-1">Deliveries to <code class="wh-url">${open.url}</code></h2>
          <form class="inline" id="wh-filter">
            <div>
              <label for="wh-status">Status</label>
              <select id="wh-status" name="status">${options(
                [['', 'Any'], ['pending', 'pending'], ['sent', 'sent'], ['failed', 'failed']],
                open.status,
              )}</select>
            </div>
            <button type="submit" class="secondary">Filter</button>
            <button type="button" class="secondary" id="wh-refresh">Refresh</button>
          </form>
          ${
            items.length
              ? h`<div class="table-wrap"><table class="cards">
                  <thead><tr>
                    <th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th>
                    <th scope="col">Last response</th><th scope="col">Next attempt</th><th scope="col">Created</th><th scope="col">Action</th>
                  </tr></thead>
                  <tbody>${items.map(
                    (d) => h`<tr data-id="${d.id}">
                      <td><code>${d.event}</code><br><span class="muted wh-event-id" title="event id">${d.event_id}</span></td>
                      <td>${badge(d.status)}</td>
                      <td class="num">${d.attempts}</td>
                      <td>${d.last_status_code != null ? h`HTTP <strong>${d.last_status_code}</strong>` : ''}${d.last_error ? h`<br><span class="wh-error">${d.last_error}</span>` : ''}${d.last_status_code == null && !d.last_error ? '—' : ''}</td>
                      <td>${d.status === 'pending' ? ago(d.next_attempt_at) : '—'}</td>
                      <td>${dateTime(d.created_at)}</td>
                      <td><button type="button" class="secondary" data-redeliver="${d.id}">Redeliver</button></td>
                    </tr>`,
                  )}</tbody>
                </table></div>`
              : h`<p class="muted">No deliveries${open.status ? ` with status ${open.status}` : ''} yet.</p>`
          }
          <div class="actions">
            ${index > 0 ? h`<button type="button" class="secondary" data-dpage="${index - 1}">Newer</button>` : ''}
            ${more ? h`<button type="button" class="secondary" data-dpage="${index + 1}">Older</button>` : ''}
          </div>
        </div>`,
    );
    cardTables(deliveriesBox);
  }

  on(deliveriesBox, 'submit', '#wh-filter', (event, f) => {
    event.preventDefault();
    open.status = f.elements.status.value;
    open.cursors = [null];
    loadDeliveries(0);
  });
  on(deliveriesBox, 'click', '#wh-refresh', () => loadDeliveries(open.index));
  on(deliveriesBox, 'click', 'button[data-dpage]', (_e, b) => loadDeliveries(Number(b.dataset.dpage)));
  on(deliveriesBox, 'click', 'button[data-redeliver]', async (_e, button) => {
    button.disabled = true;
    try {
      await api('POST', `${base}/${open.id}/deliveries/${button.dataset.redeliver}/redeliver`);
      alertBox.hidden = true;
      toast('Delivery queued again, with a fresh budget of attempts.');
      await loadDeliveries(open.index);
    } catch (err) {
      showError(section, err);
      button.disabled = false;
    }
  });

  await loadEndpoints();
}
