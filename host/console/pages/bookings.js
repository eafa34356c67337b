// Bookings of the selected chain: go straight to one by id, or search by customer email or by
// show (GET /bookings?chain_id=&email=&show_id=&status=), a page at a time (next_cursor).
// The last search is kept in this module, so coming back from a booking shows it again.

import { api, h, mount, on, formData, showError, problemText, money, dateTime, badge, options } from '../lib.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATUSES = ['held', 'confirmed', 'cancelled', 'expired'];

// Kept between visits: the form's values and the cursors of the pages seen so far.
let last = { chainId: null, query: null, cursors: [null], index: 0 };
// Shows and movies already read, so a page of bookings names their film without re-asking.
const shows = new Map();
const movies = new Map();
const theatres = new Map();

/** Shows of the chain starting from now on, for the show picker (theatres → their shows). */
export async function upcomingShows(chainId) {
  const list = (await api('GET', `/theatres?chain_id=${encodeURIComponent(chainId)}&limit=200`)).items || [];
  for (const t of list) theatres.set(t.id, t);
  const from = new Date(Date.now() - 3 * 3600 * 1000).toISOString();
  const lists = await Promise.all(
    list.map((t) =>
      api('GET', `/shows?theatre_id=${t.id}&from=${encodeURIComponent(from)}&limit=200`)
        .then((p) => (p.items || []).map((s) => ({ ...s, theatre: t })))
        .catch(() => []),
    ),
  );
  const all = lists.flat().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  for (const s of all) shows.set(s.id, s);
  await titles(all.map((s) => s.movie_id));
  return all;
}

/** Reads the titles of movies not yet known (at most a page's worth at once). */
async function titles(ids) {
  const missing = [...new Set(ids)].filter((id) => id && !movies.has(id)).slice(0, 50);
  await Promise.all(
    missing.map((id) =>
      api('GET', `/movies/${id}`)
        .then((m) => movies.set(id, m))
        .catch(() => movies.set(id, null)),
    ),
  );
}

async function knowShows(ids) {
  const missing = [...new Set(ids)].filter((id) => !shows.has(id)).slice(0, 50);
  await Promise.all(
    missing.map(async (id) => {
      try {
        const show = await api('GET', `/shows/${id}`);
        if (!theatres.has(show.theatre_id)) {
          theatres.set(show.theatre_id, await api('GET', `/theatres/${show.theatre_id}`).catch(() => null));
        }
        shows.set(id, { ...show, theatre: theatres.get(show.theatre_id) || undefined });
      } catch {
        shows.set(id, null);
      }
    }),
  );
  await titles(ids.map((id) => shows.get(id)?.movie_id));
}

/**
 * Gives every cell of `table.cards` tables under `root` its column's name (data-label), so that
 * on a phone the CSS can show each row as a small card instead of a wide, scrolling table.
 */
export function cardTables(root) {
  for (const table of root.querySelectorAll('table.cards')) {
    const names = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, i) => {
        if (names[i]) cell.dataset.label = names[i];
      });
    }
  }
}

