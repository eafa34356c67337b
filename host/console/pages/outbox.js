// The email outbox (GET /notifications, by status: pending, sending, sent, failed), one email's
// delivery state (GET /notifications/{id}) and retrying a failed one
// (POST /notifications/{id}/retry: pending again, due at once, attempts back to 0).
// The list is the admins' (the API answers 403 to anyone else); an owner may still retry a
// failed email of their chain, which is what the retry-by-id form is for.

import { api, h, mount, on, showError, toast, problemText, dateTime, ago, badge, options } from '../lib.js';
import { cardTables } from './bookings.js';

let last = { status: 'failed', cursors: [null], index: 0 };

function retryProblem(err) {
  if (err.status === 405) return 'This server has no retry endpoint yet (an older binary): POST /notifications/{id}/retry answered 405.';
  if (err.code === 'notification_not_failed') return `Not retried: ${err.detail || 'only a failed email can be retried'}.`;
  if (err.status === 404) return `No such email that you may retry (or this server is older and has no retry endpoint): ${problemText(err)}`;
  return problemText(err);
}

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'outbox';
  main.append(section);
  const chainName = (id) => (id ? (ctx.chains || []).find((c) => c.id === id)?.name || `${id.slice(0, 8)}…` : 'platform');
  mount(
    section,
    h`<h1>Email outbox</h1>
      <p class="muted">Every email Cineflow sends goes through this queue: pending until a sender takes it, then sent, or failed after its last attempt.</p>
      <p role="alert" class="alert" hidden></p>
      <div id="ob-body"></div>
      <div id="ob-detail" aria-live="polite"></div>`,
  );
  const body = section.querySelector('#ob-body');
  const detail = section.querySelector('#ob-detail');
  const alertBox = section.querySelector('[role="alert"]');

  // Admins see every chain's and the platform's mail; chain staff their chain's
  // (GET /notifications?chain_id=).
  const admin = ctx.user.role === 'admin';
  if (!admin && !ctx.chain) {
    mount(body, h`<p class="notice">You are not on the staff of any chain yet, so there is no outbox to show.</p>`);
    return;
  }
  const seen = new Map();

  mount(
    body,
    h`<form id="ob-filter" class="inline card">
        <div>
          <label for="ob-status">Status</label>
          <select id="ob-status" name="status">${options(
            [['', 'Any'], ['pending', 'pending'], ['sending', 'sending'], ['failed', 'failed'], ['sent', 'sent']],
            last.status,
          )}</select>
        </div>
        <button type="submit">Show</button>
        <button type="button" class="secondary" id="ob-refresh">Refresh</button>
      </form>
      <div id="ob-list" aria-live="polite"><p class="loading">Loading…</p></div>`,
  );
  const list = body.querySelector('#ob-list');

  async function load(index) {
    const params = new URLSearchParams({ limit: '50' });
    if (!admin) params.set('chain_id', ctx.chain.id);
    if (last.status) params.set('status', last.status);
    if (last.cursors[index]) params.set('cursor', last.cursors[index]);
    try {
      const page = await api('GET', `/notifications?${params}`);
      alertBox.hidden = true;
      last.cursors = last.cursors.slice(0, index + 1);
      if (page.next_cursor) last.cursors[index + 1] = page.next_cursor;
      last.index = index;
      for (const item of page.items || []) seen.set(item.id, item);
      paint(page.items || [], index, Boolean(page.next_cursor));
    } catch (err) {
      if (err.status === 403) mount(list, h`<p class="notice">Admins only: the API refused the outbox list (${problemText(err)}).</p>`);
      else showError(section, err);
    }
  }

  function paint(items, index, more) {
    mount(
      list,
      h`${
        items.length
          ? h`<div class="table-wrap"><table class="cards">
              <thead><tr>
                <th scope="col">Subject</th><th scope="col">Kind</th><th scope="col">To</th><th scope="col">Chain</th>
                <th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th>
                <th scope="col">Queued</th><th scope="col">Actions</th>
              </tr></thead>
              <tbody>${items.map(
                (n) => h`<tr data-id="${n.id}">
                  <td>${n.subject || h`<span class="muted">(from template)</span>`}</td>
                  <td class="ob-kind"><code>${n.kind}</code></td>
                  <td class="ob-to">${n.recipient_emails.slice(0, 2).join(', ')}${n.recipient_emails.length > 2 ? ` +${n.recipient_emails.length - 2}` : ''}</td>
                  <td>${chainName(n.chain_id)}</td>
                  <td>${badge(n.status)}</td>
                  <td class="num">${n.attempts}</td>
                  <td class="ob-error">${n.last_error || '—'}</td>
                  <td>${dateTime(n.created_at)}</td>
                  <td class="ob-actions">
                    <button type="button" class="secondary" data-detail="${n.id}">Details</button>
                    ${n.status === 'failed' ? h`<button type="button" data-retry="${n.id}">Retry</button>` : ''}
                  </td>
                </tr>`,
              )}</tbody>
            </table></div>`
          : h`<p class="muted">No ${last.status || ''} emails${index ? ' on this page' : ''}.</p>`
      }
      <div class="actions">
        ${index > 0 ? h`<button type="button" class="secondary" data-page-to="${index - 1}">Previous page</button>` : ''}
        ${more ? h`<button type="button" class="secondary" data-page-to="${index + 1}">Next page</button>` : ''}
      </div>`,
    );
    cardTables(list);
  }

  async function showDetail(id) {
    try {
      // One email by id is an admin's read; staff see the copy their chain's list gave.
      const n = admin || !seen.has(id) ? await api('GET', `/notifications/${id}`) : seen.get(id);
      mount(
        detail,
        h`<div class="card ob-detail" data-id="${n.id}">
            <h2 tabindex="-1">${n.subject || n.kind}</h2>
            <dl class="ob-facts">
              <dt>Status</dt><dd>${badge(n.status)}</dd>
              <dt>Kind</dt><dd><code>${n.kind}</code></dd>
              <dt>To</dt><dd>${n.recipient_emails.join(', ')}</dd>
              <dt>Chain</dt><dd>${chainName(n.chain_id)}</dd>
              <dt>Attempts</dt><dd>${n.attempts}</dd>
              <dt>Last error</dt><dd>${n.last_error || '—'}</dd>
              <dt>Next attempt</dt><dd>${n.status === 'pending' || n.status === 'sending' ? `${dateTime(n.next_attempt_at)} (${ago(n.next_attempt_at)})` : '—'}</dd>
              <dt>Sent</dt><dd>${n.sent_at ? dateTime(n.sent_at) : '—'}</dd>
              <dt>Queued</dt><dd>${dateTime(n.created_at)}</dd>
              <dt>Message-ID</dt><dd><code class="ob-wrap">${n.message_id}</code></dd>
              <dt>Id</dt><dd><code class="ob-wrap">${n.id}</code></dd>
            </dl>
            <div class="actions">
              ${n.status === 'failed' ? h`<button type="button" data-retry="${n.id}">Retry this email</button>` : ''}
              <button type="button" class="secondary" id="ob-close">Close</button>
            </div>
          </div>`,
      );
      detail.querySelector('h2').focus();
    } catch (err) {
      showError(section, err);
    }
  }

  body.querySelector('#ob-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    last.status = event.currentTarget.elements.status.value;
    last.cursors = [null];
    load(0);
  });
  body.querySelector('#ob-refresh').addEventListener('click', () => load(last.index));
  on(list, 'click', 'button[data-page-to]', (_e, b) => load(Number(b.dataset.pageTo)));
  on(list, 'click', 'button[data-detail]', (_e, b) => showDetail(b.dataset.detail));
  on(detail, 'click', '#ob-close', () => detail.replaceChildren());
  on(section, 'click', 'button[data-retry]', async (_e, button) => {
    const id = button.dataset.retry;
    button.disabled = true;
    try {
      const n = await api('POST', `/notifications/${id}/retry`);
      alertBox.hidden = true;
      toast(`Email queued again (${n.status}).`);
      await load(last.index);
      if (detail.querySelector(`[data-id="${id}"]`)) await showDetail(id);
    } catch (err) {
      showError(section, new Error(retryProblem(err)));
      button.disabled = false;
    }
  });

  await load(Math.min(last.index, last.cursors.length - 1));
}
