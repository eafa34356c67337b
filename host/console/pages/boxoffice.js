// The box office of the selected chain: vouchers (GET/POST /chains/{id}/vouchers, PATCH one to
// switch it off or change its limit and end) and gift cards (GET/POST /chains/{id}/gift-cards,
// one card's movements, and a balance check by code through GET /gift-cards/balance).

import { api, h, mount, on, formData, showError, toast, confirmDialog, problemText, money, dateTime, badge } from '../lib.js';
import { upcomingShows, showLabel, cardTables } from './bookings.js';

/** How many minor units a currency's major unit has (Intl knows; 2 if it does not). */
function digits(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** "12.50" in `currency` → 1250 minor units, or NaN. */
function toMinor(text, currency) {
  const value = Number(String(text).replace(',', '.'));
  if (!Number.isFinite(value)) return Number.NaN;
  return Math.round(value * 10 ** digits(currency));
}

/** A datetime-local value (the browser's zone) as RFC 3339 UTC; '' stays undefined. */
function toIso(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An RFC 3339 time as a datetime-local value in the browser's zone. */
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function discountText(discount, currency) {
  if (!discount) return '—';
  if (discount.percent != null) return `${discount.percent} % off`;
  if (discount.amount_minor != null) return `${money(discount.amount_minor, currency)} off`;
  return JSON.stringify(discount);
}

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'boxoffice';
  main.append(section);
  if (!ctx.chain) {
    mount(section, h`<h1>Vouchers and gift cards</h1><p class="notice">There is no chain yet: vouchers and gift cards belong to a chain.</p>`);
    return;
  }
  const chain = ctx.chain;
  const cur = chain.currency || 'INR';
  const base = `/chains/${chain.id}`;
  mount(
    section,
    h`<h1>Vouchers and gift cards</h1>
      <p class="muted">${chain.name}: promo codes customers type when they book, and prepaid cards that pay first.</p>
      <p role="alert" class="alert" hidden></p>
      <h2 id="vo-h">Vouchers</h2>
      <div id="vo-list"><p class="loading">Loading…</p></div>
      <details class="card" id="vo-new">
        <summary>New voucher</summary>
        <form id="vo-form" class="stack bo-form">
          <label for="vo-code">Code (3 to 32 letters, digits, _ or -)</label>
          <input id="vo-code" name="code" required minlength="3" maxlength="32" pattern="[A-Za-z0-9_\\-]{3,32}" autocomplete="off">
          <fieldset>
            <legend>Discount</legend>
            <label class="bo-inline"><input type="radio" name="kind" value="percent" checked> Percent off</label>
            <label class="bo-inline"><input type="radio" name="kind" value="amount"> Amount off (${cur})</label>
          </fieldset>
          <label for="vo-value">Discount value (percent 1–100, or an amount such as 50.00)</label>
          <input id="vo-value" name="value" inputmode="decimal" required>
          <label for="vo-max">Most redemptions</label>
          <input id="vo-max" name="max_redemptions" type="number" min="1" step="1" value="100" data-type="int" required>
          <label for="vo-from">Valid from (your local time; empty: at once)</label>
          <input id="vo-from" name="valid_from" type="datetime-local">
          <label for="vo-until">Valid until (empty: no end)</label>
          <input id="vo-until" name="valid_until" type="datetime-local">
          <label for="vo-shows">Only for these shows (none ticked: every show of the chain)</label>
          <select id="vo-shows" name="show_ids" multiple size="5"><option disabled>Loading shows…</option></select>
          <div class="actions"><button type="submit">Create voucher</button></div>
        </form>
      </details>
      <h2 id="gc-h">Gift cards</h2>
      <div class="grid two">
        <form id="gc-form" class="card stack">
          <h3>Issue a gift card</h3>
          <label for="gc-amount">Amount (${cur})</label>
          <input id="gc-amount" name="amount" inputmode="decimal" required placeholder="500.00">
          <div class="actions"><button type="submit">Issue card</button></div>
          <div id="gc-issued" aria-live="polite"></div>
        </form>
        <form id="gc-balance" class="card stack">
          <h3>Check a balance by code</h3>
          <label for="gc-code">Gift card code</label>
          <input id="gc-code" name="code" autocomplete="off" spellcheck="false" required>
          <div class="actions"><button type="submit">Check balance</button></div>
          <div id="gc-balance-out" aria-live="polite"></div>
        </form>
      </div>
      <div id="gc-list"><p class="loading">Loading…</p></div>`,
  );
  const voList = section.querySelector('#vo-list');
  const gcList = section.querySelector('#gc-list');
  const voForm = section.querySelector('#vo-form');
  const alertBox = section.querySelector('[role="alert"]');
  let vouchers = [];
  let voCursor = null;
  let cards = [];
  let gcCursor = null;

  upcomingShows(chain.id)
    .then((list) => {
      const select = section.querySelector('#vo-shows');
      mount(select, list.length ? list.map((s) => h`<option value="${s.id}">${showLabel(s)}</option>`) : h`<option disabled>No upcoming shows</option>`);
    })
    .catch(() => {});

  // --- vouchers -------------------------------------------------------------------------

  async function loadVouchers(more = false) {
    try {
      const page = await api('GET', `${base}/vouchers?limit=100${more && voCursor ? `&cursor=${encodeURIComponent(voCursor)}` : ''}`);
      vouchers = more ? vouchers.concat(page.items) : page.items;
      voCursor = page.next_cursor;
      paintVouchers();
    } catch (err) {
      mount(voList, h`<p class="alert">${err.status === 404 ? `You are not staff of ${chain.name}: the API shows nothing of its vouchers (${problemText(err)}).` : `Vouchers: ${problemText(err)}`}</p>`);
    }
  }

  function paintVouchers() {
    if (!vouchers.length) {
      mount(voList, h`<p class="muted">No vouchers yet.</p>`);
      return;
    }
    mount(
      voList,
      h`<div class="table-wrap"><table class="cards">
          <thead><tr>
            <th scope="col">Code</th><th scope="col">Discount</th><th scope="col" class="num">Redeemed</th>
            <th scope="col">Valid</th><th scope="col">For</th><th scope="col">State</th><th scope="col">Actions</th>
          </tr></thead>
          <tbody>${vouchers.map(
            (v) => h`<tr data-id="${v.id}">
              <td><code>${v.code}</code></td>
              <td>${discountText(v.discount, cur)}</td>
              <td class="num">${v.redeemed} / ${v.max_redemptions}</td>
              <td>${v.valid_from ? dateTime(v.valid_from) : 'now'} → ${v.valid_until ? dateTime(v.valid_until) : 'no end'}</td>
              <td>${v.show_ids.length ? `${v.show_ids.length} show(s)` : v.movie_ids.length ? `${v.movie_ids.length} movie(s)` : 'every show'}</td>
              <td>${v.active ? badge('active') : badge('inactive')}</td>
              <td class="bo-actions">
                <button type="button" class="secondary" data-edit="${v.id}">Edit</button>
                ${v.active
                  ? h`<button type="button" class="danger" data-active="false" data-voucher="${v.id}">Deactivate</button>`
                  : h`<button type="button" data-active="true" data-voucher="${v.id}">Activate</button>`}
                <button type="button" class="secondary" data-redemptions="${v.id}">Redemptions</button>
              </td>
            </tr>`,
          )}</tbody>
        </table></div>
        ${voCursor ? h`<div class="actions"><button type="button" class="secondary" id="vo-more">More vouchers</button></div>` : ''}
        <div id="vo-detail" aria-live="polite"></div>`,
    );
    cardTables(voList);
  }

  voForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = formData(voForm);
    const body = { code: f.code, max_redemptions: f.max_redemptions };
    if (f.kind === 'amount') {
      const minor = toMinor(f.value, cur);
      if (!(minor > 0)) return showError(section, new Error('The amount off must be a positive number, such as 50.00.'));
      body.discount = { amount_minor: minor };
    } else {
      const p = Number(f.value);
      if (!Number.isInteger(p)) return showError(section, new Error('The percent off is a whole number from 1 to 100.'));
      body.discount = { percent: p };
    }
    const from = toIso(f.valid_from);
    const until = toIso(f.valid_until);
    if (from) body.valid_from = from;
    if (until) body.valid_until = until;
    const shows = [...voForm.elements.show_ids.selectedOptions].map((o) => o.value).filter(Boolean);
    if (shows.length) body.show_ids = shows;
    const button = voForm.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const created = await api('POST', `${base}/vouchers`, body);
      alertBox.hidden = true;
      toast(`Voucher ${created.code} created.`);
      voForm.reset();
      await loadVouchers();
    } catch (err) {
      showError(section, err);
    } finally {
      button.disabled = false;
    }
  });

  on(section, 'click', '#vo-more', () => loadVouchers(true));

  on(section, 'click', 'button[data-voucher]', async (_e, button) => {
    const v = vouchers.find((x) => x.id === button.dataset.voucher);
    const active = button.dataset.active === 'true';
    if (!active) {
      const ok = await confirmDialog(
        `Deactivate ${v.code}?`,
        h`<p>New holds with this code are refused (<code>voucher_expired</code>). The ${v.redeemed} redemption(s) already claimed stay.</p>`,
        'Deactivate',
      );
      if (!ok) return;
    }
    button.disabled = true;
    try {
      await api('PATCH', `${base}/vouchers/${v.id}`, { active });
      alertBox.hidden = true;
      toast(`Voucher ${v.code} ${active ? 'activated' : 'deactivated'}.`);
      await loadVouchers();
    } catch (err) {
      showError(section, err);
      button.disabled = false;
    }
  });

  on(section, 'click', 'button[data-edit]', (_e, button) => editVoucher(vouchers.find((x) => x.id === button.dataset.edit), button));

  function editVoucher(v, opener) {
    const dialog = document.createElement('dialog');
    dialog.className = 'bo-dialog';
    mount(
      dialog,
      h`<form class="stack" method="dialog">
          <h2>Edit voucher <code>${v.code}</code></h2>
          <p class="muted">The code, discount and shows are fixed; ${v.redeemed} redemption(s) are claimed now.</p>
          <p role="alert" class="alert" hidden></p>
          <label for="ve-max">Most redemptions (not below ${v.redeemed})</label>
          <input id="ve-max" name="max_redemptions" type="number" min="${Math.max(1, v.redeemed)}" step="1" value="${v.max_redemptions}" data-type="int" required>
          <label for="ve-until">Valid until (your local time)</label>
          <input id="ve-until" name="valid_until" type="datetime-local" value="${toLocalInput(v.valid_until)}">
          <label class="bo-inline"><input type="checkbox" name="no_end" ${v.valid_until ? '' : 'checked'}> No end date</label>
          <label class="bo-inline"><input type="checkbox" name="active" ${v.active ? 'checked' : ''}> Active</label>
          <menu>
            <button type="button" class="secondary" value="cancel" data-close>Cancel</button>
            <button type="submit" value="save">Save</button>
          </menu>
        </form>`,
    );
    document.body.append(dialog);
    const form = dialog.querySelector('form');
    dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener.focus();
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const f = formData(form);
      const body = { max_redemptions: f.max_redemptions, active: f.active };
      if (f.no_end) body.valid_until = null;
      else if (f.valid_until) body.valid_until = toIso(f.valid_until);
      try {
        await api('PATCH', `${base}/vouchers/${v.id}`, body);
        toast(`Voucher ${v.code} saved.`);
        dialog.close();
        alertBox.hidden = true;
        await loadVouchers();
      } catch (err) {
        showError(form, err);
      }
    });
    dialog.showModal();
    dialog.querySelector('#ve-max').focus();
  }

  on(section, 'click', 'button[data-redemptions]', async (_e, button) => {
    const out = section.querySelector('#vo-detail');
    try {
      const v = await api('GET', `${base}/vouchers/${button.dataset.redemptions}`);
      mount(
        out,
        h`<div class="card">
            <h3>Redemptions of <code>${v.code}</code> <span class="muted">(newest first, at most 100)</span></h3>
            ${
              v.redemptions.length
                ? h`<div class="table-wrap"><table>
                    <thead><tr><th scope="col">Booking</th><th scope="col">Status</th><th scope="col" class="num">Discount</th><th scope="col">When</th></tr></thead>
                    <tbody>${v.redemptions.map(
                      (r) => h`<tr data-id="${r.booking_id}"><td><a href="#/bookings/${r.booking_id}">${r.booking_id.slice(0, 8)}…</a></td>
                        <td>${badge(r.status)}</td><td class="num">${money(r.discount_minor, cur)}</td><td>${dateTime(r.created_at)}</td></tr>`,
                    )}</tbody></table></div>`
                : h`<p class="muted">Not redeemed yet.</p>`
            }
          </div>`,
      );
      out.querySelector('h3').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      showError(section, err);
    }
  });

  // --- gift cards -----------------------------------------------------------------------

  async function loadCards(more = false) {
    try {
      const page = await api('GET', `${base}/gift-cards?limit=100${more && gcCursor ? `&cursor=${encodeURIComponent(gcCursor)}` : ''}`);
      cards = more ? cards.concat(page.items) : page.items;
      gcCursor = page.next_cursor;
      paintCards();
    } catch (err) {
      mount(gcList, h`<p class="alert">${err.status === 404 ? `You are not staff of ${chain.name}: the API shows nothing of its gift cards (${problemText(err)}).` : `Gift cards: ${problemText(err)}`}</p>`);
    }
  }

  function paintCards() {
    if (!cards.length) {
      mount(gcList, h`<p class="muted">No gift cards issued yet.</p>`);
      return;
    }
    mount(
      gcList,
      h`<div class="table-wrap"><table>
          <thead><tr>
            <th scope="col">Card</th><th scope="col" class="num">Balance</th><th scope="col" class="num">Issued for</th>
            <th scope="col">Issued</th><th scope="col">Movements</th>
          </tr></thead>
          <tbody>${cards.map(
            (c) => h`<tr data-id="${c.id}">
              <td><code>…${c.hint}</code></td>
              <td class="num">${money(c.balance_minor, c.currency)}</td>
              <td class="num">${money(c.initial_minor, c.currency)}</td>
              <td>${dateTime(c.created_at)}</td>
              <td><button type="button" class="secondary" data-card="${c.id}">View</button></td>
            </tr>`,
          )}</tbody>
        </table></div>
        ${gcCursor ? h`<div class="actions"><button type="button" class="secondary" id="gc-more">More cards</button></div>` : ''}
        <div id="gc-detail" aria-live="polite"></div>`,
    );
  }

  on(section, 'click', '#gc-more', () => loadCards(true));

  on(section, 'click', 'button[data-card]', async (_e, button) => {
    const out = section.querySelector('#gc-detail');
    try {
      const card = await api('GET', `${base}/gift-cards/${button.dataset.card}`);
      mount(out, h`<div class="card"><h3>Card <code>…${card.hint}</code>: ${money(card.balance_minor, card.currency)} left</h3>${movements(card.movements, card.currency)}</div>`);
      out.querySelector('h3').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      showError(section, err);
    }
  });

  function movements(list, currency) {
    if (!list || !list.length) return h`<p class="muted">No movements.</p>`;
    return h`<div class="table-wrap"><table>
        <thead><tr><th scope="col">When</th><th scope="col">Movement</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Balance after</th><th scope="col">Booking</th></tr></thead>
        <tbody>${list.map(
          (m) => h`<tr><td>${dateTime(m.created_at)}</td><td>${m.kind}</td><td class="num">${money(m.amount_minor, currency)}</td>
            <td class="num">${money(m.balance_after_minor, currency)}</td>
            <td>${m.booking_id ? h`<a href="#/bookings/${m.booking_id}">${m.booking_id.slice(0, 8)}…</a>` : '—'}</td></tr>`,
        )}</tbody></table></div>`;
  }

  const gcForm = section.querySelector('#gc-form');
  gcForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const minor = toMinor(gcForm.elements.amount.value, cur);
    if (!(minor > 0)) return showError(section, new Error(`The amount must be a positive number of ${cur}, such as 500.00.`));
    const button = gcForm.querySelector('button');
    button.disabled = true;
    try {
      const card = await api('POST', `${base}/gift-cards`, { amount_minor: minor, currency: cur });
      alertBox.hidden = true;
      mount(
        section.querySelector('#gc-issued'),
        h`<div class="notice bo-secret">
            <p><strong>Gift card for ${money(card.balance_minor, card.currency)} issued.</strong> Its code is shown only now — it is stored as a hash and cannot be read again:</p>
            <p><code class="bo-code" id="gc-new-code">${card.code}</code></p>
            <button type="button" class="secondary" data-copy="#gc-new-code">Copy code</button>
          </div>`,
      );
      toast('Gift card issued: copy its code now.');
      gcForm.elements.amount.value = '';
      await loadCards();
    } catch (err) {
      showError(section, err);
    } finally {
      button.disabled = false;
    }
  });

  const balanceForm = section.querySelector('#gc-balance');
  balanceForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const out = section.querySelector('#gc-balance-out');
    const code = balanceForm.elements.code.value.trim();
    if (!code) return;
    try {
      const b = await api('GET', '/gift-cards/balance', undefined, { headers: { 'gift-card-code': code } });
      mount(out, h`<p class="notice"><strong>${money(b.balance_minor, b.currency)}</strong> left.</p>${movements(b.movements, b.currency)}`);
    } catch (err) {
      mount(out, h`<p class="alert">${err.status === 404 ? 'No gift card has this code.' : problemText(err)}</p>`);
    }
  });

  on(section, 'click', 'button[data-copy]', async (_e, button) => {
    const text = section.querySelector(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      toast('Copied.');
    } catch {
      toast('Copying is not allowed here: select the code and copy it.', 'error');
    }
  });

  await Promise.all([loadVouchers(), loadCards()]);
}
