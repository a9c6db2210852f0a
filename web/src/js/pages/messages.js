// messages.js - message search and one message's detail: its recipients'
// states and every delivery attempt with the receiver's answer as the
// classifier read it (cause family, reason, receiver), linked to the SMTP
// error reference.
//
// GET /v1/messages lists envelopes (newest first, paged by id with
// ?before=) with their first recipients and states; the server searches
// (?q= in senders, Message-IDs, recipients, replies, ids; ?state= a
// recipient state), so a search reaches every message, not only the page.
import { h, mount, badge, when, table, kv, num } from '../dom.js';
import { api } from '../api.js';
import { refHref, codeHref } from './reference.js';
import { itemsOf, tenantNames, mailboxList } from '../lookups.js';

const PAGE = 50;
const STATES = ['', 'queued', 'deferred', 'held', 'delivered', 'bounced', 'expired', 'cancelled'];
// The state a message shows: the most pressing of its recipients'.
const ORDER = ['deferred', 'queued', 'held', 'bounced', 'expired', 'cancelled', 'delivered'];

export async function render(main, params, query, ctx) {
  if (params[0]) return renderDetail(main, params[0], ctx);
  return renderList(main, query, ctx);
}

function rcptsOf(m) {
  return m.recipient_list || [];
}

export function messageState(m) {
  const s = rcptsOf(m).map((r) => r.state);
  if (!s.length) return m.open > 0 ? 'queued' : (m.finished ? 'finished' : '–');
  for (const w of ORDER) if (s.includes(w)) return w;
  return s[0];
}

function lastReply(m) {
  for (const r of rcptsOf(m)) if (r.last && r.last.reply) return r.last.reply;
  return '';
}

async function renderList(main, query, ctx) {
  const q = (query.get('q') || '').trim();
  const state = query.get('state') || '';
  const before = query.get('before') || '';
  const [r, mailboxes] = await Promise.all([
    api('/v1/messages', { query: { limit: PAGE, before, q, state } }),
    mailboxList().catch(() => [])]);
  const mbox = new Map(mailboxes.map((m) => [m.id, m.address]));
  // each listed message carries its recipients and their states
  const list = itemsOf(r);
  if (!ctx.current()) return;

  const form = h('form', { class: 'toolbar', id: 'message-search', onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    const f = new FormData(ev.target);
    for (const k of ['q', 'state']) if (f.get(k)) p.set(k, f.get(k));
    location.hash = `#/messages${p.toString() ? `?${p}` : ''}`;
  } },
  h('label', {}, 'Search (recipient, sender, Message-ID, queue id, reply text)',
    h('input', { type: 'search', name: 'q', value: q, size: 40 })),
  h('label', {}, 'Recipient state', h('select', { name: 'state' }, STATES.map((s) =>
    h('option', { value: s, selected: s === state ? true : null }, s || 'any')))),
  h('button', { type: 'submit' }, 'Search'),
  h('button', { type: 'button', class: 'secondary', id: 'refresh', onclick: async () => {
    main.removeAttribute('data-ready');
    await renderList(main, query, ctx);
    if (ctx.current()) main.setAttribute('data-ready', '/messages');
  } }, 'Refresh'));
  const oldest = list.length ? list[list.length - 1].id : null;
  const older = list.length === PAGE ? (() => {
    const p = new URLSearchParams(query);
    p.set('before', String(oldest));
    return h('p', {}, h('a', { href: `#/messages?${p}`, id: 'older' }, 'Older messages →'));
  })() : null;
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Messages'),
      h('span', { class: 'muted' }, q || state ? `${num(list.length)} matching${list.length === PAGE ? ' (newest first; more below)' : ''}${before ? ` before #${before}` : ''}`
        : `${num(list.length)} newest${before ? ` before #${before}` : ''}`)),
    form,
    table([
      { label: 'Queue id', render: (m) => h('a', { href: `#/messages/${encodeURIComponent(m.id)}` }, String(m.id)) },
      { label: 'Received', render: (m) => when(m.received) },
      { label: 'Mailbox', render: (m) => mbox.get(m.mailbox) || m.mail_from || '' },
      { label: 'To', render: (m) => rcptsOf(m).map((x) => x.address).join(', ') || `${num(m.recipients)} recipients` },
      { label: 'State', render: (m) => badge(messageState(m)) },
      { label: 'Last answer', render: (m) => {
        const last = lastReply(m);
        return last ? h('span', { class: 'small mono' }, last.length > 90 ? `${last.slice(0, 90)}…` : last) : '';
      } },
    ], list, {
      id: 'messages-table',
      empty: q || state ? 'No message matches.' : 'No messages yet: send one through SMTP or POST /v1/messages.',
      onrow: (m) => { location.hash = `#/messages/${encodeURIComponent(m.id)}`; },
      rowAttrs: (m) => ({ 'data-id': String(m.id), 'data-state': messageState(m) }),
    }),
    older);
}

