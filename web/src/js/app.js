// app.js - the dashboard's shell: navigation, the hash router, login gate.
//
// Routes live in the URL's fragment (#/messages/42) so that every view is a
// link the relay can serve as the same index.html, whatever characters a
// key has (reference keys such as X.7.1 have dots).
import { h, mount, errorBox } from './dom.js';
import { getKey, dropKey, setUnauthorizedHandler, api } from './api.js';
import * as login from './pages/login.js';
import * as overview from './pages/overview.js';
import * as mailboxes from './pages/mailboxes.js';
import * as domains from './pages/domains.js';
import * as messages from './pages/messages.js';
import * as tools from './pages/tools.js';
import * as reference from './pages/reference.js';

const NAV = [
  ['#/', 'Overview', 'overview'],
  ['#/mailboxes', 'Mailboxes', 'mailboxes'],
  ['#/domains', 'Domains', 'domains'],
  ['#/messages', 'Messages', 'messages'],
  ['#/tools', 'Tools', 'tools'],
  ['#/reference', 'SMTP error reference', 'reference'],
];

// [pattern, page module, nav id, needs a key]
const ROUTES = [
  [/^\/login$/, login, null, false],
  [/^\/?$/, overview, 'overview', true],
  [/^\/mailboxes$/, mailboxes, 'mailboxes', true],
  [/^\/domains(?:\/([^/]+))?$/, domains, 'domains', true],
  [/^\/messages(?:\/([^/]+))?$/, messages, 'messages', true],
  [/^\/tools(?:\/([^/]+))?$/, tools, 'tools', true],
  [/^\/reference(?:\/([^/]+)\/([^/]+))?$/, reference, 'reference', false],
];

const main = document.getElementById('main');
const ctx = { me: null };
let seq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

function renderNav(active) {
  mount(document.getElementById('nav'), NAV.map(([href, label, id]) =>
    h('a', { href, class: id === active ? 'active' : '', 'aria-current': id === active ? 'page' : null }, label)));
  const who = document.getElementById('who');
  if (getKey()) {
    const label = !ctx.me ? '' : ctx.me.role === 'admin' ? 'admin key' : `tenant ${ctx.me.tenant?.name || ''}`;
    mount(who, h('span', { id: 'whoami' }, label),
      h('button', { type: 'button', id: 'logout', onclick: () => { dropKey(); ctx.me = null; location.hash = '#/login'; } }, 'Log out'));
  } else {
    mount(who, h('a', { href: '#/login' }, 'Log in'));
  }
}

async function route() {
  const my = ++seq;
  const { path, query } = parseHash();
  let found = null;
  for (const [re, page, nav, auth] of ROUTES) {
    const m = re.exec(path);
    if (m) { found = { page, nav, auth, params: m.slice(1).map((x) => (x ? decodeURIComponent(x) : x)) }; break; }
  }
  if (!found) {
    renderNav(null);
    mount(main, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.')));
    return;
  }
  if (found.auth && !getKey()) {
    location.replace(`#/login?next=${encodeURIComponent(path)}`);
    return;
  }
  if (getKey() && !ctx.me) {
    try { ctx.me = await api('/v1/me'); } catch { ctx.me = null; }
  }
  renderNav(found.nav);
  document.title = 'coldpost';
  mount(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    await found.page.render(main, found.params, query, { ...ctx, current: () => my === seq });
  } catch (e) {
    if (my !== seq) return;
    console.warn('page failed', e);
    mount(main, h('h1', {}, 'Something went wrong'), errorBox(e));
  }
  if (my === seq) main.setAttribute('data-ready', path);
}

setUnauthorizedHandler(() => {
  dropKey();
  ctx.me = null;
  const { path } = parseHash();
  if (path !== '/login') location.replace(`#/login?next=${encodeURIComponent(path)}&expired=1`);
});

window.addEventListener('hashchange', route);
route();
