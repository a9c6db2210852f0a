// mailboxes.js - every sending mailbox: today's use of its daily cap, its
// warm-up (ramp) and its health.
//
// The list comes from GET /v1/mailboxes; usage (cap today, used, ramp day)
// from each mailbox's GET /v1/mailboxes/{address}, a few at a time.
import { h, mount, num, badge, bar, table, pct, when } from '../dom.js';
import { api } from '../api.js';
import { itemsOf, fanout, tenantNames } from '../lookups.js';

// What a person needs to know at a glance, from usage.
function health(m, u) {
  if (!u) return ['unknown', ''];
  if (u.cap > 0 && u.used >= u.cap) return ['cap reached', 'warn'];
  if (!m.has_password) return ['no password', 'warn'];
  return ['healthy', 'ok'];
}

export async function render(main, _params, _query, ctx) {
  const [r, tenants] = await Promise.all([api('/v1/mailboxes'), tenantNames()]);
  const list = itemsOf(r);
  const details = await fanout(list, 4, (m) => (m.usage ? m : api(`/v1/mailboxes/${encodeURIComponent(m.address)}`)));
  if (!ctx.current()) return;
  const rows = list.map((m, i) => ({ ...m, usage: details[i] && !details[i].error ? details[i].usage : null }));
  const totalCap = rows.reduce((s, m) => s + (m.usage?.cap || 0), 0);
  const totalUsed = rows.reduce((s, m) => s + (m.usage?.used || 0), 0);
  const ramping = rows.filter((m) => m.usage?.ramping).length;
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Mailboxes'),
      h('span', { class: 'muted' }, `${num(rows.length)} mailboxes · ${num(totalUsed)} of ${num(totalCap)} sends used today · ${num(ramping)} warming up`)),
    table([
      { label: 'Address', render: (m) => h('strong', {}, m.address) },
      { label: 'Tenant', render: (m) => tenants.get(m.tenant) || String(m.tenant) },
      { label: 'Today', render: (m) => {
        const u = m.usage;
        if (!u) return '–';
        return h('div', {}, bar(u.used, u.cap), h('div', { class: 'small muted' },
          u.cap ? `${num(u.used)} / ${num(u.cap)} (${pct(u.used, u.cap)}) · resets ${when(u.resets_at)}` : `${num(u.used)} (no cap)`));
      } },
      { label: 'Ramp', render: (m) => {
        const u = m.usage;
        if (!u) return '–';
        if (!u.full_cap) return [badge('no cap', 'info'), h('div', { class: 'small muted' }, 'no daily cap, no ramp')];
        return [badge(u.ramping ? 'warming up' : 'full cap', u.ramping ? 'info' : 'ok'),
          h('div', { class: 'small muted' }, u.ramping ? `day ${num((u.age_days ?? 0) + 1)}: ${num(u.cap)} of ${num(u.full_cap)} a day` : `${num(u.full_cap)} a day`)];
      } },
      { label: 'Health', render: (m) => {
        const [word, tone] = health(m, m.usage);
        return [badge(word, tone), h('div', { class: 'small muted' }, `${num(m.usage?.age_days ?? 0)} days old`)];
      } },
      { label: 'Time zone', render: (m) => m.tz || '–' },
    ], rows, { id: 'mailboxes-table', empty: 'No mailbox yet: add one with coldpost mailbox add or POST /v1/mailboxes.',
      rowAttrs: (m) => ({ 'data-address': m.address }) }));
}
