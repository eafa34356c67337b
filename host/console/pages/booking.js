// One booking: what was sold (GET /bookings/{id}), the show it is for, its tickets with their QR
// codes, its timeline (GET /bookings/{id}/audit), its receipt (every component decision with the
// exact input, checked here against its sha256 and, on request, re-run in the server's sandbox)
// and a whole or partial cancellation (POST /bookings/{id}/cancel, {seat_ids} for some seats).

import { api, h, mount, on, showError, toast, confirmDialog, problemText, money, dateTime, badge } from '../lib.js';

/** JSON with every object's keys sorted and no spaces: what the receipt's input_sha256 hashes. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function sha256Hex(text) {
  if (!globalThis.crypto || !crypto.subtle) return null; // only in secure contexts (https, localhost)
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The dry-run form of a decision's input: booking-rules inputs also name their function. */
function runnableInput(decision) {
  const input = decision.input;
  if (decision.hook === 'booking-rules' && input && typeof input === 'object' && !('function' in input)) {
    return { function: decision.function, ...input };
  }
  return input;
}

function shortId(id) {
  return id ? `${id.slice(0, 8)}…${id.slice(-4)}` : '—';
}

function shortSha(sha) {
  return sha ? `${sha.slice(0, 12)}…` : '—';
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

export async function render(main, [id], ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'booking';
  main.append(section);
  mount(
    section,
    h`<p><a href="#/bookings">← Bookings</a></p>
      <h1>Booking <code>${shortId(id)}</code></h1>
      <p role="alert" class="alert" hidden></p>
      <div id="bk-summary"><p class="loading">Loading the booking…</p></div>
      <div id="bk-cancel"></div>
      <h2 id="bk-tickets-h">Tickets</h2>
      <div id="bk-tickets"><p class="loading">Loading…</p></div>
      <h2 id="bk-timeline-h">Timeline</h2>
      <div id="bk-timeline"><p class="loading">Loading…</p></div>
      <h2 id="bk-receipt-h">Receipt</h2>
      <div id="bk-receipt"><p class="loading">Loading…</p></div>`,
  );
  const parts = {
    summary: section.querySelector('#bk-summary'),
    cancel: section.querySelector('#bk-cancel'),
    tickets: section.querySelector('#bk-tickets'),
    timeline: section.querySelector('#bk-timeline'),
    receipt: section.querySelector('#bk-receipt'),
  };
  let booking = null;
  let receipt = null;
  let lastCancel = null; // the answer of the cancellation made on this page, shown until reload

  async function loadBooking() {
    try {
      booking = await api('GET', `/bookings/${id}`);
    } catch (err) {
      if (err.status === 404) {
        mount(parts.summary, h`<p class="notice">No booking ${id} that you may see: it does not exist or belongs to another chain.</p>`);
        for (const k of ['cancel', 'tickets', 'timeline', 'receipt']) parts[k].replaceChildren();
        section.querySelectorAll('h2').forEach((el) => (el.hidden = true));
        return false;
      }
      showError(section, err);
      mount(parts.summary, h`<p class="muted">The booking could not be read.</p>`);
      return false;
    }
    let show = null;
    let movie = null;
    let theatre = null;
    try {
      show = await api('GET', `/shows/${booking.show_id}`);
      [movie, theatre] = await Promise.all([
        api('GET', `/movies/${show.movie_id}`).catch(() => null),
        api('GET', `/theatres/${show.theatre_id}`).catch(() => null),
      ]);
    } catch {
      /* the booking stands on its own; the show's name is a convenience */
    }
    if (ctx.chain && booking.chain_id !== ctx.chain.id) {
      const owner = (ctx.chains || []).find((c) => c.id === booking.chain_id);
      booking._otherChain = owner ? owner.name : booking.chain_id;
    }
    paintSummary(show, movie, theatre);
    paintCancel();
    return true;
  }

  function paintSummary(show, movie, theatre) {
    const b = booking;
    const cur = b.currency;
    mount(
      parts.summary,
      h`${b._otherChain ? h`<p class="notice">This booking belongs to chain ${b._otherChain}, not the chain selected above.</p>` : ''}
        <dl class="stats bk-stats">
          <div><dt>Status</dt><dd>${badge(b.status)}</dd></div>
          <div><dt>Total</dt><dd>${money(b.total_minor, cur)}</dd></div>
          <div><dt>Refunded</dt><dd>${money(b.refund_minor || 0, cur)}</dd></div>
          <div><dt>Seats</dt><dd>${b.seats.length ? b.seats.join(', ') : '—'}</dd></div>
        </dl>
        <div class="card">
          <dl class="bk-facts">
            <dt>Show</dt>
            <dd>${
              show
                ? h`<a href="#/shows/${show.id}">${movie ? movie.title : 'Show'} · ${dateTime(show.starts_at)}</a>${theatre ? ` · ${theatre.name}` : ''} ${show.status === 'cancelled' ? badge('cancelled') : ''}`
                : h`<code>${b.show_id}</code>`
            }</dd>
            <dt>Booking id</dt><dd><code class="bk-wrap">${b.id}</code></dd>
            <dt>Customer</dt><dd><code class="bk-wrap">${b.user_id}</code></dd>
            <dt>Created</dt><dd>${dateTime(b.created_at)}</dd>
            ${b.status === 'held' ? h`<dt>Hold expires</dt><dd>${dateTime(b.expires_at)}</dd>` : ''}
            ${b.voucher_code || b.promo_code ? h`<dt>Voucher</dt><dd><code>${b.voucher_code || b.promo_code}</code>${b.discount_minor ? ` (−${money(b.discount_minor, cur)})` : ''}</dd>` : ''}
          </dl>
          <h3>Line items</h3>
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Item</th><th scope="col">Seat</th><th scope="col" class="num">Amount</th></tr></thead>
            <tbody>
              ${b.items.map((it) => h`<tr><td>${it.label}</td><td>${it.seat_id || '—'}</td><td class="num">${money(it.amount_minor, cur)}</td></tr>`)}
              <tr class="bk-total"><td>Total</td><td></td><td class="num">${money(b.total_minor, cur)}</td></tr>
            </tbody>
          </table></div>
        </div>`,
    );
  }

  function paintCancel() {
    const b = booking;
    const done = lastCancel
      ? h`<p class="notice" role="status">${lastCancel.text}</p>`
      : '';
    if (b.status !== 'confirmed' && b.status !== 'held') {
      mount(parts.cancel, done ? h`<div class="card">${done}</div>` : '');
      return;
    }
    const partial = b.status === 'confirmed' && b.seats.length > 1;
    mount(
      parts.cancel,
      h`<form class="card stack" id="bk-cancel-form">
          <h2>Cancel</h2>
          ${done}
          <p class="muted">The chain's booking rules decide the refund; the refund the API reports is shown here afterwards.
            ${b.status === 'held' ? ' A hold can only be cancelled whole.' : ''}</p>
          ${
            partial
              ? h`<fieldset class="bk-seats">
                  <legend>Seats to cancel (leave all unticked, or tick all, for the whole booking)</legend>
                  ${b.seats.map(
                    (s) => h`<label class="bk-seat"><input type="checkbox" name="seat" value="${s}"> ${s}</label>`,
                  )}
                </fieldset>`
              : ''
          }
          <div class="actions">
            ${partial ? h`<button type="submit" class="danger" data-mode="some">Cancel ticked seats</button>` : ''}
            <button type="submit" class="danger" data-mode="all">Cancel whole booking</button>
          </div>
        </form>`,
    );
    const form = parts.cancel.querySelector('form');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const mode = event.submitter ? event.submitter.dataset.mode : 'all';
      const ticked = [...form.querySelectorAll('input[name="seat"]:checked')].map((i) => i.value);
      if (mode === 'some' && !ticked.length) {
        showError(section, new Error('Tick the seats to cancel first, or use “Cancel whole booking”.'));
        return;
      }
      const some = mode === 'some' && ticked.length < b.seats.length;
      const seats = some ? ticked : b.seats;
      const ok = await confirmDialog(
        some ? `Cancel ${seats.length} of ${b.seats.length} seats?` : 'Cancel the whole booking?',
        h`<p>Seats <strong>${seats.join(', ')}</strong> of booking <code>${shortId(b.id)}</code> are released at once and the customer is emailed.</p>
          <p>${b.status === 'held' ? 'It is unpaid: nothing is charged, nothing is refunded.' : `Paid ${money(b.total_minor, b.currency)}; the chain's booking rules decide what is refunded.`}</p>`,
        some ? 'Cancel these seats' : 'Cancel booking',
      );
      if (!ok) return;
      for (const button of form.querySelectorAll('button')) button.disabled = true;
      try {
        const answer = await api('POST', `/bookings/${b.id}/cancel`, some ? { seat_ids: seats } : {});
        const refund = some ? answer.refund_minor : (answer.refund_minor ?? 0) - (b.refund_minor || 0);
        const text = `Cancelled ${some ? `seats ${seats.join(', ')}` : 'the booking'}: refund ${money(refund, answer.currency)}${
          some ? `; ${answer.seats.length} seat(s) kept, new total ${money(answer.total_minor, answer.currency)}` : ''
        }.`;
        lastCancel = { text };
        toast(text);
        section.querySelector('[role="alert"]').hidden = true;
        await refreshAll();
      } catch (err) {
        showError(section, err);
        for (const button of form.querySelectorAll('button')) button.disabled = false;
      }
    });
  }

  async function loadTickets() {
    try {
      const { items } = await api('GET', `/bookings/${id}/tickets`);
      if (!items.length) {
        mount(parts.tickets, h`<p class="muted">No tickets: they are issued when the booking is paid.</p>`);
        return;
      }
      mount(
        parts.tickets,
        h`<ul class="bk-tickets">
          ${items.map(
            (t) => h`<li class="card bk-ticket" data-id="${t.id}">
              <img src="/api/v1/tickets/${t.id}/qr.svg" alt="QR code of the ticket for seat ${t.seat_id}" width="132" height="132">
              <div>
                <p class="bk-ticket-seat">Seat <strong>${t.seat_id}</strong> ${badge(t.status)}</p>
                <p class="muted">${t.checked_in_at ? `Checked in ${dateTime(t.checked_in_at)}` : t.status === 'valid' ? 'Not checked in yet' : ''}</p>
                <details><summary>Ticket code</summary><code class="bk-wrap">${t.code}</code></details>
                <p><a href="/api/v1/tickets/${t.id}/qr.png" download="ticket-${t.seat_id}.png">QR as PNG</a></p>
              </div>
            </li>`,
          )}
        </ul>`,
      );
    } catch (err) {
      mount(parts.tickets, h`<p class="alert">Tickets: ${problemText(err)}</p>`);
    }
  }

  async function loadTimeline() {
    try {
      const { items } = await api('GET', `/bookings/${id}/audit`);
      if (!items.length) {
        mount(parts.timeline, h`<p class="muted">Nothing recorded.</p>`);
        return;
      }
      mount(
        parts.timeline,
        h`<ol class="bk-timeline">
          ${items.map(
            (e) => h`<li>
              <time datetime="${e.at}">${dateTime(e.at)}</time>
              <div>
                <strong>${e.kind}</strong>
                ${e.from_status || e.to_status ? h` ${e.from_status ? badge(e.from_status) : ''} → ${e.to_status ? badge(e.to_status) : ''}` : ''}
                ${
                  e.hook
                    ? h`<p class="muted">${e.hook} · component <code title="${e.component_id || ''}">${shortSha(e.component_id)}</code>${
                        e.fuel_used != null ? ` · ${e.fuel_used.toLocaleString()} fuel` : ''
                      }${e.duration_us != null ? ` · ${(e.duration_us / 1000).toFixed(2)} ms` : ''}</p>`
                    : ''
                }
                ${e.actor_id ? h`<p class="muted">by <code>${shortId(e.actor_id)}</code></p>` : ''}
                ${
                  e.detail && Object.keys(e.detail).length
                    ? h`<details><summary>Detail</summary><pre>${pretty(e.detail)}</pre></details>`
                    : ''
                }
              </div>
            </li>`,
          )}
        </ol>`,
      );
    } catch (err) {
      if (err.status === 404 || err.status === 403) {
        mount(parts.timeline, h`<p class="muted">The timeline is for the chain's staff and admins.</p>`);
      } else mount(parts.timeline, h`<p class="alert">Timeline: ${problemText(err)}</p>`);
    }
  }

  async function loadReceipt() {
    try {
      receipt = await api('GET', `/bookings/${id}/receipt`);
    } catch (err) {
      mount(parts.receipt, h`<p class="alert">Receipt: ${problemText(err)}</p>`);
      return;
    }
    const decisions = receipt.decisions || [];
    const checks = await Promise.all(
      decisions.map(async (d) => {
        const hex = await sha256Hex(canonicalJson(d.input));
        return hex === null ? 'unavailable' : hex === d.input_sha256 ? 'match' : 'mismatch';
      }),
    );
    if (!decisions.length) {
      mount(parts.receipt, h`<p class="muted">No component decisions recorded for this booking.</p>`);
      return;
    }
    // A dry run takes one of the chain's own uploads; the platform defaults are named by GET /hooks.
    const sameChain = Boolean(ctx.chain) && (!booking || booking.chain_id === ctx.chain.id);
    const [uploads, defaults] = await Promise.all([
      sameChain ? api('GET', `/chains/${ctx.chain.id}/components`).then((r) => new Set((Array.isArray(r) ? r : r.items || []).map((c) => c.id))).catch(() => new Set()) : new Set(),
      api('GET', '/hooks').then((r) => new Set((r.items || []).map((k) => k.default_component?.id).filter(Boolean))).catch(() => new Set()),
    ]);
    mount(
      parts.receipt,
      h`<p class="muted">Every decision behind this booking, oldest first: which component decided, on exactly what input, and what it answered.
          Each input is hashed here (sha256 of its compact JSON with sorted keys) and compared with the recorded <code>input_sha256</code>;
          running the same component on the same input reproduces the output bit for bit — here in the server's sandbox (“Re-run”), or locally with
          <code>cineflow component run --hook HOOK --wasm COMPONENT.wasm --input input.json</code>.</p>
        <ol class="bk-receipt">
          ${decisions.map(
            (d, i) => h`<li class="card" data-index="${i}">
              <h3>${d.hook} · ${d.function} ${d.canary ? badge('canary') : ''}</h3>
              <dl class="bk-facts">
                <dt>At</dt><dd>${dateTime(d.at)}</dd>
                <dt>Component</dt><dd><code class="bk-wrap">${d.component_id}</code></dd>
                <dt>Input sha256</dt><dd><code class="bk-wrap">${d.input_sha256}</code>
                  ${
                    checks[i] === 'match'
                      ? h`<span class="badge badge-confirmed bk-verified">✓ matches the input</span>`
                      : checks[i] === 'mismatch'
                        ? h`<span class="badge badge-failed">✗ does not match the input</span>`
                        : h`<span class="badge">not checked (no WebCrypto here: use https or localhost)</span>`
                  }</dd>
                <dt>Answer</dt><dd>${summariseOutput(d)}</dd>
              </dl>
              <details><summary>Input</summary><pre>${pretty(d.input)}</pre></details>
              <details><summary>Output</summary><pre>${pretty(d.output)}</pre></details>
              ${defaults.has(d.component_id) ? h`<p class="muted">The platform's default ${d.hook} component (listed by <code>GET /api/v1/hooks</code>): reproduce it locally with its bytes.</p>` : ''}
              <div class="actions">
                ${uploads.has(d.component_id) ? h`<button type="button" class="secondary" data-rerun="${i}">Re-run in the sandbox</button>` : ''}
                <button type="button" class="secondary" data-download="${i}">Download input.json</button>
              </div>
              <p class="bk-rerun" data-result="${i}" aria-live="polite"></p>
            </li>`,
          )}
        </ol>`,
    );
  }

  function summariseOutput(d) {
    const out = d.output;
    if (out && typeof out === 'object') {
      if ('err' in out) return h`refused: ${String(out.err)}`;
      const ok = 'ok' in out ? out.ok : out;
      if (d.function === 'cancel' && typeof ok === 'number' && booking) return h`refund ${money(ok, booking.currency)}`;
      if (ok && typeof ok === 'object') {
        if ('total_minor' in ok && booking) return h`total ${money(ok.total_minor, booking.currency)}`;
        if ('refund_minor' in ok && booking) return h`refund ${money(ok.refund_minor, booking.currency)}`;
        if (Array.isArray(ok.seat_ids)) return h`seats ${ok.seat_ids.join(', ')}`;
        if ('hold_seconds' in ok) return h`hold allowed for ${Math.round(ok.hold_seconds / 60)} min`;
      }
      return h`<code>${JSON.stringify(ok).slice(0, 120)}</code>`;
    }
    return h`<code>${JSON.stringify(out)}</code>`;
  }

  on(parts.receipt, 'click', 'button[data-download]', (_e, button) => {
    const d = receipt.decisions[Number(button.dataset.download)];
    const blob = new Blob([JSON.stringify(runnableInput(d), null, 2) + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${d.hook}-${d.function}-input.json`;
    document.body.append(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  });

  on(parts.receipt, 'click', 'button[data-rerun]', async (_e, button) => {
    const i = Number(button.dataset.rerun);
    const d = receipt.decisions[i];
    const out = parts.receipt.querySelector(`[data-result="${i}"]`);
    button.disabled = true;
    out.textContent = 'Running…';
    try {
      const res = await api('POST', `/chains/${ctx.chain.id}/components/${d.component_id}/invoke`, { input: runnableInput(d) });
      if (res.error) {
        out.className = 'bk-rerun alert';
        out.textContent = `The component failed: ${res.error.kind}: ${res.error.message}`;
      } else {
        const same = canonicalJson(res.output) === canonicalJson(d.output) || canonicalJson(res.output?.ok) === canonicalJson(d.output);
        out.className = same ? 'bk-rerun notice' : 'bk-rerun alert';
        out.textContent = same
          ? `Reproduced: the component answers the same output (${res.fuel_used.toLocaleString()} fuel, ${(res.duration_us / 1000).toFixed(2)} ms).`
          : `Different output now: ${JSON.stringify(res.output).slice(0, 300)}`;
      }
    } catch (err) {
      out.className = 'bk-rerun alert';
      out.textContent =
        err.status === 404
          ? `This component is not one of the chain's uploads (a platform default cannot be dry-run here): ${problemText(err)}`
          : problemText(err);
    } finally {
      button.disabled = false;
    }
  });

  async function refreshAll() {
    const ok = await loadBooking();
    if (ok) await Promise.all([loadTickets(), loadTimeline(), loadReceipt()]);
  }

  await refreshAll();
}
