// The chain's catalogue: its theatres (GET /theatres?chain_id=) with their screens, forms to
// add a theatre and a screen (a row editor with a live preview), and the upcoming shows with
// create, reschedule and cancel. A cancel first shows what it will refund.

import { api, apiAll, h, raw, mount, money, dateTime, formData, toast, confirmDialog, showError, problemText, badge, options } from '../lib.js';
import { seatMapSvg } from '../seatmap.js';
import { SEAT_CLASSES, rowsToSeats, seatsDoc, layoutLegend } from './screen.js';
import { showBookings } from './show.js';
import { staffOf } from './day.js';

const FORMATS = ['2D', '3D', 'IMAX'];
const DIGITS = { JPY: 0, KRW: 0, BHD: 3, KWD: 3 };

function digits(currency) {
  return DIGITS[currency] ?? 2;
}

/** "250.50" in the chain's currency → 25050 minor units (NaN when not a number). */
export function toMinor(text, currency) {
  const v = Number(String(text).trim().replace(',', '.'));
  if (String(text).trim() === '' || !Number.isFinite(v)) return Number.NaN;
  return Math.round(v * 10 ** digits(currency));
}

function fromMinor(minor, currency) {
  return (Number(minor) / 10 ** digits(currency)).toFixed(digits(currency));
}

/** A Date as the value of an `<input type="datetime-local">` in the browser's zone. */
export function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Row labels A … Z, then AA, AB, … (the API takes 1 to 3 uppercase letters or digits). */
export function rowLabel(i) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return i < 26 ? A[i] : A[Math.floor(i / 26) - 1] + A[i % 26];
}

/** "5, 6 7" → [5, 6, 7]; null when something is not a seat number. */
export function parseBlocked(text) {
  const parts = String(text || '').split(/[\s,;]+/).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const range = p.match(/^(\d+)-(\d+)$/);
    if (range) {
      for (let n = Number(range[1]); n <= Number(range[2]) && out.length < 200; n++) out.push(n);
    } else if (/^\d+$/.test(p)) out.push(Number(p));
    else return null;
  }
  return out;
}

/**
 * A modal form: `fields` is an `h` result with the inputs, `submit(values, form)` does the
 * write and throws to keep the dialog open with the error shown (and every value kept).
 */
function formDialog(title, fields, submitLabel, submit) {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'dy-dialog';
    mount(
      dialog,
      h`<form class="stack" novalidate>
          <h2>${title}</h2>
          <p role="alert" class="alert" hidden></p>
          ${fields}
          <menu>
            <button type="button" class="secondary" data-close>Cancel</button>
            <button type="submit">${submitLabel}</button>
          </menu>
        </form>`,
    );
    document.body.append(dialog);
    const form = dialog.querySelector('form');
    let result = null;
    dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        result = (await submit(formData(form), form)) ?? true;
        dialog.close();
      } catch (err) {
        showError(form, err);
      } finally {
        button.disabled = false;
      }
    });
    dialog.showModal();
    const first = form.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}

