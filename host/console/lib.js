// The console's small toolbox: calling the API with the session cookie and its CSRF token,
// building HTML that is escaped by default, formatting money and times, and the few widgets
// every page shares. No framework: the pages are plain modules over the public REST API.

let csrfToken = null;

/** Remembers the CSRF token of the current session (app.js sets it after sign-in). */
export function setCsrf(token) {
  csrfToken = token;
}

/** A problem+json answer (or a network failure) from the API. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || (status === 0 ? 'network' : 'http_' + status);
    this.title = (body && body.title) || '';
    this.detail = (body && body.detail) || '';
    this.errors = (body && body.errors) || null;
    this.body = body;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Calls `/api/v1<path>`. `body` is sent as JSON unless it is a Blob/ArrayBuffer/FormData
 * (then as is, with `opts.type` as its content type). Returns the parsed JSON, `null` for an
 * empty answer, or the Response itself with `opts.raw`. Throws ApiProblem for non-2xx.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  if (UNSAFE.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    payload = body;
    headers['content-type'] = opts.type || 'application/octet-stream';
  } else if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined && body !== null) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, opts.headers || {});
  const url = path.startsWith('/api/') ? path : '/api/v1' + path;
  let res;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiProblem(0, { title: 'Network error', detail: 'the server could not be reached: ' + e.message });
  }
  if (opts.raw && res.ok) return res;
  const text = await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = res.ok ? text : { detail: text.slice(0, 300) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.noSigninRedirect) {
      window.dispatchEvent(new CustomEvent('cineflow:signed-out'));
    }
    throw new ApiProblem(res.status, json);
  }
  return json;
}

/** Every item of a paged list (`{items, next_cursor}`), up to `max` items. */
export async function apiAll(path, max = 500) {
  const items = [];
  let cursor = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page = await api('GET', path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''));
    items.push(...(page.items || []));
    cursor = page.next_cursor || null;
  } while (cursor && items.length < max);
  return items.slice(0, max);
}

// --- HTML that is escaped unless marked otherwise ----------------------------------------

class Html {
  constructor(s) {
    this.s = s;
  }
  toString() {
    return this.s;
  }
}

/** Marks a string as trusted HTML (only for markup this code wrote itself). */
export function raw(s) {
  return new Html(String(s));
}

export function escape(v) {
  return String(v)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function part(v) {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(part).join('');
  return escape(v);
}

/** Tagged template: every interpolation is HTML-escaped; arrays are joined; `raw()` passes. */
export function h(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Replaces `el`'s content with an `h` result. */
export function mount(el, html) {
  el.innerHTML = part(html);
  return el;
}

/** Event delegation: `fn(event, matchedElement)` for events on `selector` inside `root`. */
export function on(root, type, selector, fn) {
  const listener = (event) => {
    const target = event.target instanceof Element ? event.target.closest(selector) : null;
    if (target && root.contains(target)) fn(event, target);
  };
  root.addEventListener(type, listener);
  return () => root.removeEventListener(type, listener);
}

/** A form's fields as an object; empty strings dropped; `data-type="int"` inputs as numbers. */
export function formData(form) {
  const out = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === 'checkbox') {
      out[field.name] = field.checked;
      continue;
    }
    if (field.type === 'radio' && !field.checked) continue;
    const value = field.value.trim();
    if (value === '') continue;
    out[field.name] = field.dataset.type === 'int' ? Number.parseInt(value, 10) : value;
  }
  return out;
}

// --- formatting ------------------------------------------------------------------------------

const DIGITS = { JPY: 0, KRW: 0, BHD: 3, KWD: 3 };

/** Minor units as money: `money(125050, 'INR')` → "₹1,250.50". */
export function money(minor, currency = 'INR') {
  if (minor === null || minor === undefined) return '—';
  const digits = DIGITS[currency] ?? 2;
  const value = Number(minor) / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency}`;
  }
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function date(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

export function time(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'short' });
}

export function ago(iso) {
  if (!iso) return '—';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  const abs = Math.abs(s);
  const [n, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return s >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/** Local YYYY-MM-DD of a Date. */
export function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** "Title: detail (code)", for an alert. */
export function problemText(err) {
  if (err instanceof ApiProblem) {
    const fields = err.errors
      ? ' ' + Object.entries(err.errors).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`).join('; ')
      : '';
    return `${err.title || 'Error'}: ${err.detail || err.message}${fields} (${err.code})`;
  }
  return String(err && err.message ? err.message : err);
}

/** Shows `err` in the page's alert box (`[role=alert]` inside `root`, created if missing). */
export function showError(root, err) {
  let box = root.querySelector('[role="alert"]');
  if (!box) {
    box = document.createElement('p');
    box.setAttribute('role', 'alert');
    box.className = 'alert';
    root.prepend(box);
  }
  box.textContent = problemText(err);
  box.hidden = false;
  return box;
}

// --- widgets ---------------------------------------------------------------------------------

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(message, kind = 'ok') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = document.createElement('div');
    region.id = 'toasts';
    region.setAttribute('aria-live', 'polite');
    document.body.append(region);
  }
  const item = document.createElement('p');
  item.className = `toast toast-${kind}`;
  item.textContent = message;
  region.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** A modal question; resolves true when confirmed. `body` is an `h` result or text. */
export function confirmDialog(title, body, confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'confirm';
    mount(
      dialog,
      h`<form method="dialog">
          <h2>${title}</h2>
          <div class="dialog-body">${body}</div>
          <menu>
            <button value="cancel" type="submit" class="secondary">Cancel</button>
            <button value="ok" type="submit" class="danger" data-confirm>${confirmLabel}</button>
          </menu>
        </form>`,
    );
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    dialog.showModal();
    dialog.querySelector('[data-confirm]').focus();
  });
}

/** `<select>` options from `[value, label]` pairs, `selected` marked. */
export function options(pairs, selected) {
  return pairs.map(([v, label]) => h`<option value="${v}" ${v === selected ? raw('selected') : ''}>${label}</option>`);
}

/** A status word as a coloured badge. */
export function badge(status) {
  return h`<span class="badge badge-${String(status).replace(/[^a-z0-9_-]/gi, '')}">${status}</span>`;
}

/** Reads a File as an ArrayBuffer. */
export function readFile(file) {
  return file.arrayBuffer();
}
