// dom.js - building the page from data without ever parsing it as HTML.
//
// Everything shown comes from the relay, and much of it from strangers
// (subjects, remote servers' SMTP replies): it is always set as text
// (textContent, attribute values), never through innerHTML.

// h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Text whose `back-quoted` spans are shown as code (the knowledge base
// writes commands that way); still text nodes only.
export function rich(text) {
  return String(text ?? '').split('`').map((part, i) => (i % 2 ? h('code', {}, part) : part));
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

const nf = new Intl.NumberFormat('en');
export function num(n) {
  return n === undefined || n === null ? '–' : nf.format(n);
}

export function pct(part, whole) {
  if (!whole) return '–';
  return `${(100 * part / whole).toFixed(part === whole || part === 0 ? 0 : 1)}%`;
}

// Seconds since the epoch, an ISO string or a Date, shown in UTC.
export function when(t) {
  if (t === undefined || t === null || t === '' || t === 0) return '–';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function cents(c) {
  if (c === undefined || c === null) return '–';
  return `$${(c / 100).toFixed(2)}`;
}

// The tone (colour) of a status word.
const TONES = {
  delivered: 'ok', sent: 'ok', pass: 'ok', ok: 'ok', healthy: 'ok', active: 'ok',
  listed: 'bad', bounced: 'bad', failed: 'bad', fail: 'bad', expired: 'bad',
  suppressed: 'bad', missing: 'bad', wrong: 'bad', error: 'bad', paused: 'bad',
  deferred: 'warn', queued: 'info', sending: 'info', warn: 'warn', cut: 'warn',
  cooldown: 'warn', ramping: 'info', softfail: 'warn', none: 'warn', neutral: 'warn',
  clean: 'ok', not_listed: 'ok',
};
export function badge(word, tone) {
  const w = word === undefined || word === null ? '–' : String(word);
  return h('span', { class: `badge ${tone || TONES[w.toLowerCase()] || ''}` }, w);
}

export function bar(part, whole, tone) {
  const p = whole > 0 ? Math.min(100, Math.round(100 * part / whole)) : 0;
  const t = tone || (p >= 100 ? 'bad' : p >= 85 ? 'warn' : '');
  const fill = h('span');
  fill.style.width = `${p}%`;
  return h('div', { class: `bar ${t}`, title: `${num(part)} of ${num(whole)}` }, fill);
}

export function errorBox(e) {
  const msg = e && e.message ? e.message : String(e);
  return h('div', { class: 'error-box', role: 'alert' },
    e && e.code ? h('strong', {}, `${e.code}: `) : null, msg,
    e && e.field ? h('span', {}, ` (field: ${e.field})`) : null);
}

export function table(columns, rows, opts = {}) {
  if (!rows || rows.length === 0) {
    return h('div', { class: 'card empty' }, opts.empty || 'Nothing here yet.');
  }
  return h('div', { class: 'table-wrap' }, h('table', { id: opts.id },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.label)))),
    h('tbody', {}, rows.map((row) => {
      const tr = h('tr', { class: opts.onrow ? 'clickable' : '' },
        columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.render ? c.render(row) : row[c.key] ?? '–')));
      if (opts.onrow) tr.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;
        opts.onrow(row);
      });
      if (opts.rowAttrs) for (const [k, v] of Object.entries(opts.rowAttrs(row))) tr.setAttribute(k, v);
      return tr;
    }))));
}

export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).map(([k, v]) =>
    [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '–' : v)]));
}

// Read a form's named fields into an object (empty strings left out).
export function formData(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== '') out[k] = v;
  return out;
}
