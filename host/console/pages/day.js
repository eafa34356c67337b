// The chain's day: today's and tomorrow's shows per theatre and screen with their occupancy and
// revenue (the shows report), the last 30 days of sales as a bar chart (the sales report), and
// a few totals. Both reports are chain endpoints: the owner's chain id is always in the path.

import { api, h, raw, mount, money, time, isoDay, problemText, badge } from '../lib.js';
import { barChart } from '../chart.js';

/** The browser's IANA zone, which the sales report buckets days in. */
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * True when the server has no such route (an older binary than the console): the router's own
 * 404 says "no such resource", and a route without this method is 405. A 404 from a handler
 * (another chain's reports) says what is missing and is shown as it is.
 */
export function missingEndpoint(err) {
  return Boolean(err) && (err.status === 405 || (err.status === 404 && err.detail === 'no such resource'));
}

/**
 * Whether the signed-in user is staff of `chainId` (admins are of every chain). Theatres,
 * screens and shows are public reads, so the console asks before showing an owner anything of a
 * chain: GET /chains/{id}/members answers only its members (404 for anyone else).
 * Resolves true, false, or throws for any other failure.
 */
export async function staffOf(ctx, chainId) {
  if (ctx.user && ctx.user.role === 'admin') return true;
  try {
    await api('GET', `/chains/${encodeURIComponent(chainId)}/members?limit=1`);
    return true;
  } catch (err) {
    if (err.status === 404 || err.status === 403) return false;
    throw err;
  }
}

function reportProblem(err, what) {
  if (missingEndpoint(err)) {
    return h`<p role="alert" class="alert">This server does not answer ${what} yet (${err.status} ${err.code}): it is older than the console. Update the binary and reload.</p>`;
  }
  return h`<p role="alert" class="alert">${problemText(err)}</p>`;
}

/** Sold + held over capacity, as a whole percentage (0 with no capacity). */
export function occupancy(item) {
  const used = (item.seats_sold || 0) + (item.seats_held || 0);
  return item.capacity > 0 ? Math.round((100 * used) / item.capacity) : 0;
}

/** A bar of sold and held seats; widths are set from data-* by `sizeBars` (no style=). */
export function occupancyBar(item) {
  const cap = Math.max(0, item.capacity || 0);
  const sold = item.seats_sold || 0;
  const held = item.seats_held || 0;
  const pct = occupancy(item);
  const sPct = cap ? Math.min(100, (100 * sold) / cap) : 0;
  const hPct = cap ? Math.min(100 - sPct, (100 * held) / cap) : 0;
  return h`<span class="dy-occ">
      <span class="dy-occ-bar" aria-hidden="true"><span class="dy-occ-sold" data-w="${sPct.toFixed(1)}"></span><span class="dy-occ-held" data-w="${hPct.toFixed(1)}"></span></span>
      <span class="dy-occ-text">${pct}% <span class="muted">(${sold} sold${held ? `, ${held} held` : ''} / ${cap})</span></span>
    </span>`;
}

/** Applies the bars' widths (CSP forbids style attributes in markup, not el.style). */
export function sizeBars(root) {
  for (const el of root.querySelectorAll('[data-w]')) el.style.width = `${el.dataset.w}%`;
}

function dayLabel(iso, todayKey) {
  const key = isoDay(new Date(iso));
  return key === todayKey ? 'Today' : 'Tomorrow';
}

function showsTables(items, todayKey) {
  if (!items.length) return h`<p class="notice">No shows today or tomorrow. <a href="#/catalogue">Schedule one</a>.</p>`;
  const theatres = new Map();
  for (const item of items) {
    const t = item.theatre || { id: '?', name: '?' };
    if (!theatres.has(t.id)) theatres.set(t.id, { theatre: t, screens: new Map() });
    const screens = theatres.get(t.id).screens;
    const s = item.screen || { id: '?', name: '?' };
    if (!screens.has(s.id)) screens.set(s.id, { screen: s, shows: [] });
    screens.get(s.id).shows.push(item);
  }
  const byName = (a, b) => String(a).localeCompare(String(b));
  return [...theatres.values()]
    .sort((a, b) => byName(a.theatre.name, b.theatre.name))
    .map(({ theatre, screens }) => {
      const list = [...screens.values()].sort((a, b) => byName(a.screen.name, b.screen.name));
      const revenue = list.flatMap((s) => s.shows).reduce((n, i) => n + (i.revenue_minor || 0), 0);
      const currency = list[0].shows[0].currency;
      return h`<section class="card day-theatre" data-id="${theatre.id}">
          <h2>${theatre.name} <span class="muted day-sub">${money(revenue, currency)}</span></h2>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Screen</th><th scope="col">When</th><th scope="col">Movie</th><th scope="col">Occupancy</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Checked in</th><th scope="col">Status</th></tr></thead>
              <tbody>
                ${list.map(({ screen, shows }) =>
                  shows
                    .sort((a, b) => a.starts_at.localeCompare(b.starts_at))
                    .map(
                      (item, i) => h`<tr data-id="${item.show_id}">
                        ${i === 0 ? h`<th scope="row" rowspan="${shows.length}" class="day-screen"><a href="#/screens/${screen.id}">${screen.name}</a></th>` : ''}
                        <td><a href="#/shows/${item.show_id}">${dayLabel(item.starts_at, todayKey)} ${time(item.starts_at)}</a></td>
                        <td>${item.movie ? item.movie.title : ''}</td>
                        <td>${occupancyBar(item)}</td>
                        <td class="num">${money(item.revenue_minor, item.currency)}</td>
                        <td class="num">${item.checked_in ?? 0}</td>
                        <td>${badge(item.status)}</td>
                      </tr>`,
                    ),
                )}
              </tbody>
            </table>
          </div>
        </section>`;
    });
}

function shortDate(key) {
  // "2026-12-07" → "7 Dec" in the browser's language, at noon so no zone shifts the day.
  const d = new Date(`${key}T12:00:00`);
  return Number.isNaN(d.getTime()) ? key : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

function salesChart(report) {
  const days = report.days || [];
  const currency = report.currency || 'INR';
  const labels = days.map((d) => shortDate(d.date));
  const series = [{ name: 'Revenue', values: days.map((d) => d.revenue_minor) }];
  const total = days.reduce((n, d) => n + (d.revenue_minor || 0), 0);
  const seats = days.reduce((n, d) => n + (d.seats || 0), 0);
  return h`<p class="muted">${money(total, currency)} from ${seats} seats in ${days.length} days (days in ${report.tz || browserZone()}).</p>
    <figure class="day-chart">
      ${raw(barChart({ labels, series, format: (v) => money(v, currency), title: 'Revenue per day, last 30 days', labelEvery: 5 }))}
      <figcaption class="visually-hidden">Revenue per day for the last ${days.length} days</figcaption>
    </figure>
    <details>
      <summary>Sales per day as a table</summary>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Day</th><th scope="col" class="num">Bookings</th><th scope="col" class="num">Seats</th><th scope="col" class="num">Revenue</th><th scope="col" class="num">Refunds</th></tr></thead>
          <tbody>${[...days].reverse().map(
            (d) => h`<tr><td>${d.date}</td><td class="num">${d.bookings}</td><td class="num">${d.seats}</td><td class="num">${money(d.revenue_minor, currency)}</td><td class="num">${money(d.refunds_minor, currency)}</td></tr>`,
          )}</tbody>
        </table>
      </div>
    </details>`;
}

function totals({ shows, sales, todayKey }) {
  const today = sales && sales.days && sales.days.length ? sales.days[sales.days.length - 1] : null;
  const currency = (sales && sales.currency) || (shows && shows[0] && shows[0].currency) || 'INR';
  const todays = (shows || []).filter((i) => isoDay(new Date(i.starts_at)) === todayKey);
  const held = (shows || []).reduce((n, i) => n + (i.seats_held || 0), 0);
  const cap = todays.reduce((n, i) => n + (i.capacity || 0), 0);
  const used = todays.reduce((n, i) => n + (i.seats_sold || 0) + (i.seats_held || 0), 0);
  const stat = (id, label, value) => h`<div data-stat="${id}"><dt>${label}</dt><dd>${value}</dd></div>`;
  return h`<dl class="stats day-stats">
      ${stat('revenue-today', "Today's revenue", today ? money(today.revenue_minor, currency) : '—')}
      ${stat('seats-today', 'Seats sold today', today ? today.seats : '—')}
      ${stat('holds', 'Seats on hold now', shows ? held : '—')}
      ${stat('shows-today', "Today's shows", shows ? `${todays.length}${cap ? ` · ${Math.round((100 * used) / cap)}% full` : ''}` : '—')}
    </dl>`;
}

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'day';
  main.append(section);
  if (!ctx.chain) {
    mount(section, h`<h1>Today</h1><p class="notice">There is no chain yet. Create one through the API (POST /api/v1/chains) or ask an admin to add you to one.</p>`);
    return;
  }
  const chain = ctx.chain;
  try {
    if (!(await staffOf(ctx, chain.id))) {
      mount(section, h`<h1>Today</h1><p class="notice">${chain.name} is not a chain you work for: pick one of yours.</p>`);
      return;
    }
  } catch (err) {
    mount(section, h`<h1>Today</h1><p role="alert" class="alert">${problemText(err)}</p>`);
    return;
  }
  const now = new Date();
  const todayKey = isoDay(now);
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 2);
  mount(
    section,
    h`<h1>Today at ${chain.name}</h1>
      <p class="muted">${start.toLocaleDateString(undefined, { dateStyle: 'full' })} · refreshed every minute · <button type="button" class="secondary" data-action="reload">Refresh now</button></p>
      <div data-part="totals">${totals({ shows: null, sales: null, todayKey })}</div>
      <h2>Today's and tomorrow's shows</h2>
      <div data-part="shows"><p class="loading">Loading shows…</p></div>
      <h2>Sales, last 30 days</h2>
      <div data-part="sales" class="card"><p class="loading">Loading sales…</p></div>`,
  );
  const id = encodeURIComponent(chain.id);
  const load = async () => {
    const [shows, sales] = await Promise.allSettled([
      api('GET', `/chains/${id}/reports/shows?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`),
      api('GET', `/chains/${id}/reports/sales?days=30&tz=${encodeURIComponent(browserZone())}`),
    ]);
    if (!section.isConnected) return;
    const showItems = shows.status === 'fulfilled' ? shows.value.items || [] : null;
    const salesDoc = sales.status === 'fulfilled' ? sales.value : null;
    mount(section.querySelector('[data-part="totals"]'), totals({ shows: showItems, sales: salesDoc, todayKey }));
    const showsPart = section.querySelector('[data-part="shows"]');
    mount(
      showsPart,
      showItems
        ? h`${shows.value.truncated ? h`<p class="notice">More than ${showItems.length} shows in these two days: only the first ${showItems.length} are listed.</p>` : ''}${showsTables(showItems, todayKey)}`
        : reportProblem(shows.reason, 'the shows report'),
    );
    sizeBars(showsPart);
    mount(section.querySelector('[data-part="sales"]'), salesDoc ? salesChart(salesDoc) : reportProblem(sales.reason, 'the sales report'));
  };
  section.querySelector('[data-action="reload"]').addEventListener('click', () => load());
  await load();
  // The day moves on while the page is open: re-read both reports every minute.
  const timer = setInterval(() => {
    // Not while someone is tabbing through the tables: redrawing them would lose their place.
    const busy = section.contains(document.activeElement) && !document.activeElement.matches('[data-action="reload"]');
    if (section.isConnected && document.visibilityState === 'visible' && !busy) load();
  }, 60_000);
  return () => clearInterval(timer);
}
