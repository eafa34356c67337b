// One screen: its facts and a picture of its rows, drawn with the seat map's own renderer so
// the preview looks like the live map (every seat available, or blocked where it is never sold).
// The row helpers here are shared with the catalogue page's screen editor.

import { api, h, raw, mount, dateTime, problemText } from '../lib.js';
import { seatMapSvg, seatCounts } from '../seatmap.js';
import { staffOf } from './day.js';

export const SEAT_CLASSES = ['standard', 'premium', 'vip', 'accessible'];

/** A screen's seats (`{id,row,number,class,blocked}`) as a seat-map document. */
export function seatsDoc(seats) {
  return { items: (seats || []).map((s) => ({ ...s, state: s.blocked ? 'blocked' : 'available' })) };
}

/** CreateScreen rows (`{label, seats, class, blocked}`) as the seats they will make. */
export function rowsToSeats(rows) {
  const seats = [];
  for (const row of rows) {
    const blocked = new Set(row.blocked || []);
    for (let n = 1; n <= row.seats; n++) {
      seats.push({ id: `${row.label}-${n}`, row: row.label, number: n, class: row.class, blocked: blocked.has(n) });
    }
  }
  return seats;
}

/** The rows of a screen's seats, in display order, compacted back to row specs. */
export function seatsToRows(seats) {
  const rows = new Map();
  for (const s of seats || []) {
    if (!rows.has(s.row)) rows.set(s.row, { label: s.row, seats: 0, classes: new Set(), blocked: [] });
    const r = rows.get(s.row);
    r.seats = Math.max(r.seats, s.number);
    r.classes.add(s.class);
    if (s.blocked) r.blocked.push(s.number);
  }
  return [...rows.values()].sort((a, b) => a.label.length - b.label.length || a.label.localeCompare(b.label));
}

/** The seat-map legend for a layout: available, blocked and each class present. */
export function layoutLegend(seats) {
  const classes = SEAT_CLASSES.filter((c) => (seats || []).some((s) => s.class === c));
  return h`<ul class="legend" aria-label="Legend">
      <li class="available">for sale</li><li class="blocked">blocked</li>
      ${classes.map((c) => h`<li class="dy-cls dy-cls-${c}">${c}</li>`)}
    </ul>`;
}

export async function render(main, [screenId], ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'screen';
  main.append(section);
  mount(section, h`<h1>Screen</h1><p class="loading">Loading…</p>`);
  let screen;
  try {
    screen = await api('GET', `/screens/${encodeURIComponent(screenId)}`);
  } catch (err) {
    mount(section, h`<h1>Screen</h1><p role="alert" class="alert">${problemText(err)}</p><p><a href="#/catalogue">Back to theatres</a></p>`);
    return;
  }
  let allowed;
  try {
    allowed = await staffOf(ctx, screen.chain_id);
  } catch (err) {
    mount(section, h`<h1>Screen</h1><p role="alert" class="alert">${problemText(err)}</p>`);
    return;
  }
  if (!allowed) {
    mount(section, h`<h1>Screen</h1><p class="notice">This screen belongs to a chain you do not work for.</p><p><a href="#/catalogue">Back to theatres</a></p>`);
    return;
  }
  const theatre = await api('GET', `/theatres/${screen.theatre_id}`).catch(() => null);
  if (!section.isConnected) return;
  const doc = seatsDoc(screen.seats);
  const counts = seatCounts(doc);
  const rows = seatsToRows(screen.seats);
  const byClass = SEAT_CLASSES.map((c) => [c, (screen.seats || []).filter((s) => s.class === c && !s.blocked).length]).filter(([, n]) => n);
  mount(
    section,
    h`<h1>${screen.name} <span class="muted day-sub">${theatre ? theatre.name : ''}</span></h1>
      <p><a href="#/catalogue">← Theatres &amp; shows</a></p>
      <dl class="stats">
        <div data-stat="capacity"><dt>Seats for sale</dt><dd>${screen.capacity}</dd></div>
        <div data-stat="blocked"><dt>Blocked</dt><dd>${counts.blocked}</dd></div>
        <div data-stat="rows"><dt>Rows</dt><dd>${rows.length}</dd></div>
        ${byClass.map(([c, n]) => h`<div data-stat="class-${c}"><dt>${c}</dt><dd>${n}</dd></div>`)}
      </dl>
      <div class="card">
        <dl class="dy-facts">
          <dt>Theatre</dt><dd>${theatre ? h`${theatre.name}, ${theatre.city}` : screen.theatre_id}</dd>
          <dt>Created</dt><dd>${dateTime(screen.created_at)}</dd>
          <dt>Screen id</dt><dd><code>${screen.id}</code></dd>
        </dl>
      </div>
      <h2>Seat rows</h2>
      <div class="seat-map-wrap screen-preview">${raw(seatMapSvg(doc, ''))}</div>
      ${layoutLegend(screen.seats)}
      <p class="muted">Seats cannot be changed once a screen exists; add a new screen for another layout.</p>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Row</th><th scope="col" class="num">Seats</th><th scope="col">Class</th><th scope="col">Blocked seats</th></tr></thead>
          <tbody>${rows.map(
            (r) => h`<tr data-row="${r.label}"><td>${r.label}</td><td class="num">${r.seats}</td><td>${[...r.classes].join(', ')}</td><td>${r.blocked.length ? r.blocked.join(', ') : '—'}</td></tr>`,
          )}</tbody>
        </table>
      </div>`,
  );
}
