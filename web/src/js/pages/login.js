// login.js - log in with an API key (an admin key or a tenant's key).
import { h, mount, errorBox } from '../dom.js';
import { api, setKey } from '../api.js';

export async function render(main, _params, query) {
  const status = h('div', { id: 'login-status' });
  const input = h('input', { type: 'password', name: 'key', id: 'apikey', autocomplete: 'off',
    placeholder: 'cpk_…', required: true, spellcheck: 'false' });
  const form = h('form', {
    id: 'login-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      mount(status, h('p', { class: 'muted' }, 'Checking the key…'));
      try {
        await api('/v1/me', { key });
        setKey(key);
        location.hash = `#${query.get('next') || '/'}`;
      } catch (e) {
        mount(status, errorBox(e.status === 401 ? { message: 'The relay does not know this key.' } : e));
      }
    },
  },
  h('label', {}, 'API key', input),
  h('button', { type: 'submit' }, 'Log in'));
  mount(main, h('div', { class: 'login card' },
    h('h1', {}, 'Log in'),
    h('p', { class: 'muted' }, 'Paste an API key made with ', h('code', {}, 'coldpost apikey add'),
      '. It stays in this tab only (session storage) and is sent to this relay alone.'),
    query.get('expired') ? h('div', { class: 'error-box' }, 'The key was refused: log in again.') : null,
    form, status,
    h('p', { class: 'small muted' }, 'The ', h('a', { href: '#/reference' }, 'SMTP error reference'), ' needs no key.')));
  input.focus();
}
