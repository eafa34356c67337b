// One show: its facts, its live seat map (the seat-event stream keeps the picture and the
// counts beside it current without a reload), its bookings, check-ins and waiting list.

import { api, apiAll, h, mount, money, dateTime, time, problemText, badge } from '../lib.js';
import { liveSeatMap, seatCounts } from '../seatmap.js';
import { missingEndpoint, staffOf } from './day.js';

const STATES = ['available', 'held', 'sold', 'blocked'];
const CLASS_ORDER = ['standard', 'premium', 'vip', 'accessible', 'recliner'];

function alertBox(err, what) {
  if (what && missingEndpoint(err)) {
    return h`<p role="alert" class="alert">This server does not answer ${what} yet (${err.status} ${err.code}): it is older than the console.</p>`;
  }
  return h`<p role="alert" class="alert">${problemText(err)}</p>`;
}

/**
 * The show's bookings. `show_id` is a new filter of GET /bookings; an older server refuses the
 * unknown parameter (400), and then the chain's bookings are filtered here (up to 1000).
 */
export async function showBookings(chainId, showId) {
  const q = `chain_id=${encodeURIComponent(chainId)}`;
  try {
    return { items: await apiAll(`/bookings?${q}&show_id=${encodeURIComponent(showId)}&limit=200`, 1000), filtered: 'server' };
  } catch (err) {
    if (err.status !== 400) throw err;
    const all = await apiAll(`/bookings?${q}&limit=200`, 1000);
    return { items: all.filter((b) => b.show_id === showId), filtered: 'client' };
  }
}

function countsList(counts, total) {
  return h`<dl class="stats show-counts">
      ${STATES.map(
        (s) => h`<div data-count="${s}"><dt><span class="dy-swatch dy-swatch-${s}" aria-hidden="true"></span>${s}</dt><dd>${counts[s] || 0}</dd></div>`,
      )}
      <div data-count="total"><dt>seats</dt><dd>${total}</dd></div>
    </dl>`;
}

function legend(doc) {
  const classes = [...new Set((doc.items || []).map((s) => String(s.class || 'standard')))].sort(
    (a, b) => (CLASS_ORDER.indexOf(a) + 99) % 99 - (CLASS_ORDER.indexOf(b) + 99) % 99 || a.localeCompare(b),
  );
  return h`<ul class="legend show-legend" aria-label="Legend">
      ${STATES.map((s) => h`<li class="${s}">${s}</li>`)}
      ${classes.map((c) => h`<li class="dy-cls dy-cls-${c.replace(/[^a-z0-9_-]/gi, '')}">${c} seat</li>`)}
    </ul>`;
}

