// tools.js - the tools of the relay in the browser: deliverability test
// (check), blacklist checker, content checker (lint), error lookup
// (explain) and cost calculator, each a form posting to /v1/tools/*.
import { h, mount, badge, errorBox, formData, kv, num, cents, table, rich } from '../dom.js';
import { api } from '../api.js';
import { refHref, codeHref } from './reference.js';
import { checkTable } from './domains.js';

const TOOLS = [
  ['check', 'Deliverability test'],
  ['blacklist', 'Blacklist checker'],
  ['lint', 'Content checker'],
  ['explain', 'Error lookup'],
  ['cost', 'Cost calculator'],
];

export async function render(main, params) {
  const tool = params[0] || 'check';
  const def = TOOLS.find(([id]) => id === tool);
  if (!def) throw new Error(`No tool "${tool}"`);
  const out = h('div', { id: 'tool-result' });
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Tools')),
    h('nav', { class: 'tabs' }, TOOLS.map(([id, label]) =>
      h('a', { href: `#/tools/${id}`, class: id === tool ? 'active' : '', id: `tab-${id}` }, label))),
    h('div', { class: 'card' }, FORMS[tool](out)), out);
}

function runner(out, fn) {
  return async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    mount(out, h('p', { class: 'muted' }, 'Working…'));
    try {
      await fn(formData(form), out);
    } catch (e) {
      mount(out, errorBox(e));
    } finally {
      btn.disabled = false;
    }
  };
}

const FORMS = {
  check: (out) => h('form', { id: 'form-check', class: 'inline', onsubmit: runner(out, async (f) => {
    const body = { domain: f.domain };
    if (f.selector) body.selectors = f.selector.split(/[\s,]+/).filter(Boolean);
    if (f.ip) body.ips = f.ip.split(/[\s,]+/).filter(Boolean);
    showCheck(out, await api('/v1/tools/check', { method: 'POST', body }));
  }) },
  h('label', {}, 'Sending domain', h('input', { name: 'domain', required: true, placeholder: 'acme.com' })),
  h('label', {}, 'DKIM selectors (optional)', h('input', { name: 'selector', placeholder: 's1' })),
  h('label', {}, 'Sending IPs (optional)', h('input', { name: 'ip', placeholder: '192.0.2.10' })),
  h('button', { type: 'submit' }, 'Run the test')),

  blacklist: (out) => h('form', { id: 'form-blacklist', class: 'inline', onsubmit: runner(out, async (f) => {
    showBlacklist(out, await api('/v1/tools/blacklist', { method: 'POST', body: { target: f.target } }));
  }) },
  h('label', {}, 'IP address or domain', h('input', { name: 'target', required: true, placeholder: '192.0.2.10 or acme.com' })),
  h('button', { type: 'submit' }, 'Check the lists')),

  lint: (out) => h('form', { id: 'form-lint', onsubmit: runner(out, async (f) => {
    showLint(out, await api('/v1/tools/lint', { method: 'POST', body: { message: f.message } }));
  }) },
  h('label', {}, 'The whole message (RFC 5322: headers, blank line, body)',
    h('textarea', { name: 'message', required: true, rows: 10,
      placeholder: 'From: Ann <ann@acme.com>\nTo: bob@example.com\nSubject: Quick question\n\nHi Bob, …' })),
  h('p', {}, h('button', { type: 'submit' }, 'Check the content'))),

  explain: (out) => h('form', { id: 'form-explain', class: 'inline', onsubmit: runner(out, async (f) => {
    const body = { reply: f.reply };
    if (f.host) body.host = f.host;
    await showExplain(out, await api('/v1/tools/explain', { method: 'POST', body }));
  }) },
  h('label', { class: 'grow' }, 'A receiving server\'s SMTP reply (codes and text)',
    h('input', { name: 'reply', required: true, size: 70,
      placeholder: '550 5.7.1 Service unavailable; client host blocked using Spamhaus' })),
  h('label', {}, 'Receiving host (optional)', h('input', { name: 'host', placeholder: 'mx.example.com' })),
  h('button', { type: 'submit' }, 'Explain')),

  cost: (out) => h('form', { id: 'form-cost', class: 'inline', onsubmit: runner(out, async (f) => {
    const body = { mailboxes: Number(f.mailboxes) };
    if (f.daily_cap) body.daily_cap = Number(f.daily_cap);
    if (f.graduated) body.graduated = true;
    showCost(out, await api('/v1/tools/cost', { method: 'POST', body }));
  }) },
  h('label', {}, 'Mailboxes', h('input', { name: 'mailboxes', type: 'number', min: 1, required: true, value: '100' })),
  h('label', {}, 'Daily cap per mailbox (optional)', h('input', { name: 'daily_cap', type: 'number', min: 0 })),
  h('label', { class: 'check' }, 'Graduated pricing', h('input', { name: 'graduated', type: 'checkbox', value: '1' })),
  h('button', { type: 'submit' }, 'Calculate')),
};

function showCheck(out, r) {
  mount(out, h('div', { id: 'check-result' }, h('h2', {}, 'Result for ', h('code', {}, r.domain || '')), checkTable(r, 'check-findings')));
}