async function answerLinks(a) {
  const out = [];
  const e = a.enhanced ? await codeHref(a.enhanced) : null;
  if (e) out.push(h('a', { href: e, class: 'badge info', title: 'reference page of this code' }, a.enhanced));
  const c = a.code ? await codeHref(String(a.code)) : null;
  if (c) out.push(h('a', { href: c, class: 'badge info', title: 'reference page of this code' }, String(a.code)));
  if (a.cause) out.push(h('a', { href: refHref('cause', a.cause), class: 'badge warn', title: 'cause family' }, a.cause));
  if (a.receiver && a.receiver !== 'unknown') out.push(h('a', { href: refHref('receiver', a.receiver), class: 'badge', title: 'receiver' }, a.receiver));
  if (a.reason) out.push(h('code', { class: 'small', title: 'reason' }, a.reason));
  return out;
}

function toneOf(outcome, code) {
  const o = String(outcome || '');
  if (o === 'delivered' || (code >= 200 && code < 300)) return 'ok';
  if (o === 'bounced' || o === 'expired' || code >= 500) return 'bad';
  return 'warn';
}

async function attemptView(a, address) {
  const tone = toneOf(a.outcome, a.code);
  return h('div', { class: `attempt ${tone}`, 'data-outcome': a.outcome || '' },
    h('div', {}, h('strong', {}, when(a.time)), ' · ', address, ' · ', badge(a.outcome, tone),
      a.duration_ms !== undefined ? h('span', { class: 'muted small' }, ` · ${num(a.duration_ms)} ms`) : null),
    h('div', { class: 'small muted' }, [a.mx ? `MX ${a.mx}` : null, a.source_ip ? `from ${a.source_ip}` : null,
      a.outcome === 'deferred' && a.next_attempt ? `next try ${when(a.next_attempt)}` : null].filter(Boolean).join(' · ')),
    a.reply ? h('pre', {}, a.reply) : null,
    h('div', { class: 'chips' }, await answerLinks(a)));
}

async function renderDetail(main, id, ctx) {
  const [m, tenants, mailboxes] = await Promise.all([api(`/v1/messages/${encodeURIComponent(id)}`),
    tenantNames(), mailboxList().catch(() => [])]);
  const rcpts = rcptsOf(m);
  const attempts = rcpts.flatMap((r) => (r.attempt_list || []).map((a) => ({ ...a, address: r.address })))
    .sort((a, b) => a.time - b.time || a.id - b.id);
  const views = [];
  for (const a of attempts) views.push(await attemptView(a, a.address));
  if (!ctx.current()) return;
  const mb = mailboxes.find((x) => x.id === m.mailbox);
  mount(main,
    h('div', { class: 'crumbs' }, h('a', { href: '#/messages' }, 'Messages'), ` › #${m.id}`),
    h('div', { class: 'page-head' }, h('h1', { id: 'message-title' }, `Message #${m.id}`), badge(messageState(m))),
    h('div', { class: 'card' }, kv([
      ['Message-ID', m.message_id ? h('code', {}, m.message_id) : null],
      ['Tenant', tenants.get(m.tenant) || String(m.tenant)],
      ['Mailbox', mb ? mb.address : String(m.mailbox)],
      ['Envelope from', m.mail_from],
      ['Return path', m.return_path],
      ['Size', `${num(m.size)} bytes`],
      ['Received', when(m.received)],
      ['Expires', when(m.expires)],
      ['Recipients', `${num(m.recipients)} (${num(m.open)} still in the queue)`],
    ])),
    h('h2', {}, 'Recipients'),
    table([
      { label: 'Address', render: (r) => r.address },
      { label: 'State', render: (r) => badge(r.state) },
      { label: 'Attempts', num: true, render: (r) => r.attempts },
      { label: 'Next attempt', render: (r) => (r.state === 'deferred' || r.state === 'queued' ? when(r.next_attempt) : '–') },
      { label: 'Last answer', render: (r) => (r.last ? [h('div', { class: 'small mono' }, r.last.reply),
        r.last.cause ? h('a', { href: refHref('cause', r.last.cause), class: 'badge warn' }, r.last.cause) : null] : '–') },
    ], rcpts, { id: 'recipients-table', rowAttrs: (r) => ({ 'data-state': r.state || '' }) }),
    h('h2', {}, `Attempts (${attempts.length})`),
    h('div', { class: 'card', id: 'attempts' }, views.length ? views : h('div', { class: 'empty' }, 'No delivery attempt yet.')));
}
