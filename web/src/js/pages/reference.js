// reference.js - the SMTP error reference: an index of every code, cause,
// receiver, blocklist and receiver signature, and one page for each,
// rendered from the knowledge base (kb/, built into reference/*.json).
import { h, mount, badge, rich } from '../dom.js';
import { reference } from '../api.js';

const KINDS = [
  ['code', 'Enhanced status codes (RFC 3463)'],
  ['reply', 'Reply codes (RFC 5321)'],
  ['cause', 'Cause families'],
  ['receiver', 'Receivers'],
  ['blocklist', 'DNS blocklists'],
];
const KIND_LABEL = { code: 'Enhanced status code', reply: 'Reply code', cause: 'Cause family',
  receiver: 'Receiver', blocklist: 'Blocklist', signature: 'Receiver signature' };
const RETRY = { soon: 'retry soon (minutes)', later: 'retry later (hours), send less',
  after_fix: 'do not resend until the cause is fixed', never: 'never: the address is dead, suppress it' };

// Order codes numerically: X.1.10 after X.1.9.
function codeOrder(a, b) {
  const pa = a.key.split('.').map((x) => parseInt(x, 10) || 0);
  const pb = b.key.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) - (pb[i] || 0);
  }
  return 0;
}

export function refHref(kind, key) {
  return `#/reference/${kind}/${encodeURIComponent(key)}`;
}

// A "related" word as a link: X.7.26, 5.7.26, 550, gmail, blocklist.
function relatedLink(word, index) {
  const m = /^[245X]\.(\d{1,3})\.(\d{1,3})$/.exec(word);
  const key = m ? `X.${m[1]}.${m[2]}` : word;
  const p = index.byKey.get(key);
  if (!p) return h('span', { class: 'badge' }, word);
  return h('a', { href: refHref(p.kind, p.key), class: 'badge info', title: p.title }, word);
}

let indexPromise = null;
export async function loadIndex() {
  if (!indexPromise) {
    indexPromise = reference('index').then((idx) => {
      idx.byKey = new Map();
      for (const p of idx.pages) if (!idx.byKey.has(p.key)) idx.byKey.set(p.key, p);
      return idx;
    }).catch((e) => { indexPromise = null; throw e; });
  }
  return indexPromise;
}

// A code the relay saw ("5.7.1", "550") as the href of its reference page,
// or null when the knowledge base has no page for it.
export async function codeHref(code) {
  const idx = await loadIndex();
  const m = /^[245]\.(\d{1,3})\.(\d{1,3})$/.exec(String(code || ''));
  const key = m ? `X.${m[1]}.${m[2]}` : String(code || '');
  const p = idx.byKey.get(key);
  return p && (p.kind === 'code' || p.kind === 'reply') ? refHref(p.kind, p.key) : null;
}

export async function render(main, params, query) {
  const [kind, key] = params;
  if (kind && key) return renderPage(main, kind, key);
  return renderIndex(main, query);
}

async function renderIndex(main, query) {
  const idx = await loadIndex();
  const filter = h('input', { type: 'search', id: 'ref-filter', placeholder: 'Filter: 5.7.26, gmail, spamhaus, "mailbox full"…',
    value: query.get('q') || '', 'aria-label': 'Filter the reference' });
  const body = h('div', { id: 'ref-index' });
  const draw = () => {
    // "5.7.26" finds the page X.7.26 and the signatures for 5.7.26
    const raw = filter.value.trim().toLowerCase();
    const asX = raw.replace(/^[245]\.(\d)/, 'x.$1');
    const hit = (...s) => !raw || s.some((x) => x && (String(x).toLowerCase().includes(raw)
      || String(x).toLowerCase().includes(asX)));
    const sections = [];
    for (const [k, label] of KINDS) {
      let items = idx.pages.filter((p) => p.kind === k && hit(p.key, p.title, p.name, p.family));
      if (k === 'code' || k === 'reply') items = items.sort(codeOrder);
      if (!items.length) continue;
      sections.push(h('section', { class: 'ref-section card', id: `ref-${k}` },
        h('h2', {}, `${label} `, h('span', { class: 'muted small' }, `(${items.length})`)),
        h('ul', { class: 'ref-index plain' }, items.map((p) => h('li', {},
          h('a', { href: refHref(p.kind, p.key) }, h('strong', {}, p.name || p.key)), ' ',
          h('span', { class: 'muted small' }, p.title),
          p.signatures ? h('span', { class: 'small' }, ` · ${p.signatures} signatures`) : null)))));
    }
    const sigs = idx.signatures.filter((s) => hit(s.id, s.says, s.receiver, s.cause, s.codes, s.blocklist));
    if (sigs.length) {
      const groups = new Map();
      for (const s of sigs) {
        const owner = s.receiver || s.blocklist || 'generic';
        if (!groups.has(owner)) groups.set(owner, []);
        groups.get(owner).push(s);
      }
      sections.push(h('section', { class: 'ref-section card', id: 'ref-signature' },
        h('h2', {}, 'Receiver signatures ', h('span', { class: 'muted small' }, `(${sigs.length})`)),
        h('p', { class: 'muted small' }, 'The reply texts coldpost recognises, each with what it means and what to do.'),
        [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([owner, list]) => [
          h('h3', {}, idx.byKey.get(owner)?.name || owner),
          h('ul', { class: 'ref-index plain' }, list.map((s) => h('li', {},
            h('a', { href: refHref('signature', s.id) }, h('code', {}, s.id)), ' ',
            h('span', { class: 'muted small' }, s.says))))])));
    }
    mount(body, sections.length ? sections : h('div', { class: 'card empty' }, 'Nothing matches.'));
  };
  filter.addEventListener('input', draw);
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'SMTP error reference'),
      h('span', { class: 'muted' }, `${idx.pages.length} pages, ${idx.signatures.length} receiver signatures`)),
    h('p', { class: 'muted' }, 'What a receiving server\'s answer means, who sends it, why, and how to fix it. ',
      'Paste a whole reply into ', h('a', { href: '#/tools/explain' }, 'the error lookup'), ' to have it read for you.'),
    h('div', { class: 'toolbar' }, filter), body);
  draw();
}

