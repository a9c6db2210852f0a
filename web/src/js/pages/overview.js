// overview.js - how sending goes: sent / delivered / deferred / bounced
// over time, refusals by cause family, and the providers (receivers) that
// are currently cut back or paused (GET /v1/stats, GET /v1/providers).
import { h, mount, num, pct, badge, table, when } from '../dom.js';
import { api } from '../api.js';
import { refHref, loadIndex } from './reference.js';
import { fanout } from '../lookups.js';

const RANGES = { '24h': [24, 3600], '7d': [7, 86400], '30d': [30, 86400] };
const SERIES = [
  ['sent', 'Sent', '#1d4ed8'],
  ['delivered', 'Delivered', '#15803d'],
  ['deferred', 'Deferred', '#d97706'],
  ['bounced', 'Bounced', '#b91c1c'],
];
const CAUSE_COLORS = ['#b91c1c', '#d97706', '#7c3aed', '#0e7490', '#1d4ed8', '#be185d', '#4d7c0f',
  '#92400e', '#475569', '#0f766e', '#a21caf', '#c2410c', '#334155', '#65a30d', '#0369a1', '#6b7280'];

let charts = [];
function dropCharts() {
  for (const c of charts) c.destroy();
  charts = [];
}

function count(o, k) {
  return typeof o?.[k] === 'number' ? o[k] : 0;
}

// by_cause ({cause: {deferred: n, bounced: n, ...}}) as [[cause, n], ...],
// biggest first: every refused attempt, transient or final.
function pairs(v) {
  const sum = (x) => Object.values(x || {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  return Object.entries(v || {}).map(([k, x]) => [k, sum(x)]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
}

// The whole range, and the series: one GET /v1/stats per hour or day
// (cheap: a few run at a time).
async function loadSeries(range, now) {
  const [n, step] = RANGES[range];
  // [from, to) ends after this second: what happened in it counts too
  const to = now + 1;
  const from = to - n * step;
  const whole = await api('/v1/stats', { query: { from, to } });
  const parts = await fanout(Array.from({ length: n }, (_, i) => from + i * step), 6, (t) =>
    api('/v1/stats', { query: { from: t, to: t + step } }).then((s) => ({ ...s, from: t })));
  const bad = parts.find((p) => p.error);
  if (bad) throw bad.error;
  return { whole, buckets: parts };
}

function label(t, step) {
  const d = new Date(t * 1000);
  return step < 86400 ? `${String(d.getUTCHours()).padStart(2, '0')}:00` : d.toISOString().slice(5, 10);
}

export async function render(main, _params, query, ctx) {
  dropCharts();
  const range = RANGES[query.get('range')] ? query.get('range') : '24h';
  const now = Math.floor(Date.now() / 1000);
  const [{ whole, buckets }, prov] = await Promise.all([loadSeries(range, now),
    api('/v1/providers')]);
  if (!ctx.current()) return;
  const totals = whole.totals || {};
  const causes = pairs(whole.by_cause);
  const cut = (prov?.items || []).filter((p) => p.paused || p.paused_until > now || p.cuts > 0);
  const events = (prov?.events || []).slice().sort((a, b) => b.time - a.time).slice(0, 20);
  const known = await loadIndex().catch(() => null);
  const causeLink = (c) => (known?.byKey.get(c)?.kind === 'cause' ? h('a', { href: refHref('cause', c) }, c) : c);
  const provLink = (p) => (known?.byKey.get(p)?.kind === 'receiver' ? h('a', { href: refHref('receiver', p) }, p) : p);
  const sent = count(totals, 'sent');

  const lineCanvas = h('canvas', { id: 'chart-volume', 'aria-label': 'Messages over time' });
  const causeCanvas = h('canvas', { id: 'chart-causes', 'aria-label': 'Refusals by cause family' });
  mount(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'),
      h('nav', { class: 'tabs', 'aria-label': 'Range' }, Object.keys(RANGES).map((r) =>
        h('a', { href: `#/?range=${r}`, class: r === range ? 'active' : '' }, `last ${r}`)))),
    h('div', { class: 'grid', id: 'totals' }, SERIES.map(([k, lbl]) => h('div', { class: 'card', 'data-stat': k },
      h('div', { class: 'stat-label' }, lbl), h('div', { class: 'stat' }, num(count(totals, k))),
      k !== 'sent' ? h('div', { class: 'small muted' }, `${pct(count(totals, k), sent)} of sent`) : null))),
    h('div', { class: 'grid two', style: null },
      h('div', { class: 'card' }, h('h2', {}, 'Over time'), h('div', { class: 'chart-box' }, lineCanvas)),
      h('div', { class: 'card' }, h('h2', {}, 'Refusals by cause family'),
        causes.length ? h('div', { class: 'chart-box' }, causeCanvas) : h('div', { class: 'empty' }, 'No refusals in this range.'),
        causes.length ? h('ul', { class: 'plain small', id: 'cause-list' }, causes.map(([c, n]) =>
          h('li', {}, causeLink(c), `: ${num(n)}`))) : null)),
    h('h2', {}, 'Providers cut back or paused'),
    table([
      { label: 'Provider', render: (p) => provLink(p.provider) },
      { label: 'From address', render: (p) => p.source_ip },
      { label: 'State', render: (p) => (p.paused ? badge('paused', 'bad') : badge('cut back', 'warn')) },
      { label: 'Climbing back since', render: (p) => when(p.ramp_from) },
      { label: 'Rate now', num: true, render: (p) => `${num(p.rate)}/h` },
      { label: 'Cuts', num: true, render: (p) => num(p.cuts) },
      { label: 'Paused until', render: (p) => (p.paused ? when(p.paused_until) : '–') },
      { label: 'Updated', render: (p) => when(p.updated) },
    ], cut, { id: 'providers-cut', empty: 'No provider is cut back: every receiver takes mail at its normal rate.' }),
    h('h2', {}, 'Recent provider events'),
    table([
      { label: 'When', render: (e) => when(e.time) },
      { label: 'Provider', render: (e) => provLink(e.provider) },
      { label: 'From address', render: (e) => e.source_ip },
      { label: 'Event', render: (e) => badge(e.kind) },
      { label: 'Rate', render: (e) => `${num(e.rate_before)} → ${num(e.rate_after)}/h` },
      { label: 'Evidence', render: (e) => h('span', { class: 'small' }, e.evidence || '–') },
    ], events, { id: 'provider-events', empty: 'No cut or recovery in the last 7 days.' }));

  if (typeof window.Chart !== 'function') return; // vendor script missing: numbers only
  const step = RANGES[range][1];
  charts.push(new window.Chart(lineCanvas, {
    type: 'line',
    data: {
      labels: buckets.map((b) => label(b.from, step)),
      datasets: SERIES.map(([k, lbl, color]) => ({ label: lbl, data: buckets.map((b) => count(b.totals || {}, k)),
        borderColor: color, backgroundColor: color, tension: 0.25, pointRadius: 2 })),
    },
    options: { maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  }));
  if (causes.length) {
    charts.push(new window.Chart(causeCanvas, {
      type: 'bar',
      data: { labels: causes.map(([c]) => c), datasets: [{ label: 'Refusals', data: causes.map(([, n]) => n),
        backgroundColor: causes.map((_, i) => CAUSE_COLORS[i % CAUSE_COLORS.length]), maxBarThickness: 36 }] },
      options: { indexAxis: 'y', maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    }));
  }
}