function showBlacklist(out, r) {
  const lists = r.results || [];
  const tone = { listed: 'bad', 'not listed': 'ok', blocked: 'warn', error: 'warn' };
  mount(out, h('div', { class: 'card', id: 'blacklist-result' },
    h('h2', {}, h('code', {}, r.target || ''), ' ',
      r.listed ? badge(`listed on ${r.listed}`, 'bad') : badge('not listed', 'ok')),
    table([
      { label: 'List', render: (l) => l.list },
      { label: 'Zone', render: (l) => h('code', {}, l.zone) },
      { label: 'State', render: (l) => badge(l.state, tone[l.state]) },
      { label: 'Answer', render: (l) => [
        (l.hits || []).map((x) => h('div', {}, h('code', {}, x.addr), x.meaning ? ` ${x.meaning}` : '', x.list ? ` (${x.list})` : '')),
        l.txt ? h('div', { class: 'small muted' }, l.txt) : null,
        l.error ? h('div', { class: 'small muted' }, l.error) : null] },
    ], lists, { empty: 'No list was asked.', rowAttrs: (l) => ({ 'data-state': l.state }) })));
}

function showLint(out, r) {
  const st = r.stats || {};
  mount(out, h('div', { class: 'card', id: 'lint-result' },
    h('h2', {}, 'Content verdict ', badge(r.verdict, { pass: 'ok', warn: 'warn', fail: 'bad' }[r.verdict]), ' ',
      h('span', { class: 'muted' }, `score ${r.score ?? '–'} (higher is worse)`)),
    h('p', { class: 'muted small' }, `${num(st.words)} words · ${num(st.links)} links · ${num(st.images)} images · `
      + `${num(st.attachments)} attachments · ${st.has_text ? 'text part' : 'no text part'} · ${st.has_html ? 'HTML part' : 'no HTML part'}`),
    table([
      { label: 'Rule', render: (f) => h('code', {}, f.rule) },
      { label: 'Severity', render: (f) => badge(f.severity, { warn: 'warn', fail: 'bad', error: 'bad', info: 'info' }[f.severity]) },
      { label: 'Points', num: true, render: (f) => f.points },
      { label: 'Evidence', render: (f) => f.evidence || '' },
      { label: 'Fix', render: (f) => f.fix || '' },
    ], r.findings || [], { empty: 'No findings: nothing in this message looks like spam.' })));
}

async function showExplain(out, r) {
  const links = [];
  const href = r.enhanced ? await codeHref(r.enhanced) : null;
  if (href) links.push(h('a', { href, class: 'badge info' }, r.enhanced));
  const href2 = r.code ? await codeHref(String(r.code)) : null;
  if (href2) links.push(h('a', { href: href2, class: 'badge info' }, String(r.code)));
  if (r.cause) links.push(h('a', { href: refHref('cause', r.cause), class: 'badge info' }, r.cause));
  if (r.receiver && r.receiver !== 'unknown') links.push(h('a', { href: refHref('receiver', r.receiver), class: 'badge info' }, r.receiver));
  if (r.blocklist) links.push(h('a', { href: refHref('blocklist', r.blocklist), class: 'badge info' }, r.blocklist));
  if (r.rule) links.push(h('a', { href: refHref('signature', r.rule), class: 'badge info' }, r.rule));
  const main = r.code_page || r.cause_page;
  mount(out, h('div', { class: 'card', id: 'explain-result' },
    h('h2', {}, r.says || main?.title || 'Explained'),
    kv([
      ['Class', r.class],
      ['Cause family', r.cause ? badge(r.cause, 'warn') : null],
      ['Reason', r.reason ? h('code', {}, r.reason) : null],
      ['Receiver', r.receiver_page ? `${r.receiver_page.title} (${r.receiver})` : r.receiver],
      r.blocklist ? ['Blocklist', r.blocklist] : null,
      ['Matched', r.code_only ? 'no receiver signature: read from the codes alone' : r.rule],
    ]),
    main?.meaning ? [h('h3', {}, 'What it means'), main.meaning.split('\n\n').map((p) => h('p', {}, rich(p)))] : null,
    r.steps && r.steps.length ? [h('h3', {}, 'How to fix it'), h('ol', {}, r.steps.map((x) => h('li', {}, rich(x))))] : null,
    links.length ? [h('h3', {}, 'Reference pages'), h('div', { class: 'chips' }, links)] : null));
}

function showCost(out, r) {
  mount(out, h('div', { class: 'grid', id: 'cost-result' },
    h('div', { class: 'card' }, h('div', { class: 'stat-label' }, 'Per month'), h('div', { class: 'stat', id: 'cost-total' }, cents(r.total_cents)),
      h('div', { class: 'small muted' }, r.minimum_applied ? `the monthly minimum ${cents(r.minimum_cents)} applies` : `${r.currency || ''}`)),
    h('div', { class: 'card' }, h('div', { class: 'stat-label' }, 'Per mailbox'), h('div', { class: 'stat' }, cents(r.effective_cents)),
      h('div', { class: 'small muted' }, `${r.graduated ? 'graduated' : 'one price for all'}: list price ${cents(r.price_cents)}`)),
    h('div', { class: 'card' }, h('div', { class: 'stat-label' }, 'Capacity'), h('div', { class: 'stat' }, `${num(r.capacity_per_day)}/day`),
      h('div', { class: 'small muted' }, `${num(r.capacity_per_month)} per 30-day month at ${num(r.daily_cap)} per mailbox per day`)),
    h('div', { class: 'card' }, h('div', { class: 'stat-label' }, 'Per 1,000 sends'), h('div', { class: 'stat' }, cents(r.cost_per_1000_cents)))));
}