function paras(list) {
  return (list || []).map((p) => h('p', {}, rich(p)));
}

async function renderPage(main, kind, key) {
  const [idx, p] = await Promise.all([loadIndex(), reference(`${kind}/${key}`)]);
  document.title = `${p.key} – coldpost reference`;
  const crumbs = h('div', { class: 'crumbs' }, h('a', { href: '#/reference' }, 'SMTP error reference'), ` › ${KIND_LABEL[kind] || kind}`);
  if (kind === 'signature') return renderSignature(main, idx, p, crumbs);
  const fam = p.family ? idx.byKey.get(p.family) : null;
  const facts = [
    ['Kind', KIND_LABEL[p.kind]],
    p.ref ? ['Defined in', p.ref] : null,
    fam ? ['Usual cause', h('a', { href: refHref('cause', fam.key) }, fam.key)] : null,
    p.reason ? ['Reason', h('code', {}, p.reason)] : null,
    p.retry ? ['Retry (5xx)', RETRY[p.retry] || p.retry] : null,
    p.retry4 ? ['Retry (4xx)', RETRY[p.retry4] || p.retry4] : null,
    p.hosts ? ['Hosts', p.hosts.join(' ')] : null,
    p.zones ? ['Zones', p.zones] : null,
    p.delist ? ['Delisting / support', p.delist] : null,
  ].filter(Boolean);
  mount(main, h('article', { class: 'ref-page', id: 'ref-page', 'data-key': p.key },
    crumbs,
    h('h1', {}, p.name ? `${p.name}` : p.key, p.name ? h('span', { class: 'muted' }, ` (${p.key})`) : null),
    h('p', { class: 'lead', id: 'ref-title' }, p.title),
    h('div', { class: 'card' }, h('dl', { class: 'kv' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('div', { class: 'grid two' },
      h('section', { class: 'card section' }, h('h2', {}, 'What it means'), paras(p.meaning)),
      h('section', { class: 'card section' }, h('h2', {}, 'Who you will see it from'), paras(p.who))),
    h('section', { class: 'card section' }, h('h2', {}, 'Why it happens'), paras(p.why)),
    h('section', { class: 'card section' }, h('h2', {}, 'How to fix it'), h('ol', {}, p.steps.map((s) => h('li', {}, rich(s))))),
    h('section', { class: 'card section' }, h('h2', {}, 'For cold email'), paras(p.cold)),
    h('section', { class: 'card section' }, h('h2', {}, 'FAQ'),
      h('dl', { class: 'faq' }, p.faq.map((f) => [h('dt', {}, rich(f.q)), h('dd', {}, rich(f.a))]))),
    p.signatures && p.signatures.length ? h('section', { class: 'card section' },
      h('h2', {}, `Signatures (${p.signatures.length})`),
      h('ul', {}, p.signatures.map((s) => h('li', {},
        h('a', { href: refHref('signature', s.id) }, h('code', {}, s.id)), ' ', badge(s.cause), ' ', s.says)))) : null,
    p.related.length ? h('section', { class: 'card section' }, h('h2', {}, 'Related'),
      h('div', { class: 'chips' }, p.related.map((w) => relatedLink(w, idx)))) : null));
}

function renderSignature(main, idx, s, crumbs) {
  const owner = s.receiver ? idx.byKey.get(s.receiver) : null;
  const bl = s.blocklist ? idx.byKey.get(s.blocklist) : null;
  const steps = s.steps || s.cause_steps || [];
  mount(main, h('article', { class: 'ref-page', id: 'ref-page', 'data-key': s.id },
    crumbs,
    h('h1', {}, h('code', {}, s.id)),
    h('p', { class: 'lead', id: 'ref-title' }, rich(s.says)),
    h('div', { class: 'card' }, h('dl', { class: 'kv' }, [
      ['Receiver', owner ? h('a', { href: refHref(owner.kind, owner.key) }, owner.name || owner.key) : (s.receiver || 'any (generic wording)')],
      bl ? ['Blocklist', h('a', { href: refHref('blocklist', bl.key) }, bl.name || bl.key)] : null,
      ['Cause family', h('a', { href: refHref('cause', s.cause) }, s.cause), s.cause_title ? h('span', { class: 'muted' }, ` — ${s.cause_title}`) : null],
      ['Reason', h('code', {}, s.reason)],
      ['Retry', s.retry ? (RETRY[s.retry] || s.retry) : 'the cause family\'s default'],
      ['Applies to codes', s.codes ? h('span', { class: 'chips' }, s.codes.split(' ').map((c) => relatedLink(c, idx))) : 'any'],
      s.class ? ['Class', `${s.class}xx only`] : null,
    ].filter(Boolean).map(([k, ...v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('section', { class: 'card section' }, h('h2', {}, s.steps ? 'How to fix it' : 'How to fix it (the cause family\'s steps)'),
      h('ol', {}, steps.map((x) => h('li', {}, rich(x))))),
    h('section', { class: 'card section' }, h('h2', {}, 'Reply texts it recognises'),
      h('p', { class: 'muted small' }, 'Patterns (case-insensitive) matched against the reply text.'),
      h('ul', {}, s.match.map((m) => h('li', {}, h('code', {}, m)))))));
}