export function showLabel(show) {
  if (!show) return 'unknown show';
  const title = movies.get(show.movie_id)?.title || 'show';
  const place = show.theatre ? ` · ${show.theatre.name}` : '';
  return `${dateTime(show.starts_at)} · ${title}${place}${show.status === 'cancelled' ? ' (cancelled)' : ''}`;
}

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'bookings';
  main.append(section);
  if (!ctx.chain) {
    mount(
      section,
      h`<h1>Bookings</h1>
        <p class="notice">There is no chain yet: create one (POST /api/v1/chains) or ask an admin to add you to one; its bookings will show here.</p>`,
    );
    return;
  }
  // What one signed-in user looked up is never shown to the next one in this tab.
  if (last.userId !== ctx.user.id) {
    shows.clear();
    movies.clear();
    theatres.clear();
    last = { chainId: null, query: null, cursors: [null], index: 0 };
  }
  if (last.chainId !== ctx.chain.id) last = { chainId: ctx.chain.id, query: null, cursors: [null], index: 0 };
  last.userId = ctx.user.id;
  const q = last.query || {};
  mount(
    section,
    h`<h1>Bookings</h1>
      <p class="muted">Bookings of ${ctx.chain.name}. Open one by its id, or search by the customer's email or by show.</p>
      <p role="alert" class="alert" hidden></p>
      <div class="grid two bk-forms">
        <form id="bk-goto" class="card stack" novalidate>
          <h2>Open a booking</h2>
          <label for="bk-id">Booking id</label>
          <input id="bk-id" name="id" autocomplete="off" spellcheck="false" placeholder="0193…-…" required>
          <div class="actions"><button type="submit">Open booking</button></div>
        </form>
        <form id="bk-search" class="card stack">
          <h2>Search</h2>
          <label for="bk-email">Customer email</label>
          <input id="bk-email" name="email" type="email" autocomplete="off" value="${q.email || ''}">
          <label for="bk-show">Show</label>
          <select id="bk-show" name="show_id">
            <option value="">Any show</option>
            ${q.show_id ? h`<option value="${q.show_id}" selected>${showLabel(shows.get(q.show_id))}</option>` : ''}
          </select>
          <label for="bk-status">Status</label>
          <select id="bk-status" name="status">
            ${options([['', 'Any status'], ...STATUSES.map((s) => [s, s])], q.status || '')}
          </select>
          <label for="bk-limit">Per page</label>
          <select id="bk-limit" name="limit" data-type="int">
            ${options([['25', '25'], ['50', '50'], ['100', '100']], String(q.limit || 50))}
          </select>
          <div class="actions">
            <button type="submit">Search</button>
            <button type="button" class="secondary" id="bk-clear">Clear</button>
          </div>
        </form>
      </div>
      <div id="bk-results" aria-live="polite"></div>`,
  );
  const alertBox = section.querySelector('[role="alert"]');
  const results = section.querySelector('#bk-results');
  const search = section.querySelector('#bk-search');
  const showSelect = section.querySelector('#bk-show');

  // The show picker fills in after the first paint: it needs every theatre's shows.
  upcomingShows(ctx.chain.id)
    .then((list) => {
      const keep = showSelect.value;
      // A show chosen earlier that has started since stays selectable.
      const gone = keep && !list.some((s) => s.id === keep);
      mount(
        showSelect,
        h`<option value="">Any show</option>
          ${gone ? h`<option value="${keep}">${showLabel(shows.get(keep))}</option>` : ''}
          ${list.map((s) => h`<option value="${s.id}">${showLabel(s)} · ${s.seats_available} free</option>`)}`,
      );
      showSelect.value = keep;
      section.querySelectorAll('.bk-hint').forEach((hint) => hint.remove());
      if (!list.length) showSelect.insertAdjacentHTML('afterend', '<p class="muted bk-hint">No upcoming shows.</p>');
    })
    .catch((err) => showError(section, err));

  section.querySelector('#bk-goto').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = event.currentTarget.elements.id.value.trim();
    if (!UUID.test(id)) {
      showError(section, new Error('A booking id is a UUID such as 0193c0de-…-…: 36 characters with dashes.'));
      return;
    }
    ctx.navigate(`#/bookings/${id.toLowerCase()}`);
  });

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    last.query = formData(search);
    last.cursors = [null];
    load(0);
  });
  section.querySelector('#bk-clear').addEventListener('click', () => {
    for (const name of ['email', 'show_id', 'status']) search.elements[name].value = '';
    last.query = null;
    last.cursors = [null];
    load(0);
  });

  on(results, 'click', 'button[data-page-to]', (_e, button) => load(Number(button.dataset.pageTo)));

  async function load(index) {
    const query = last.query || {};
    const params = new URLSearchParams({ chain_id: ctx.chain.id, limit: String(query.limit || 50) });
    for (const key of ['email', 'show_id', 'status']) if (query[key]) params.set(key, query[key]);
    const cursor = last.cursors[index];
    if (cursor) params.set('cursor', cursor);
    results.setAttribute('aria-busy', 'true');
    try {
      const page = await api('GET', `/bookings?${params}`);
      alertBox.hidden = true;
      last.cursors = last.cursors.slice(0, index + 1);
      last.index = index;
      if (page.next_cursor) last.cursors[index + 1] = page.next_cursor;
      await knowShows((page.items || []).map((b) => b.show_id));
      paint(page.items || [], index, Boolean(page.next_cursor), query);
    } catch (err) {
      const newFilter = query.email || query.show_id;
      if (newFilter && (err.status === 400 || err.status === 404 || err.status === 405)) {
        showError(
          section,
          new Error(
            `This server does not filter bookings by ${query.email ? 'email' : 'show'} yet (an older binary): ${problemText(err)}. Search by status only, or open a booking by its id.`,
          ),
        );
      } else if (err.status === 404) {
        showError(section, new Error(`You are not staff of ${ctx.chain.name}: the API shows none of its bookings (${problemText(err)}).`));
      } else {
        showError(section, err);
      }
    } finally {
      results.removeAttribute('aria-busy');
    }
  }

  function paint(items, index, more, query) {
    const what = [
      query.email ? `customer ${query.email}` : '',
      query.show_id ? `show ${showLabel(shows.get(query.show_id))}` : '',
      query.status ? `status ${query.status}` : '',
    ].filter(Boolean);
    mount(
      results,
      h`<h2>Results <span class="muted">page ${index + 1}${what.length ? ` · ${what.join(', ')}` : ''}</span></h2>
        ${
          items.length
            ? h`<div class="table-wrap"><table class="bk-table cards">
                <thead><tr>
                  <th scope="col">Booking</th><th scope="col">Status</th><th scope="col">Show</th>
                  <th scope="col">Seats</th><th scope="col" class="num">Total</th><th scope="col" class="num">Refunded</th>
                  <th scope="col">Created</th>
                </tr></thead>
                <tbody>${items.map(
                  (b) => h`<tr data-id="${b.id}">
                    <td><a href="#/bookings/${b.id}" class="bk-id">${b.id.slice(0, 8)}…${b.id.slice(-4)}</a></td>
                    <td>${badge(b.status)}</td>
                    <td>${showLabel(shows.get(b.show_id))}</td>
                    <td>${b.seats.join(', ')}</td>
                    <td class="num">${money(b.total_minor, b.currency)}</td>
                    <td class="num">${b.refund_minor ? money(b.refund_minor, b.currency) : '—'}</td>
                    <td>${dateTime(b.created_at)}</td>
                  </tr>`,
                )}</tbody>
              </table></div>`
            : h`<p class="notice">No bookings match.</p>`
        }
        <div class="actions">
          ${index > 0 ? h`<button type="button" class="secondary" data-page-to="${index - 1}">Previous page</button>` : ''}
          ${index > 1 ? h`<button type="button" class="secondary" data-page-to="0">First page</button>` : ''}
          ${more ? h`<button type="button" data-page-to="${index + 1}">Next page</button>` : ''}
        </div>`,
    );
    cardTables(results);
  }

  load(Math.min(last.index || 0, last.cursors.length - 1));
}