function bookingsTable(result, currency) {
  const { items, filtered } = result;
  const note = filtered === 'client' ? h`<p class="muted">This server has no show filter on bookings yet: the chain's latest bookings were filtered here.</p>` : '';
  if (!items.length) return h`${note}<p class="muted">No bookings for this show yet.</p>`;
  const live = items.filter((b) => b.status === 'confirmed' || b.status === 'held');
  const revenue = items.filter((b) => b.status === 'confirmed').reduce((n, b) => n + (b.total_minor || 0), 0);
  return h`${note}<p>${items.length} booking${items.length === 1 ? '' : 's'}, ${live.length} live, ${money(revenue, currency)} confirmed.</p>
    <div class="table-wrap">
      <table>
        <thead><tr><th scope="col">Booking</th><th scope="col">Status</th><th scope="col">Seats</th><th scope="col" class="num">Total</th><th scope="col" class="num">Refunded</th><th scope="col">Made</th></tr></thead>
        <tbody>${items.map(
          (b) => h`<tr data-id="${b.id}">
            <td><a href="#/bookings/${b.id}"><code>${b.id.slice(0, 8)}</code></a></td>
            <td>${badge(b.status)}</td>
            <td>${(b.seats || []).join(', ')}</td>
            <td class="num">${money(b.total_minor, b.currency)}</td>
            <td class="num">${b.refund_minor ? money(b.refund_minor, b.currency) : ''}</td>
            <td class="dy-nowrap">${dateTime(b.created_at)}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>`;
}

function checkinsPart(c) {
  const gates = Object.entries(c.by_gate || {}).sort(([a], [b]) => a.localeCompare(b));
  const pct = c.sold ? Math.round((100 * c.checked_in) / c.sold) : 0;
  return h`<dl class="stats">
      <div><dt>Tickets sold</dt><dd>${c.sold}</dd></div>
      <div data-stat="checked-in"><dt>Checked in</dt><dd>${c.checked_in} <span class="muted">(${pct}%)</span></dd></div>
    </dl>
    ${gates.length
      ? h`<div class="table-wrap"><table><thead><tr><th scope="col">Gate</th><th scope="col" class="num">Scans admitted</th></tr></thead>
          <tbody>${gates.map(([g, n]) => h`<tr><td>${g || h`<span class="muted">(no gate)</span>`}</td><td class="num">${n}</td></tr>`)}</tbody></table></div>`
      : h`<p class="muted">Nobody has checked in yet.</p>`}`;
}

function waitlistPart(items) {
  if (!items.length) return h`<p class="muted">Nobody is waiting for this show.</p>`;
  return h`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Position</th><th scope="col">Status</th><th scope="col" class="num">Seats</th><th scope="col">Class</th><th scope="col">Offer</th><th scope="col">Joined</th></tr></thead>
      <tbody>${items.map(
        (e) => h`<tr data-id="${e.id}">
          <td>${e.position ?? '—'}</td>
          <td>${badge(e.status)}</td>
          <td class="num">${e.seat_count}</td>
          <td>${e.seat_class || 'any'}</td>
          <td class="dy-nowrap">${e.booking_id ? h`<a href="#/bookings/${e.booking_id}">hold</a> until ${time(e.offer_expires_at)}` : ''}</td>
          <td class="dy-nowrap">${dateTime(e.created_at)}</td>
        </tr>`,
      )}</tbody>
    </table></div>`;
}

async function fill(el, load, view) {
  try {
    const data = await load();
    if (el.isConnected) mount(el, view(data));
  } catch (err) {
    if (el.isConnected) mount(el, alertBox(err, el.dataset.what));
  }
}

// Bookings are read with the show's own chain id (an admin may follow a link to any chain's
// show); an owner sees the page only for their own chains' shows.
export async function render(main, [showId], ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'show';
  main.append(section);
  mount(section, h`<h1>Show</h1><p class="loading">Loading…</p>`);
  let show;
  try {
    show = await api('GET', `/shows/${encodeURIComponent(showId)}`);
  } catch (err) {
    mount(section, h`<h1>Show</h1>${alertBox(err)}<p><a href="#/day">Back to today</a></p>`);
    return undefined;
  }
  // A show's facts and seats are public, its sales are not; the console shows neither to an
  // owner of another chain.
  let allowed;
  try {
    allowed = await staffOf(ctx, show.chain_id);
  } catch (err) {
    mount(section, h`<h1>Show</h1>${alertBox(err)}`);
    return undefined;
  }
  if (!allowed) {
    mount(section, h`<h1>Show</h1><p class="notice">This show belongs to a chain you do not work for.</p><p><a href="#/day">Back to today</a></p>`);
    return undefined;
  }
  const [movie, theatre, screen] = await Promise.all([
    api('GET', `/movies/${show.movie_id}`).catch(() => null),
    api('GET', `/theatres/${show.theatre_id}`).catch(() => null),
    api('GET', `/screens/${show.screen_id}`).catch(() => null),
  ]);
  if (!section.isConnected) return undefined;
  const title = movie ? movie.title : 'Show';
  const prices = Object.entries(show.prices || {});
  mount(
    section,
    h`<h1>${title} <span class="muted day-sub">${dateTime(show.starts_at)}</span></h1>
      <div class="grid two">
        <div class="card">
          <dl class="dy-facts">
            <dt>Status</dt><dd>${badge(show.status)}</dd>
            <dt>Starts</dt><dd>${dateTime(show.starts_at)}</dd>
            <dt>Ends</dt><dd>${dateTime(show.ends_at)}</dd>
            <dt>Theatre</dt><dd>${theatre ? theatre.name : show.theatre_id}</dd>
            <dt>Screen</dt><dd><a href="#/screens/${show.screen_id}">${screen ? screen.name : 'screen'}</a>${screen ? h` <span class="muted">(${screen.capacity} seats)</span>` : ''}</dd>
            <dt>Format</dt><dd>${show.format}</dd>
            <dt>Prices</dt><dd>${prices.map(([c, p]) => h`<span class="dy-price">${c} ${money(p, show.currency)}</span> `)}</dd>
            <dt>Seats available</dt><dd data-field="seats-available">${show.seats_available}</dd>
          </dl>
        </div>
        <div class="card">
          <h2 class="flush">Seats now</h2>
          <div data-part="counts"><p class="loading">Loading…</p></div>
          <div data-part="legend"></div>
        </div>
      </div>
      <h2>Seat map</h2>
      <div data-part="map" class="show-map"></div>
      <div class="grid two">
        <div>
          <h2>Check-ins</h2>
          <div data-part="checkins" class="card"><p class="loading">Loading…</p></div>
        </div>
        <div>
          <h2>Waiting list</h2>
          <div data-part="waitlist" data-what="the waiting list"><p class="loading">Loading…</p></div>
        </div>
      </div>
      <h2>Bookings</h2>
      <div data-part="bookings"><p class="loading">Loading…</p></div>`,
  );
  const part = (name) => section.querySelector(`[data-part="${name}"]`);
  let legendDrawn = false;
  let firstPicture = true;
  let refreshTimer = null;
  const sid = encodeURIComponent(show.id);
  const loadBookings = () => fill(part('bookings'), () => showBookings(show.chain_id, show.id), (r) => bookingsTable(r, show.currency));
  const loadCheckins = () => fill(part('checkins'), () => api('GET', `/shows/${sid}/checkins`), checkinsPart);
  const live = liveSeatMap(part('map'), show.id, {
    onChange(doc) {
      // A seat that changed state is a booking (or a check-in's sale) that changed: re-read
      // those lists too, once the burst of changes has settled.
      if (!firstPicture) {
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => {
          if (section.isConnected) {
            loadBookings();
            loadCheckins();
          }
        }, 1500);
      }
      firstPicture = false;
      const counts = seatCounts(doc);
      mount(part('counts'), countsList(counts, (doc.items || []).length));
      const avail = section.querySelector('[data-field="seats-available"]');
      if (avail) avail.textContent = String(counts.available);
      if (!legendDrawn) {
        mount(part('legend'), legend(doc));
        legendDrawn = true;
      }
    },
  });
  loadCheckins();
  fill(part('waitlist'), () => api('GET', `/shows/${sid}/waitlist?limit=200`).then((p) => p.items || []), waitlistPart);
  loadBookings();
  return () => {
    clearTimeout(refreshTimer);
    live.close();
  };
}
