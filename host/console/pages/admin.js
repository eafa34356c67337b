// For admins: owners waiting for approval (GET /users?role=owner&status=pending, approved or
// rejected with PATCH /users/{id} {status}), every chain (GET /chains) and every user
// (GET /users with role and status filters, a page at a time). The API filters users by role
// and status only; the text search narrows the pages already loaded.

import { api, h, mount, on, showError, toast, confirmDialog, problemText, dateTime, badge, options } from '../lib.js';
import { cardTables } from './bookings.js';

const users = { role: '', status: '', text: '', items: [], cursor: null };

export async function render(main, _params, ctx) {
  const section = document.createElement('section');
  section.dataset.page = 'admin';
  main.append(section);
  if (!ctx.user || ctx.user.role !== 'admin') {
    mount(
      section,
      h`<h1>Admin</h1>
        <p class="notice" role="alert">Admins only: this page approves owners and lists every chain and user. You are signed in as ${ctx.user ? ctx.user.role : 'nobody'}.</p>
        <p><a href="#/day">Back to today</a></p>`,
    );
    return;
  }
  mount(
    section,
    h`<h1>Admin</h1>
      <p role="alert" class="alert" hidden></p>
      <h2 id="ad-pending-h">Owners waiting for approval</h2>
      <div id="ad-pending"><p class="loading">Loading…</p></div>
      <h2 id="ad-chains-h">Chains</h2>
      <div id="ad-chains"><p class="loading">Loading…</p></div>
      <h2 id="ad-users-h">Users</h2>
      <form id="ad-users-form" class="inline card">
        <div><label for="ad-role">Role</label>
          <select id="ad-role" name="role">${options([['', 'Any'], ['customer', 'customer'], ['owner', 'owner'], ['admin', 'admin']], users.role)}</select></div>
        <div><label for="ad-status">Status</label>
          <select id="ad-status" name="status">${options([['', 'Any'], ['approved', 'approved'], ['pending', 'pending'], ['rejected', 'rejected']], users.status)}</select></div>
        <div><label for="ad-text">Name or email contains</label>
          <input id="ad-text" name="text" type="search" value="${users.text}" autocomplete="off"></div>
        <button type="submit">Search</button>
      </form>
      <div id="ad-users" aria-live="polite"><p class="loading">Loading…</p></div>`,
  );
  const alertBox = section.querySelector('[role="alert"]');
  const pendingBox = section.querySelector('#ad-pending');
  const chainsBox = section.querySelector('#ad-chains');
  const usersBox = section.querySelector('#ad-users');
  const usersForm = section.querySelector('#ad-users-form');

  async function loadPending() {
    try {
      const page = await api('GET', '/users?role=owner&status=pending&limit=200');
      const items = page.items || [];
      mount(
        pendingBox,
        items.length
          ? h`<div class="table-wrap"><table class="cards">
              <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Signed up</th><th scope="col">Decision</th></tr></thead>
              <tbody>${items.map(
                (u) => h`<tr data-id="${u.id}">
                  <td>${u.name}</td><td>${u.email}</td><td>${dateTime(u.created_at)}</td>
                  <td class="ad-actions">
                    <button type="button" data-set-status="approved" data-user="${u.id}" data-label="${u.name} <${u.email}>">Approve</button>
                    <button type="button" class="danger" data-set-status="rejected" data-user="${u.id}" data-label="${u.name} <${u.email}>">Reject</button>
                  </td>
                </tr>`,
              )}</tbody></table></div>
              ${page.next_cursor ? h`<p class="muted">More are waiting: the first 200 are shown.</p>` : ''}`
          : h`<p class="muted">Nobody is waiting.</p>`,
      );
      cardTables(pendingBox);
    } catch (err) {
      mount(pendingBox, h`<p class="alert">${problemText(err)}</p>`);
    }
  }

  async function loadChains() {
    try {
      const page = await api('GET', '/chains?limit=200');
      const items = page.items || [];
      mount(
        chainsBox,
        items.length
          ? h`<div class="table-wrap"><table>
              <thead><tr><th scope="col">Name</th><th scope="col">Currency</th><th scope="col">Time zone</th><th scope="col">Created</th><th scope="col">Console</th></tr></thead>
              <tbody>${items.map(
                (c) => h`<tr data-id="${c.id}">
                  <td>${c.name}</td><td>${c.currency}</td><td>${c.timezone}</td><td>${dateTime(c.created_at)}</td>
                  <td>${ctx.chain && ctx.chain.id === c.id ? h`<span class="badge badge-active">selected</span>` : h`<button type="button" class="secondary" data-pick="${c.id}">Look at this chain</button>`}</td>
                </tr>`,
              )}</tbody></table></div>
              ${page.next_cursor ? h`<p class="muted">The first 200 chains are shown.</p>` : ''}`
          : h`<p class="muted">No chains yet.</p>`,
      );
    } catch (err) {
      mount(chainsBox, h`<p class="alert">${problemText(err)}</p>`);
    }
  }

  // Picking a chain goes through the header's chain picker, so the whole console follows.
  on(chainsBox, 'click', 'button[data-pick]', (_e, button) => {
    const picker = document.getElementById('chain-picker');
    if (!picker || ![...picker.options].some((o) => o.value === button.dataset.pick)) {
      showError(section, new Error('That chain is not in the header’s chain picker (more than 100 chains?).'));
      return;
    }
    picker.value = button.dataset.pick;
    picker.dispatchEvent(new Event('change'));
    toast('Chain selected.');
  });

  async function loadUsers(more = false) {
    const params = new URLSearchParams({ limit: '100' });
    if (users.role) params.set('role', users.role);
    if (users.status) params.set('status', users.status);
    if (more && users.cursor) params.set('cursor', users.cursor);
    try {
      const page = await api('GET', `/users?${params}`);
      users.items = more ? users.items.concat(page.items || []) : page.items || [];
      users.cursor = page.next_cursor;
      paintUsers();
    } catch (err) {
      mount(usersBox, h`<p class="alert">${problemText(err)}</p>`);
    }
  }

  function paintUsers() {
    const needle = users.text.toLowerCase();
    const shown = needle
      ? users.items.filter((u) => u.email.toLowerCase().includes(needle) || (u.name || '').toLowerCase().includes(needle))
      : users.items;
    mount(
      usersBox,
      h`<p class="muted">${shown.length} of ${users.items.length} loaded user(s)${users.cursor ? ', more to load' : ''}.</p>
        ${
          shown.length
            ? h`<div class="table-wrap"><table class="cards">
                <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Change</th></tr></thead>
                <tbody>${shown.map(
                  (u) => h`<tr data-id="${u.id}">
                    <td>${u.name}</td><td>${u.email}</td><td>${u.role}</td><td>${badge(u.status)}</td><td>${dateTime(u.created_at)}</td>
                    <td class="ad-actions">
                      ${u.status !== 'approved' ? h`<button type="button" class="secondary" data-set-status="approved" data-user="${u.id}" data-label="${u.name} <${u.email}>">Approve</button>` : ''}
                      ${u.status !== 'rejected' && u.id !== ctx.user.id ? h`<button type="button" class="danger" data-set-status="rejected" data-user="${u.id}" data-label="${u.name} <${u.email}>">Reject</button>` : ''}
                    </td>
                  </tr>`,
                )}</tbody></table></div>`
            : h`<p class="muted">No users match.</p>`
        }
        ${users.cursor ? h`<div class="actions"><button type="button" class="secondary" id="ad-more">Load more users</button></div>` : ''}`,
    );
    cardTables(usersBox);
  }

  usersForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const f = usersForm.elements;
    const refetch = f.role.value !== users.role || f.status.value !== users.status || !users.items.length;
    users.role = f.role.value;
    users.status = f.status.value;
    users.text = f.text.value.trim();
    if (refetch) loadUsers();
    else paintUsers();
  });
  usersForm.elements.text.addEventListener('input', (event) => {
    users.text = event.target.value.trim();
    paintUsers();
  });
  on(usersBox, 'click', '#ad-more', () => loadUsers(true));

  on(section, 'click', 'button[data-set-status]', async (_e, button) => {
    const status = button.dataset.setStatus;
    const who = button.dataset.label;
    if (status === 'rejected') {
      const ok = await confirmDialog('Reject this account?', h`<p>${who} loses every power of their role and cannot sign in any more.</p>`, 'Reject');
      if (!ok) return;
    }
    button.disabled = true;
    try {
      const u = await api('PATCH', `/users/${button.dataset.user}`, { status });
      alertBox.hidden = true;
      toast(`${u.email} is ${u.status}${status === 'approved' ? ' (they are emailed)' : ''}.`);
      await Promise.all([loadPending(), loadUsers()]);
    } catch (err) {
      showError(section, err);
      button.disabled = false;
    }
  });

  await Promise.all([loadPending(), loadChains(), loadUsers()]);
}