/** A refusal found before calling the API, worded like the API's 422 with its field names. */
function invalid(errors) {
  return new Error(`Not saved: ${Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
}

// --- the parts of the page ------------------------------------------------------------------

function theatresView(theatres, screens) {
  if (!theatres.length) return h`<p class="notice">This chain has no theatre yet: add one below.</p>`;
  return h`<div class="grid two">${theatres.map((t) => {
    const list = screens.get(t.id) || [];
    return h`<article class="card cat-theatre" data-id="${t.id}">
        <h3>${t.name}</h3>
        <p class="muted">${[t.address, t.city, t.pin_code].filter(Boolean).join(', ')}</p>
        ${t.description ? h`<p>${t.description}</p>` : ''}
        ${list.length
          ? h`<div class="table-wrap"><table>
              <thead><tr><th scope="col">Screen</th><th scope="col" class="num">Seats</th></tr></thead>
              <tbody>${list.map((s) => h`<tr data-id="${s.id}"><td><a href="#/screens/${s.id}">${s.name}</a></td><td class="num">${s.capacity}</td></tr>`)}</tbody>
            </table></div>`
          : h`<p class="muted">No screens yet.</p>`}
      </article>`;
  })}</div>`;
}

const FIRST_SHOWS = 20;

function showsView(all, names, showAll) {
  if (!all.length) return h`<p class="notice">No upcoming shows. Schedule one below.</p>`;
  const shows = showAll ? all : all.slice(0, FIRST_SHOWS);
  const more = all.length - shows.length;
  return h`<div class="table-wrap"><table class="cat-shows">
      <thead><tr><th scope="col">Starts</th><th scope="col">Movie</th><th scope="col">Theatre · screen</th><th scope="col">Format</th><th scope="col">Status</th><th scope="col" class="num">Seats left</th><th scope="col">Actions</th></tr></thead>
      <tbody>${shows.map(
        (s) => h`<tr data-id="${s.id}">
          <td class="dy-nowrap"><a href="#/shows/${s.id}">${dateTime(s.starts_at)}</a></td>
          <td>${names.movie(s.movie_id)}</td>
          <td>${names.theatre(s.theatre_id)} · ${names.screen(s.screen_id)}</td>
          <td>${s.format}</td>
          <td>${badge(s.status)}</td>
          <td class="num">${s.seats_available}</td>
          <td class="cat-actions">${s.status === 'scheduled'
            ? h`<button type="button" class="secondary" data-action="reschedule" data-id="${s.id}">Reschedule</button>
                <button type="button" class="danger" data-action="cancel" data-id="${s.id}">Cancel show</button>`
            : ''}</td>
        </tr>`,
      )}</tbody>
    </table></div>
    ${more > 0 ? h`<div class="actions"><button type="button" class="secondary" data-action="all-shows">Show all ${all.length} shows (${more} more)</button></div>` : ''}`;
}

function theatreForm() {
  const field = (name, label, attrs = '') =>
    h`<div><label for="cat-t-${name}">${label}</label><input id="cat-t-${name}" name="${name}" ${raw(attrs)}></div>`;
  return h`<form class="inline cat-form" data-form="theatre">
      ${field('name', 'Name', 'required maxlength="200"')}
      ${field('city', 'City', 'required')}
      ${field('pin_code', 'PIN / postal code', 'required maxlength="12"')}
      ${field('address', 'Address', 'required')}
      <div class="wide"><label for="cat-t-description">Description</label><input id="cat-t-description" name="description" required maxlength="5000"></div>
      <div><button type="submit">Add theatre</button></div>
    </form>`;
}

function screenForm(theatres) {
  return h`<form class="stack cat-form" data-form="screen">
      <div class="dy-fields">
        <div><label for="cat-s-theatre">Theatre</label>
          <select id="cat-s-theatre" name="theatre_id" required>${options(theatres.map((t) => [t.id, t.name]))}</select></div>
        <div><label for="cat-s-name">Screen name</label><input id="cat-s-name" name="name" required maxlength="100"></div>
      </div>
      <fieldset class="cat-fill">
        <legend>Quick layout</legend>
        <div class="dy-fields">
          <div><label for="cat-s-rows">Rows</label><input id="cat-s-rows" type="number" min="1" max="60" value="8" data-fill="rows"></div>
          <div><label for="cat-s-per-row">Seats per row</label><input id="cat-s-per-row" type="number" min="1" max="100" value="12" data-fill="seats"></div>
          <div><label for="cat-s-premium">Premium rows at the back</label><input id="cat-s-premium" type="number" min="0" max="60" value="2" data-fill="premium"></div>
          <div><button type="button" class="secondary" data-action="fill">Lay out rows</button></div>
        </div>
      </fieldset>
      <div class="table-wrap">
        <table class="row-editor">
          <thead><tr><th scope="col">Row</th><th scope="col">Seats</th><th scope="col">Class</th><th scope="col">Blocked seats</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
          <tbody data-part="rows"></tbody>
        </table>
      </div>
      <div class="actions"><button type="button" class="secondary" data-action="add-row">Add a row</button></div>
      <h3>Preview</h3>
      <div data-part="preview"></div>
      <div class="actions"><button type="submit">Add screen</button></div>
    </form>`;
}

let rowSeq = 0;
function rowEditorRow(row) {
  const n = ++rowSeq;
  return h`<tr data-row>
      <td><label class="visually-hidden" for="cat-r${n}-label">Row label</label>
        <input id="cat-r${n}-label" class="w-label" data-f="label" value="${row.label}" maxlength="3" required></td>
      <td><label class="visually-hidden" for="cat-r${n}-seats">Seats in row ${row.label}</label>
        <input id="cat-r${n}-seats" class="w-num" data-f="seats" type="number" min="1" max="100" value="${row.seats}" required></td>
      <td><label class="visually-hidden" for="cat-r${n}-class">Class of row ${row.label}</label>
        <select id="cat-r${n}-class" data-f="class">${options(SEAT_CLASSES.map((c) => [c, c]), row.class)}</select></td>
      <td><label class="visually-hidden" for="cat-r${n}-blocked">Blocked seats in row ${row.label} (e.g. 1, 12 or 5-6)</label>
        <input id="cat-r${n}-blocked" class="w-blocked" data-f="blocked" value="${(row.blocked || []).join(', ')}" placeholder="e.g. 1, 12"></td>
      <td><button type="button" class="secondary" data-action="remove-row">Remove</button></td>
    </tr>`;
}

/** The row editor's rows as CreateScreen rows, and per-field problems. */
function readRows(tbody) {
  const rows = [];
  const errors = {};
  [...tbody.querySelectorAll('tr[data-row]')].forEach((tr, i) => {
    const get = (f) => tr.querySelector(`[data-f="${f}"]`).value.trim();
    const label = get('label').toUpperCase();
    const seats = Number.parseInt(get('seats'), 10);
    const blocked = parseBlocked(get('blocked'));
    if (!/^[A-Z0-9]{1,3}$/.test(label)) errors[`rows[${i}].label`] = '1 to 3 letters or digits';
    if (!(seats >= 1 && seats <= 100)) errors[`rows[${i}].seats`] = '1 to 100 seats';
    if (blocked === null) errors[`rows[${i}].blocked`] = 'seat numbers separated by commas';
    else if (blocked.some((b) => b < 1 || b > seats)) errors[`rows[${i}].blocked`] = 'a seat is not in this row';
    rows.push({ label, seats: seats || 0, class: get('class'), blocked: [...new Set(blocked || [])] });
  });
  if (!rows.length) errors.rows = 'at least one row';
  const labels = rows.map((r) => r.label);
  labels.forEach((l, i) => {
    if (labels.indexOf(l) !== i) errors[`rows[${i}].label`] = `row ${l} appears twice`;
  });
  return { rows, errors };
}

function layOut(tbody, count, perRow, premium) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push({ label: rowLabel(i), seats: perRow, class: i >= count - premium ? 'premium' : 'standard', blocked: [] });
  }
  mount(tbody, rows.map(rowEditorRow));
}

function drawPreview(form) {
  const { rows } = readRows(form.querySelector('[data-part="rows"]'));
  const usable = rows.filter((r) => /^[A-Z0-9]{1,3}$/.test(r.label) && r.seats >= 1 && r.seats <= 100);
  const seats = rowsToSeats(usable);
  const sale = seats.filter((s) => !s.blocked).length;
  mount(
    form.querySelector('[data-part="preview"]'),
    seats.length
      ? h`<div class="seat-map-wrap">${raw(seatMapSvg(seatsDoc(seats), ''))}</div>${layoutLegend(seats)}<p class="muted" data-field="preview-capacity">${sale} seats for sale in ${usable.length} rows.</p>`
      : h`<p class="muted">No rows yet.</p>`,
  );
}

function showForm(theatres, movies) {
  const now = new Date();
  now.setDate(now.getDate() + 1);
  now.setHours(18, 0, 0, 0);
  return h`<form class="stack cat-form" data-form="show">
      <div class="dy-fields">
        <div><label for="cat-w-theatre">Theatre</label>
          <select id="cat-w-theatre" name="theatre_id" required>${options(theatres.map((t) => [t.id, t.name]))}</select></div>
        <div><label for="cat-w-screen">Screen</label><select id="cat-w-screen" name="screen_id" required></select></div>
        <div><label for="cat-w-movie">Movie</label>
          <select id="cat-w-movie" name="movie_id" required>${options(movies.map((m) => [m.id, m.title]))}</select></div>
        <div><label for="cat-w-starts">Starts at (your time)</label><input id="cat-w-starts" name="starts_at" type="datetime-local" required value="${localInput(now)}"></div>
        <div><label for="cat-w-format">Format</label><select id="cat-w-format" name="format">${options(FORMATS.map((f) => [f, f]), '2D')}</select></div>
      </div>
      <fieldset>
        <legend>Prices per seat</legend>
        <div class="dy-fields" data-part="prices"><p class="muted">Pick a screen.</p></div>
      </fieldset>
      <div class="dy-check"><input id="cat-w-list" name="add_to_list" type="checkbox" checked>
        <label for="cat-w-list">Add the movie to the theatre's now-showing list if it is not on it</label></div>
      <div class="actions"><button type="submit">Schedule show</button></div>
    </form>`;
}

function priceFields(classes, currency, prefix, values = {}) {
  return classes.map(
    (c) => h`<div><label for="${prefix}-${c}">${c} (${currency})</label>
      <input id="${prefix}-${c}" name="price_${c}" inputmode="decimal" required value="${values[c] !== undefined ? fromMinor(values[c], currency) : ''}" class="w-price"></div>`,
  );
}

function readPrices(values, currency) {
  const prices = {};
  const errors = {};
  for (const [k, v] of Object.entries(values)) {
    if (!k.startsWith('price_')) continue;
    const cls = k.slice(6);
    const minor = toMinor(v, currency);
    if (!Number.isFinite(minor) || minor < 0) errors[`prices.${cls}`] = 'a price like 250.00';
    else prices[cls] = minor;
  }
  return { prices, errors };
}

// --- the page ---------------------------------------------------------------------------------

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'catalogue';
  main.append(section);
  if (!ctx.chain) {
    mount(section, h`<h1>Theatres &amp; shows</h1><p class="notice">There is no chain yet. Create one through the API (POST /api/v1/chains) or ask an admin to add you to one.</p>`);
    return;
  }
  const chain = ctx.chain;
  const currency = chain.currency || 'INR';
  // Theatres and shows are public reads: without this the console would show an owner
  // another chain's catalogue, with forms that then fail.
  try {
    if (!(await staffOf(ctx, chain.id))) {
      mount(section, h`<h1>Theatres &amp; shows</h1><p class="notice">${chain.name} is not a chain you work for: pick one of yours.</p>`);
      return;
    }
  } catch (err) {
    mount(section, h`<h1>Theatres &amp; shows</h1><p role="alert" class="alert">${problemText(err)}</p>`);
    return;
  }
  mount(
    section,
    h`<h1>Theatres &amp; shows</h1>
      <p class="muted">${chain.name}: its theatres, their screens and the shows from now on.</p>
      <h2 id="cat-theatres">Theatres</h2>
      <div data-part="theatres"><p class="loading">Loading…</p></div>
      <h2 id="cat-shows">Upcoming shows</h2>
      <div data-part="shows"><p class="loading">Loading…</p></div>
      <h2>Schedule a show</h2>
      <div class="card" data-part="show-form"></div>
      <h2>Add a theatre</h2>
      <div class="card" data-part="theatre-form">${theatreForm()}</div>
      <h2>Add a screen</h2>
      <div class="card" data-part="screen-form"></div>`,
  );
  const part = (name) => section.querySelector(`[data-part="${name}"]`);
  const state = { theatres: [], screens: new Map(), movies: [], shows: [], screenDocs: new Map(), showAll: false };
  const names = {
    movie: (id) => (state.movies.find((m) => m.id === id) || { title: 'movie' }).title,
    theatre: (id) => (state.theatres.find((t) => t.id === id) || { name: 'theatre' }).name,
    screen: (id) => ([...state.screens.values()].flat().find((s) => s.id === id) || { name: 'screen' }).name,
  };

  const loadTheatres = async () => {
    state.theatres = await apiAll(`/theatres?chain_id=${encodeURIComponent(chain.id)}&limit=200`, 1000);
    const lists = await Promise.all(state.theatres.map((t) => apiAll(`/theatres/${t.id}/screens?limit=200`, 1000)));
    state.screens = new Map(state.theatres.map((t, i) => [t.id, lists[i]]));
  };
  const loadShows = async () => {
    const from = encodeURIComponent(new Date().toISOString());
    const lists = await Promise.all(state.theatres.map((t) => apiAll(`/shows?theatre_id=${t.id}&from=${from}&limit=200`, 1000)));
    state.shows = lists.flat().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  };
  const drawShows = () => mount(part('shows'), showsView(state.shows, names, state.showAll));
  const refreshShows = async () => {
    try {
      await loadShows();
      drawShows();
    } catch (err) {
      mount(part('shows'), h`<p role="alert" class="alert">${problemText(err)}</p>`);
    }
  };

  // The screen's seat classes decide which prices a show needs (every class must have one).
  const screenClasses = async (screenId) => {
    if (!state.screenDocs.has(screenId)) state.screenDocs.set(screenId, await api('GET', `/screens/${screenId}`));
    const seats = state.screenDocs.get(screenId).seats || [];
    return SEAT_CLASSES.filter((c) => seats.some((s) => s.class === c));
  };

  const drawForms = () => {
    // The show form is redrawn only when the theatres change, so typed values survive errors.
    if (!state.theatres.length) {
      mount(part('show-form'), h`<p class="muted">Add a theatre and a screen first.</p>`);
      mount(part('screen-form'), h`<p class="muted">Add a theatre first.</p>`);
      return;
    }
    const keepScreen = part('screen-form').querySelector('form');
    if (!keepScreen) {
      mount(part('screen-form'), screenForm(state.theatres));
      const form = part('screen-form').querySelector('form');
      layOut(form.querySelector('[data-part="rows"]'), 8, 12, 2);
      drawPreview(form);
    } else {
      const select = keepScreen.querySelector('[name="theatre_id"]');
      const was = select.value;
      mount(select, options(state.theatres.map((t) => [t.id, t.name]), was));
    }
    const oldShow = part('show-form').querySelector('form');
    const wasTheatre = oldShow ? oldShow.querySelector('[name="theatre_id"]').value : null;
    if (!oldShow) mount(part('show-form'), showForm(state.theatres, state.movies));
    else mount(oldShow.querySelector('[name="theatre_id"]'), options(state.theatres.map((t) => [t.id, t.name]), wasTheatre));
    fillScreens();
  };

  const fillScreens = async () => {
    const form = part('show-form').querySelector('form');
    if (!form) return;
    const theatreId = form.querySelector('[name="theatre_id"]').value;
    const select = form.querySelector('[name="screen_id"]');
    const was = select.value;
    const list = state.screens.get(theatreId) || [];
    mount(select, list.length ? options(list.map((s) => [s.id, `${s.name} (${s.capacity} seats)`]), was) : h`<option value="">No screens</option>`);
    await fillPrices();
  };
  const fillPrices = async () => {
    const form = part('show-form').querySelector('form');
    const screenId = form.querySelector('[name="screen_id"]').value;
    const box = form.querySelector('[data-part="prices"]');
    if (!screenId) {
      mount(box, h`<p class="muted">This theatre has no screen yet.</p>`);
      return;
    }
    try {
      const classes = await screenClasses(screenId);
      if (form.querySelector('[name="screen_id"]').value !== screenId) return;
      // Prices someone typed survive a change of screen; the rest start from the new screen's.
      const kept = Object.fromEntries([...box.querySelectorAll('input[data-touched]')].map((i) => [i.name.slice(6), i.value]));
      // Start from the prices of the screen's latest show, which is what most shows repeat.
      const last = state.shows.filter((s) => s.screen_id === screenId).at(-1);
      mount(box, priceFields(classes, currency, 'cat-w-price', last ? last.prices : {}));
      for (const input of box.querySelectorAll('input')) {
        const cls = input.name.slice(6);
        if (kept[cls]) {
          input.value = kept[cls];
          input.dataset.touched = 'true';
        }
      }
    } catch (err) {
      mount(box, h`<p role="alert" class="alert">${problemText(err)}</p>`);
    }
  };

  // Loading: theatres first (everything hangs off them), then shows and movies.
  try {
    const [, movies] = await Promise.all([loadTheatres(), apiAll('/movies?limit=200', 2000).catch(() => [])]);
    state.movies = movies.sort((a, b) => a.title.localeCompare(b.title));
    if (!section.isConnected) return;
    mount(part('theatres'), theatresView(state.theatres, state.screens));
    drawForms();
    await refreshShows();
    if (part('show-form').querySelector('form')) await fillPrices();
  } catch (err) {
    mount(part('theatres'), h`<p role="alert" class="alert">${problemText(err)}</p>`);
    part('shows').replaceChildren();
  }

  // --- writes -------------------------------------------------------------------------------

  section.addEventListener('change', (event) => {
    if (event.target.matches('[data-form="show"] [name="theatre_id"]')) fillScreens();
    if (event.target.matches('[data-form="show"] [name="screen_id"]')) fillPrices();
  });
  section.addEventListener('input', (event) => {
    if (event.target.matches('[data-form="show"] [data-part="prices"] input')) event.target.dataset.touched = 'true';
    const form = event.target.closest('[data-form="screen"]');
    if (form && event.target.closest('[data-part="rows"]')) drawPreview(form);
  });

  section.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button || !section.contains(button)) return;
    const action = button.dataset.action;
    if (action === 'fill') {
      const form = button.closest('form');
      const num = (f, lo, hi, dflt) => Math.min(hi, Math.max(lo, Number.parseInt(form.querySelector(`[data-fill="${f}"]`).value, 10) || dflt));
      const count = num('rows', 1, 60, 8);
      layOut(form.querySelector('[data-part="rows"]'), count, num('seats', 1, 100, 12), num('premium', 0, count, 0));
      drawPreview(form);
    } else if (action === 'add-row') {
      const form = button.closest('form');
      const tbody = form.querySelector('[data-part="rows"]');
      const n = tbody.querySelectorAll('tr[data-row]').length;
      const last = tbody.querySelector('tr[data-row]:last-child');
      const seats = last ? Number.parseInt(last.querySelector('[data-f="seats"]').value, 10) || 12 : 12;
      tbody.insertAdjacentHTML('beforeend', String(rowEditorRow({ label: rowLabel(n), seats, class: 'standard', blocked: [] })));
      tbody.querySelector('tr[data-row]:last-child input').focus();
      drawPreview(form);
    } else if (action === 'remove-row') {
      const form = button.closest('form');
      const tr = button.closest('tr');
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      drawPreview(form);
      (next ? next.querySelector('button') : form.querySelector('[data-action="add-row"]')).focus();
    } else if (action === 'all-shows') {
      state.showAll = true;
      drawShows();
      part('shows').querySelectorAll('tr[data-id] a')[FIRST_SHOWS]?.focus();
    } else if (action === 'reschedule') {
      await reschedule(button.dataset.id);
    } else if (action === 'cancel') {
      await cancelShow(button.dataset.id, button);
    }
  });

  section.addEventListener('submit', async (event) => {
    const form = event.target.closest('form[data-form]');
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      if (form.dataset.form === 'theatre') await createTheatre(form);
      else if (form.dataset.form === 'screen') await createScreen(form);
      else if (form.dataset.form === 'show') await createShow(form);
      const box = form.querySelector('[role="alert"]');
      if (box) box.hidden = true;
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
    }
  });

  async function createTheatre(form) {
    const body = { ...formData(form), chain_id: chain.id };
    const theatre = await api('POST', '/theatres', body);
    form.reset();
    await loadTheatres();
    mount(part('theatres'), theatresView(state.theatres, state.screens));
    drawForms();
    toast(`Theatre “${theatre.name}” added.`);
  }

  async function createScreen(form) {
    const values = formData(form);
    const { rows, errors } = readRows(form.querySelector('[data-part="rows"]'));
    if (!values.name) errors.name = 'a name';
    if (Object.keys(errors).length) throw invalid(errors);
    const screen = await api('POST', `/theatres/${encodeURIComponent(values.theatre_id)}/screens`, {
      name: values.name,
      rows: rows.map((r) => (r.blocked.length ? r : { label: r.label, seats: r.seats, class: r.class })),
    });
    form.querySelector('[name="name"]').value = '';
    state.screens.set(values.theatre_id, await apiAll(`/theatres/${values.theatre_id}/screens?limit=200`, 1000));
    mount(part('theatres'), theatresView(state.theatres, state.screens));
    fillScreens();
    toast(`Screen “${screen.name}” added with ${screen.capacity} seats for sale.`);
  }

  async function createShow(form) {
    const values = formData(form);
    const { prices, errors } = readPrices(values, currency);
    if (!values.screen_id) errors.screen_id = 'pick a screen';
    if (!values.movie_id) errors.movie_id = 'pick a movie';
    const starts = values.starts_at ? new Date(values.starts_at) : null;
    if (!starts || Number.isNaN(starts.getTime())) errors.starts_at = 'a date and time';
    if (Object.keys(errors).length) throw invalid(errors);
    if (values.add_to_list) {
      await api('POST', `/theatres/${encodeURIComponent(values.theatre_id)}/movies`, { movie_ids: [values.movie_id] });
    }
    const show = await api('POST', '/shows', {
      screen_id: values.screen_id,
      movie_id: values.movie_id,
      starts_at: starts.toISOString(),
      prices,
      format: values.format || '2D',
    });
    await loadShows();
    if (state.shows.findIndex((s) => s.id === show.id) >= FIRST_SHOWS) state.showAll = true;
    drawShows();
    toast(`Show scheduled: ${names.movie(show.movie_id)}, ${dateTime(show.starts_at)}.`);
    const row = part('shows').querySelector(`tr[data-id="${CSS.escape(show.id)}"]`);
    if (row) row.classList.add('dy-just-added');
  }

  async function reschedule(showId) {
    const show = state.shows.find((s) => s.id === showId);
    if (!show) return;
    const classes = Object.keys(show.prices || {});
    const fields = h`<div><label for="cat-re-starts">Starts at (your time)</label>
        <input id="cat-re-starts" name="starts_at" type="datetime-local" required value="${localInput(new Date(show.starts_at))}"></div>
      <div><label for="cat-re-format">Format</label><select id="cat-re-format" name="format">${options(FORMATS.map((f) => [f, f]), show.format)}</select></div>
      <fieldset><legend>Prices per seat</legend><div class="dy-fields">${priceFields(classes, show.currency, 'cat-re-price', show.prices)}</div></fieldset>
      <p class="muted">Once a show has live bookings only its format can change: cancel it instead.</p>`;
    const updated = await formDialog(`Reschedule ${names.movie(show.movie_id)}`, fields, 'Save changes', async (values) => {
      const body = {};
      const starts = new Date(values.starts_at);
      if (Number.isNaN(starts.getTime())) throw invalid({ starts_at: 'a date and time' });
      if (starts.getTime() !== new Date(show.starts_at).getTime()) body.starts_at = starts.toISOString();
      if (values.format && values.format !== show.format) body.format = values.format;
      const { prices, errors } = readPrices(values, show.currency);
      if (Object.keys(errors).length) throw invalid(errors);
      if (classes.some((c) => prices[c] !== show.prices[c])) body.prices = prices;
      if (!Object.keys(body).length) return 'unchanged';
      return api('PATCH', `/shows/${encodeURIComponent(show.id)}`, body);
    });
    if (!updated) return;
    if (updated === 'unchanged') {
      toast('Nothing changed.');
      return;
    }
    await refreshShows();
    toast(`Show moved to ${dateTime(updated.starts_at)} (${updated.format}).`);
    section.querySelector(`tr[data-id="${CSS.escape(show.id)}"] [data-action="reschedule"]`)?.focus();
  }

  /**
   * What cancelling refunds: the show's `revenue_minor` from the shows report (a window of one
   * minute around its start), with the number of live bookings; without the report (an older
   * server), the confirmed bookings' totals less what they were already refunded.
   */
  async function refundPreview(show) {
    const start = new Date(show.starts_at);
    const from = new Date(start.getTime() - 1000).toISOString();
    const to = new Date(start.getTime() + 60_000).toISOString();
    const [report, bookings] = await Promise.allSettled([
      api('GET', `/chains/${encodeURIComponent(chain.id)}/reports/shows?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
      showBookings(chain.id, show.id),
    ]);
    const items = bookings.status === 'fulfilled' ? bookings.value.items : null;
    const live = items ? items.filter((b) => b.status === 'confirmed' || b.status === 'held') : null;
    const item = report.status === 'fulfilled' ? (report.value.items || []).find((i) => i.show_id === show.id) : null;
    let refund = item ? item.revenue_minor : null;
    let source = 'report';
    if (refund === null && items) {
      refund = items.filter((b) => b.status === 'confirmed').reduce((n, b) => n + (b.total_minor || 0) - (b.refund_minor || 0), 0);
      source = 'bookings';
    }
    return { refund, source, live, reportError: report.status === 'rejected' ? report.reason : null, bookingsError: bookings.status === 'rejected' ? bookings.reason : null };
  }

  async function cancelShow(showId, button) {
    const show = state.shows.find((s) => s.id === showId);
    if (!show) return;
    button.disabled = true;
    let preview;
    try {
      preview = await refundPreview(show);
    } finally {
      button.disabled = false;
    }
    const held = preview.live ? preview.live.filter((b) => b.status === 'held').length : 0;
    const confirmed = preview.live ? preview.live.length - held : 0;
    const body = h`<p><strong>${names.movie(show.movie_id)}</strong>, ${dateTime(show.starts_at)}, ${names.theatre(show.theatre_id)} · ${names.screen(show.screen_id)}.</p>
      <dl class="stats cancel-preview">
        <div data-stat="refund"><dt>Refund total</dt><dd>${preview.refund === null ? 'unknown' : money(preview.refund, show.currency)}</dd></div>
        <div data-stat="bookings"><dt>Bookings cancelled</dt><dd>${preview.live ? preview.live.length : 'unknown'}</dd></div>
      </dl>
      ${preview.live ? h`<p>${confirmed} paid booking${confirmed === 1 ? '' : 's'} refunded in full, ${held} unpaid hold${held === 1 ? '' : 's'} released; every customer is emailed.</p>` : ''}
      ${preview.source === 'bookings' ? h`<p class="muted">The shows report is not available${preview.reportError ? ` (${preview.reportError.status} ${preview.reportError.code})` : ''}: the refund is summed from the bookings.</p>` : ''}
      ${preview.bookingsError ? h`<p class="alert">Bookings could not be read: ${problemText(preview.bookingsError)}</p>` : ''}
      <p>This cannot be undone.</p>`;
    if (!(await confirmDialog('Cancel this show?', body, 'Cancel the show'))) {
      button.focus();
      return;
    }
    try {
      const result = await api('POST', `/shows/${encodeURIComponent(show.id)}/cancel`, {});
      await refreshShows();
      toast(`Show cancelled: ${result.cancelled_bookings} booking${result.cancelled_bookings === 1 ? '' : 's'}, ${money(result.refunded_minor, show.currency)} refunded.`);
    } catch (err) {
      showError(part('shows'), err);
      toast(problemText(err), 'error');
    }
  }
}
