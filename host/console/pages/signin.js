// Sign in: the session cookie is set by POST /auth/session; the page never sees the token.

import { api, h, mount, formData, showError } from '../lib.js';
import { signedIn } from '../app.js';

export async function render(main) {
  mount(
    main,
    h`<section data-page="signin" class="narrow">
        <h1>Sign in</h1>
        <p>Chain staff and admins manage their cinemas and their components here.</p>
        <form id="signin-form" class="stack">
          <label for="signin-email">Email</label>
          <input id="signin-email" name="email" type="email" autocomplete="username" required>
          <label for="signin-password">Password</label>
          <input id="signin-password" name="password" type="password" autocomplete="current-password" required>
          <button type="submit">Sign in</button>
        </form>
      </section>`,
  );
  const form = main.querySelector('#signin-form');
  main.querySelector('#signin-email').focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const session = await api('POST', '/auth/session', formData(form), { noSigninRedirect: true });
      if (session.user.role === 'customer') {
        showError(main.querySelector('section'), new Error('This console is for chain staff and admins; customers book through the API or a chain’s own site.'));
        await api('DELETE', '/auth/session', undefined, { headers: { 'x-csrf-token': session.csrf_token } }).catch(() => {});
        return;
      }
      await signedIn(session);
    } catch (err) {
      showError(main.querySelector('section'), err);
    } finally {
      button.disabled = false;
    }
  });
}
