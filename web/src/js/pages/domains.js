// domains.js - sending domains: the DNS records to publish (SPF, DKIM,
// DMARC, MTA-STS, ...) and their live check, one domain per page.
import { h, mount, badge, table, kv, errorBox, num, when } from '../dom.js';
import { api } from '../api.js';
import { itemsOf, tenantNames } from '../lookups.js';

export async function render(main, params, _query, ctx) {
  if (params[0]) return renderDomain(main, params[0], ctx);
  const [r, tenants] = await Promise.all([api('/v1/domains'), tenantNames()]);
  if (!ctx.current()) return;
  const list = itemsOf(r);
  const href = (d) => `#/domains/${encodeURIComponent(d.name)}`;
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Domains'), h('span', { class: 'muted' }, `${list.length} sending domains`)),
    table([
      { label: 'Domain', render: (d) => h('a', { href: href(d) }, d.name) },
      { label: 'Tenant', render: (d) => tenants.get(d.tenant) || String(d.tenant) },
      { label: 'DKIM', render: (d) => [h('code', {}, `${d.selector}._domainkey`), ` ${d.alg || ''}`] },
      { label: 'Key', render: (d) => d.key },
      { label: 'Added', render: (d) => when(d.created) },
    ], list, { id: 'domains-table', empty: 'No sending domain yet.',
      onrow: (d) => { location.hash = href(d); }, rowAttrs: (d) => ({ 'data-name': d.name }) }));
}

async function renderDomain(main, name, ctx) {
  const [d, tenants] = await Promise.all([api(`/v1/domains/${encodeURIComponent(name)}`), tenantNames()]);
  if (!ctx.current()) return;
  const checkBox = h('div', { id: 'domain-check' }, h('p', { class: 'muted' }, 'Checking the records in DNS…'));
  mount(main,
    h('div', { class: 'crumbs' }, h('a', { href: '#/domains' }, 'Domains'), ` › ${name}`),
    h('div', { class: 'page-head' }, h('h1', {}, name),
      h('button', { type: 'button', class: 'secondary', id: 'recheck', onclick: () => runCheck(name, checkBox) }, 'Check again')),
    h('div', { class: 'card' }, kv([
      ['Tenant', tenants.get(d.tenant) || String(d.tenant)],
      ['DKIM selector', h('code', {}, d.selector)],
      ['DKIM algorithm', d.alg],
      ['Private key', d.key === 'file' ? 'in a file on the relay' : 'in the store'],
      ['Added', when(d.created)],
    ])),
    h('h2', {}, 'Records to publish'),
    table([
      { label: 'For', render: (r) => badge(r.kind, 'info') },
      { label: 'Name', render: (r) => h('code', {}, r.owner) },
      { label: 'Type', render: (r) => r.type },
      { label: 'Value', render: (r) => [h('pre', {}, r.data || ''), r.note ? h('div', { class: 'small muted' }, r.note) : null] },
    ], d.records || [], { id: 'records-table', empty: 'The relay has no record for this domain to publish.' }),
    h('h2', {}, 'Live check'), checkBox);
  await runCheck(name, checkBox);
}

export function checkTable(r, id) {
  return h('div', { class: 'card', id },
    h('p', {}, badge(`${num(r.pass)} pass`, 'ok'), ' ', badge(`${num(r.warn)} warn`, r.warn ? 'warn' : ''), ' ',
      badge(`${num(r.fail)} fail`, r.fail ? 'bad' : ''),
      r.org_domain && r.org_domain !== r.domain ? h('span', { class: 'muted small' }, ` organizational domain ${r.org_domain}`) : null),
    table([
      { label: 'Area', render: (f) => f.group },
      { label: 'Check', render: (f) => [h('div', {}, f.subject || f.id), h('code', { class: 'small muted' }, f.id)] },
      { label: 'Status', render: (f) => badge(f.status, { pass: 'ok', warn: 'warn', fail: 'bad', info: 'info' }[f.status]) },
      { label: 'What was found', render: (f) => [f.summary || '', f.detail ? h('div', { class: 'small muted' }, f.detail) : null,
        f.evidence && f.evidence.length ? h('pre', {}, f.evidence.join('\n')) : null] },
      { label: 'Fix', render: (f) => f.fix || '' },
    ], r.findings || [], { empty: 'The check returned no finding.', rowAttrs: (f) => ({ 'data-status': f.status, 'data-check': f.id }) }));
}

async function runCheck(name, box) {
  mount(box, h('p', { class: 'muted' }, 'Checking the records in DNS…'));
  try {
    mount(box, checkTable(await api(`/v1/domains/${encodeURIComponent(name)}/check`), 'check-table'));
  } catch (e) {
    mount(box, errorBox(e));
  }
}
