// A show's seat map as a picture, kept live from the seat-event stream: the first event is
// the whole map, then each change names the seats that moved. EventSource sends the session
// cookie and reconnects by itself with Last-Event-ID, which the server resumes from.

import { api, escape } from './lib.js';

const STATES = ['available', 'held', 'sold', 'blocked'];
const CELL = 22;
const GAP = 4;

function rowOrder(a, b) {
  return a.length - b.length || a.localeCompare(b);
}

/** The SVG markup of a seat document `{items: [{id, row, number, class, state}]}`. */
export function seatMapSvg(doc, version) {
  const rows = new Map();
  for (const seat of doc.items || []) {
    if (!rows.has(seat.row)) rows.set(seat.row, []);
    rows.get(seat.row).push(seat);
  }
  const names = [...rows.keys()].sort(rowOrder);
  const maxNumber = Math.max(1, ...(doc.items || []).map((s) => s.number));
  const left = 28;
  const top = 34;
  const width = left + maxNumber * (CELL + GAP) + 8;
  const height = top + names.length * (CELL + GAP) + 8;
  let body = '';
  names.forEach((row, r) => {
    const y = top + r * (CELL + GAP);
    body += `<text class="row-label" x="4" y="${y + CELL * 0.7}">${escape(row)}</text>`;
    for (const seat of rows.get(row)) {
      const x = left + (seat.number - 1) * (CELL + GAP);
      const state = STATES.includes(seat.state) ? seat.state : 'blocked';
      const cls = String(seat.class || 'standard').replace(/[^a-z0-9_-]/gi, '');
      body +=
        `<rect class="seat seat-${state} class-${cls}" data-seat="${escape(seat.id)}" data-state="${state}" ` +
        `data-class="${cls}" x="${x}" y="${y}" width="${CELL}" height="${CELL}" rx="4">` +
        `<title>${escape(seat.id)}: ${state}, ${escape(seat.class || '')}</title></rect>`;
    }
  });
  const screenX = left;
  const screenW = Math.max(40, maxNumber * (CELL + GAP) - GAP);
  return (
    `<svg class="seat-map" role="img" aria-label="Seat map" data-version="${escape(version ?? '')}" ` +
    `viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMinYMin meet">` +
    `<rect class="screen-bar" x="${screenX}" y="6" width="${screenW}" height="8" rx="4"></rect>` +
    `<text class="screen-label" x="${screenX + screenW / 2}" y="28" text-anchor="middle">screen</text>` +
    body +
    `</svg>`
  );
}

/** Counts of each state in a document. */
export function seatCounts(doc) {
  const counts = { available: 0, held: 0, sold: 0, blocked: 0 };
  for (const seat of doc.items || []) counts[seat.state] = (counts[seat.state] || 0) + 1;
  return counts;
}

/**
 * Draws show `showId`'s map into `container` and keeps it live. `onChange(doc, version)` runs
 * after the first picture and after each change. Returns `{close()}`.
 */
export function liveSeatMap(container, showId, { onChange } = {}) {
  let doc = null;
  let version = null;
  let closed = false;
  const status = document.createElement('p');
  status.className = 'live-status';
  status.setAttribute('aria-live', 'polite');
  const picture = document.createElement('div');
  picture.className = 'seat-map-wrap';
  container.replaceChildren(picture, status);

  const draw = () => {
    picture.innerHTML = seatMapSvg(doc, version);
    if (onChange) onChange(doc, version);
  };
  const apply = (change) => {
    const byId = new Map(doc.items.map((s) => [s.id, s]));
    for (const { id, state } of change.seats || []) {
      const seat = byId.get(id);
      if (seat) seat.state = state;
      const node = picture.querySelector(`[data-seat="${CSS.escape(id)}"]`);
      if (node && STATES.includes(state)) {
        node.setAttribute('class', node.getAttribute('class').replace(/seat-[a-z]+/, `seat-${state}`));
        node.dataset.state = state;
        const title = node.querySelector('title');
        if (title) title.textContent = `${id}: ${state}, ${seat ? seat.class : ''}`;
      }
    }
    version = change.version;
    const svg = picture.querySelector('svg');
    if (svg) svg.dataset.version = String(version);
    if (onChange) onChange(doc, version);
  };

  // A first picture straight away, then the stream takes over (its snapshot replaces it).
  api('GET', `/shows/${encodeURIComponent(showId)}/seats`)
    .then((first) => {
      if (!closed && !doc) {
        doc = first;
        draw();
      }
    })
    .catch((err) => {
      status.textContent = `Could not load the seat map: ${err.message}`;
    });

  const source = new EventSource(`/api/v1/shows/${encodeURIComponent(showId)}/seats/events`);
  source.addEventListener('snapshot', (event) => {
    try {
      doc = JSON.parse(event.data);
      version = event.lastEventId || doc.version || null;
      draw();
      status.textContent = 'Live: changes appear as they happen.';
      status.dataset.live = 'true';
    } catch {
      status.textContent = 'The seat stream sent something unreadable; reload the page.';
    }
  });
  source.addEventListener('change', (event) => {
    if (!doc) return;
    try {
      apply(JSON.parse(event.data));
    } catch {
      /* a malformed change is ignored; the next snapshot corrects the picture */
    }
  });
  source.addEventListener('error', () => {
    if (!closed) {
      status.textContent = 'Live updates interrupted; reconnecting…';
      status.dataset.live = 'false';
    }
  });
  return {
    close() {
      closed = true;
      source.close();
    },
  };
}
