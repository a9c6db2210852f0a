// browser.mjs - drives the dashboard in Debian's Chromium (headless, via
// playwright-core) the way a person would: logs in with an API key, looks
// at every page, uses every tool, sends a message through SMTP and
// watches it appear with its status, reads the SMTP error reference.
// Fails on any console error, uncaught exception, or request to another
// origin. A screenshot of each page goes to WEB_SHOTS.
//
// Run by tests/integration/web_browser.sh, which starts the relay. Env:
//   WEB_BASE     the relay's HTTP address (http://127.0.0.1:32xxx)
//   WEB_KEY      an API key
//   WEB_SHOTS    where screenshots go
//   WEB_SEND     a script that sends one message through SMTP to its
//                argument and prints its queue id on the last line
//   WEB_MAILBOX, WEB_DOMAIN   what the store holds (checked on the pages)
//   WEB_TENANT_KEY, WEB_TENANT  a tenant's key and the tenant's name
//   WEB_RAMPING  a mailbox on day 1 of a ramp of 5, ... with a cap of 40
//   WEB_LISTED_ZONE  a blocklist zone the relay's DNS lists 127.0.0.2 on
//   WEB_REF      JSON file: `coldpost explain --list --json` (the index
//                every reference page is checked against)
//   CHROMIUM     the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => process.env[k] ?? d;
const BASE = env('WEB_BASE');
const KEY = env('WEB_KEY');
const SHOTS = env('WEB_SHOTS', 'screenshots');
const MAILBOX = env('WEB_MAILBOX');
const DOMAIN = env('WEB_DOMAIN');
if (!BASE || !KEY) {
  console.error('browser.mjs: WEB_BASE and WEB_KEY are required');
  process.exit(2);
}
mkdirSync(SHOTS, { recursive: true });

let passed = 0;
let failed = 0;
const problems = []; // console errors, page errors, foreign requests
let allowProblem = null; // a predicate for the one expected console error

function ok(name) { passed++; console.log(`ok   ${name}`); }
function fail(name, why) { failed++; console.log(`FAIL ${name}${why ? `: ${why}` : ''}`); }
async function check(name, fn) {
  const before = problems.length;
  try {
    await fn();
    if (problems.length > before) fail(name, problems.slice(before).join(' | '));
    else ok(name);
  } catch (e) {
    fail(name, (e && e.message ? e.message : String(e)).split('\n').slice(0, 4).join(' | ').slice(0, 500));
  }
}
function assert(cond, what) { if (!cond) throw new Error(what); }

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
const origin = new URL(BASE).origin;
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  const text = `console error: ${m.text()} @ ${m.location()?.url || ''}`;
  if (allowProblem && allowProblem(m)) return;
  problems.push(text);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
await context.route('**/*', (route) => {
  const u = route.request().url();
  if (u.startsWith(`${origin}/`) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
  problems.push(`request to another origin: ${u}`);
  return route.abort();
});

// Go to a route and wait until the app says it has drawn it.
async function go(hash, readyPath) {
  await page.evaluate(() => document.getElementById('main')?.removeAttribute('data-ready')).catch(() => {});
  const url = `${BASE}/${hash}`;
  if (page.url() === url) await page.reload(); // same URL: no hashchange
  else await page.goto(url);
  await page.waitForSelector(`#main[data-ready="${readyPath}"]`, { timeout: 20000 });
}
async function shot(name, fullPage = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}
async function text(sel) { return (await page.locator(sel).first().innerText()).trim(); }

// ---- login --------------------------------------------------------------
await check('unauthenticated overview sends to the login page', async () => {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#login-form', { timeout: 20000 });
  assert((await page.evaluate(() => location.hash)).startsWith('#/login'), 'not on #/login');
  await shot('01-login');
});
await check('a wrong key is refused with a message', async () => {
  allowProblem = (m) => /401/.test(m.text()); // the browser logs the refused fetch
  await page.fill('#apikey', 'cpk_not_a_real_key_0000000000000000000000000');
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#login-status .error-box', { timeout: 10000 });
  allowProblem = null;
  assert(await page.evaluate(() => sessionStorage.length === 0), 'a refused key was stored');
});
await check('log in with the API key', async () => {
  await page.fill('#apikey', KEY);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#main[data-ready="/"]', { timeout: 20000 });
  assert(await page.evaluate(() => Object.values(sessionStorage).length === 1), 'key not in sessionStorage');
  assert(await page.evaluate(() => localStorage.length === 0), 'something in localStorage');
});

// ---- overview -----------------------------------------------------------
await check('overview: totals, volume chart, causes, providers', async () => {
  for (const k of ['sent', 'delivered', 'deferred', 'bounced']) {
    assert(await page.locator(`#totals [data-stat="${k}"] .stat`).count() === 1, `no ${k} total`);
  }
  assert(await page.evaluate(() => typeof window.Chart === 'function'), 'Chart.js not loaded');
  const drawn = await page.evaluate(() => !!window.Chart.getChart(document.getElementById('chart-volume')));
  assert(drawn, 'volume chart not drawn');
  assert(await page.locator('#providers-cut, .empty:has-text("No provider is cut back")').count() >= 1, 'no providers section');
});

// ---- mailboxes, domains ------------------------------------------------
await check('mailboxes: the store\'s mailbox with its cap usage', async () => {
  await go('#/mailboxes', '/mailboxes');
  if (MAILBOX) assert(await page.locator(`#mailboxes-table tr[data-address="${MAILBOX}"]`).count() === 1, `${MAILBOX} missing`);
  assert(await page.locator('#mailboxes-table .bar').count() >= 1, 'no cap bar');
  if (env('WEB_RAMPING')) {
    const row = await text(`#mailboxes-table tr[data-address="${env('WEB_RAMPING')}"]`);
    assert(/warming up/.test(row) && /day 1: 5 of 40 a day/.test(row), `ramp not shown: ${row.replace(/\s+/g, " ")}`);
  }
  await shot('03-mailboxes');
});
await check('domains: list and one domain with records and live check', async () => {
  await go('#/domains', '/domains');
  if (DOMAIN) assert((await text('#domains-table')).includes(DOMAIN), `${DOMAIN} missing`);
  await shot('04-domains');
  const first = DOMAIN || (await page.locator('#domains-table tbody a').first().innerText());
  await go(`#/domains/${encodeURIComponent(first)}`, `/domains/${encodeURIComponent(first)}`);
  await page.waitForSelector('#domain-check .card, #domain-check .error-box', { timeout: 30000 });
  await shot('05-domain');
  const recs = await text('#records-table');
  assert(recs.includes(`s1._domainkey.${first}`) && /v=DKIM1/.test(recs), 'the DKIM record to publish is not listed');
  assert(/v=spf1/.test(recs), 'the SPF record to publish is not listed');
  assert(await page.locator('#domain-check .card').count() === 1, `check failed: ${await text('#domain-check')}`);
  // the zone the test's DNS server serves has the SPF record: found only
  // when the relay asks that server (coldpost serve --dns-server)
  assert(await page.locator('#check-table tr[data-check="spf.record"][data-status="pass"]').count() === 1,
    'SPF record not found: the check did not ask the DNS server serve was given');
});

// ---- messages sent through SMTP appear with their status ------------------
// WEB_SEND RCPT sends one message to RCPT and prints its queue id last.
function send(rcpt) {
  const out = execFileSync('bash', [env('WEB_SEND'), rcpt], { encoding: 'utf8' });
  const id = out.trim().split('\n').pop().trim();
  assert(/^[0-9]+$/.test(id), `no queue id from the send script: ${out.slice(-200)}`);
  return id;
}
// Refresh the messages page until the row of id is in state want.
async function waitState(id, want) {
  const row = `#messages-table tr[data-id="${id}"]`;
  const deadline = Date.now() + 30000;
  let state = null;
  for (;;) {
    await page.evaluate(() => document.getElementById('main').removeAttribute('data-ready'));
    await page.click('#refresh');
    await page.waitForSelector('#main[data-ready="/messages"]', { timeout: 10000 });
    state = await page.locator(row).getAttribute('data-state', { timeout: 1000 }).catch(() => null);
    if (state === want || Date.now() > deadline) break;
    await page.waitForTimeout(500);
  }
  assert(state === want, `state of message ${id}: ${state}, want ${want}`);
  assert((await text(row)).includes(want), `the row does not say ${want}`);
}
async function openMessage(id) {
  await go('#/messages', '/messages');
  await page.click(`#messages-table tr[data-id="${id}"] a`);
  await page.waitForSelector(`#main[data-ready="/messages/${id}"]`, { timeout: 10000 });
}

let okId = null;
let badId = null;
if (env('WEB_SEND')) {
  await check('messages: a message sent through SMTP appears, delivered', async () => {
    await go('#/messages', '/messages');
    okId = send('bob@sink.test');
    await waitState(okId, 'delivered');
  });
  await check('messages: a message the receiver refuses appears, bounced', async () => {
    badId = send('carol@gmail.test');
    await waitState(badId, 'bounced');
    await shot('06-messages');
  });
  await check('messages: search finds one by recipient', async () => {
    await go('#/messages?q=sink.test', '/messages');
    assert(await page.locator(`#messages-table tr[data-id="${okId}"]`).count() === 1, 'not found by search');
    assert(await page.locator(`#messages-table tr[data-id="${badId}"]`).count() === 0, 'search did not filter');
    await go('#/messages?state=bounced', '/messages');
    assert(await page.locator(`#messages-table tr[data-id="${badId}"]`).count() === 1, 'state filter lost it');
    assert(await page.locator(`#messages-table tr[data-id="${okId}"]`).count() === 0, 'state filter did not filter');
    // the server searches the receiver's answers too: the refusal's code
    await go('#/messages?q=5.7.26', '/messages');
    assert(await page.locator(`#messages-table tr[data-id="${badId}"]`).count() === 1, 'not found by its reply');
    assert(await page.locator(`#messages-table tr[data-id="${okId}"]`).count() === 0, 'reply search did not filter');
  });
  await check('message detail: recipient delivered, the attempt with its 250 answer', async () => {
    await openMessage(okId);
    assert(await page.locator('#recipients-table tr[data-state="delivered"]').count() === 1, 'no delivered recipient');
    const att = await text('#attempts');
    assert(/\b250\b/.test(att), `no 250 answer in the attempts: ${att.slice(0, 200)}`);
    await shot('07-message-delivered');
  });
  await check('message detail: the refusal classified, linked to the reference', async () => {
    await openMessage(badId);
    assert(await page.locator('#recipients-table tr[data-state="bounced"]').count() === 1, 'no bounced recipient');
    const att = await text('#attempts');
    assert(att.includes('5.7.26') && att.includes('DMARC'), `the reply is not shown: ${att.slice(0, 200)}`);
    assert(await page.locator('#attempts a[href="#/reference/cause/authentication"]').count() >= 1, 'cause family not shown as authentication');
    assert(await page.locator('#attempts a[href="#/reference/code/X.7.26"]').count() >= 1, 'no link to the 5.7.26 page');
    await shot('08-message-bounced');
    await page.click('#attempts a[href="#/reference/code/X.7.26"]');
    await page.waitForSelector('#main[data-ready="/reference/code/X.7.26"]', { timeout: 10000 });
  });
  await check('overview: the two messages counted, the refusal by cause', async () => {
    await go('#/', '/');
    const n = async (k) => Number((await text(`#totals [data-stat="${k}"] .stat`)).replace(/[^0-9]/g, ''));
    assert(await n('sent') >= 2, `sent ${await n('sent')}`);
    assert(await n('delivered') >= 1, `delivered ${await n('delivered')}`);
    assert(await n('bounced') >= 1, `bounced ${await n('bounced')}`);
    assert((await text('#cause-list')).includes('authentication'), 'authentication missing from the causes');
    assert(await page.evaluate(() => !!window.Chart.getChart(document.getElementById('chart-causes'))), 'cause chart not drawn');
  });
}
await check('overview: screenshot', async () => {
  await go('#/', '/');
  await page.waitForTimeout(300);
  await shot('02-overview');
});

// ---- tools ------------------------------------------------------------
await check('tool: deliverability test', async () => {
  await go('#/tools/check', '/tools/check');
  await page.fill('#form-check input[name=domain]', DOMAIN || 'example.com');
  await page.click('#form-check button[type=submit]');
  await page.waitForSelector('#check-result, #tool-result .error-box', { timeout: 30000 });
  assert(await page.locator('#check-result').count() === 1, await text('#tool-result'));
  await shot('09-tool-check');
});
await check('tool: blacklist checker', async () => {
  await go('#/tools/blacklist', '/tools/blacklist');
  await page.fill('#form-blacklist input[name=target]', '127.0.0.2');
  await page.click('#form-blacklist button[type=submit]');
  await page.waitForSelector('#blacklist-result, #tool-result .error-box', { timeout: 30000 });
  await shot('10-tool-blacklist');
  assert(await page.locator('#blacklist-result').count() === 1, await text('#tool-result'));
  if (env('WEB_LISTED_ZONE')) {
    const st = await page.locator(`#blacklist-result tr:has(code:text-is("${env('WEB_LISTED_ZONE')}"))`).getAttribute('data-state');
    assert(st === 'listed', `127.0.0.2 on ${env('WEB_LISTED_ZONE')}: ${st}`);
  }
});
await check('tool: content checker flags a spammy message', async () => {
  await go('#/tools/lint', '/tools/lint');
  await page.fill('#form-lint textarea', 'From: Ann <ann@acme.test>\nTo: bob@example.com\nSubject: FREE MONEY!!!\n'
    + 'Date: Sat, 28 Nov 2026 03:00:00 +0000\nMessage-ID: <lint1@acme.test>\n\nClick here http://bit.ly/x\n');
  await page.click('#form-lint button[type=submit]');
  await page.waitForSelector('#lint-result, #tool-result .error-box', { timeout: 20000 });
  const t = await text('#tool-result');
  assert(await page.locator('#lint-result').count() === 1, t);
  assert(/subject\.shouting|spam-phrase/.test(t), `no finding for the shouting subject: ${t.slice(0, 200)}`);
  await shot('11-tool-lint');
});
await check('tool: error lookup reads a Gmail DMARC refusal', async () => {
  await go('#/tools/explain', '/tools/explain');
  await page.fill('#form-explain input[name=reply]',
    "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy - gsmtp");
  await page.click('#form-explain button[type=submit]');
  await page.waitForSelector('#explain-result, #tool-result .error-box', { timeout: 20000 });
  const t = await text('#tool-result');
  assert(t.includes('authentication'), `cause not shown: ${t.slice(0, 200)}`);
  await shot('12-tool-explain');
  await page.click('#explain-result a[href="#/reference/signature/gmail.dmarc"]');
  await page.waitForSelector('#main[data-ready="/reference/signature/gmail.dmarc"]', { timeout: 10000 });
});
await check('tool: cost calculator', async () => {
  await go('#/tools/cost', '/tools/cost');
  await page.fill('#form-cost input[name=mailboxes]', '120');
  await page.click('#form-cost button[type=submit]');
  await page.waitForSelector('#cost-result, #tool-result .error-box', { timeout: 20000 });
  const t = await text('#tool-result');
  assert(t.includes('$108.00'), `120 mailboxes at the default tiers should cost $108.00: ${t.slice(0, 200)}`);
  await shot('13-tool-cost');
});

// ---- the SMTP error reference -------------------------------------------
const ref = env('WEB_REF') ? JSON.parse(readFileSync(env('WEB_REF'), 'utf8')) : null;
await check('reference: the index lists every page of the knowledge base', async () => {
  await go('#/reference', '/reference');
  const hrefs = await page.$$eval('#ref-index a', (as) => as.map((a) => a.getAttribute('href')));
  const kinds = { code: 0, reply: 0, cause: 0, receiver: 0, blocklist: 0, signature: 0 };
  for (const x of hrefs) { const k = x.split('/')[2]; if (k in kinds) kinds[k]++; }
  if (ref) {
    for (const p of ref) {
      assert(hrefs.includes(`#/reference/${p.kind}/${encodeURIComponent(p.key)}`), `index lacks ${p.kind} ${p.key}`);
    }
  }
  assert(kinds.signature > 100, `only ${kinds.signature} signatures`);
  await shot('14-reference-index', false); // the whole index is ~11000 px high
  await page.fill('#ref-filter', '5.7.26');
  const n = await page.locator('#ref-index a').count();
  assert(n >= 1 && n < 40, `filter 5.7.26 left ${n} links`);
  assert(await page.locator('#ref-index a[href="#/reference/code/X.7.26"]').count() === 1, 'the filter lost X.7.26');
  await shot('14-reference-index-filtered');
});
const samples = [['code', 'X.7.26'], ['reply', '550'], ['cause', 'blocklist'], ['receiver', 'gmail'],
  ['blocklist', 'spamhaus'], ['signature', 'gmail.dmarc']];
for (const [kind, key] of samples) {
  await check(`reference: ${kind} page ${key}`, async () => {
    await go(`#/reference/${kind}/${encodeURIComponent(key)}`, `/reference/${kind}/${encodeURIComponent(key)}`);
    assert(await page.locator(`#ref-page[data-key="${key}"]`).count() === 1, 'page not drawn');
    if (ref && kind !== 'signature') {
      const want = ref.find((p) => p.kind === kind && p.key === key);
      assert(want, `${kind} ${key} not in coldpost explain --list`);
      assert((await text('#ref-title')) === want.title, `title differs from the library's: ${await text('#ref-title')}`);
    }
    assert(await page.locator('#ref-page ol li').count() >= 1, 'no fix steps');
    await shot(`15-reference-${kind}-${key}`);
  });
}
await check('reference: every page and signature renders', async () => {
  const hrefs = await page.evaluate(async () => {
    const idx = await (await fetch('/reference/index.json')).json();
    return [...idx.pages.map((p) => `/reference/${p.kind}/${encodeURIComponent(p.key)}`),
      ...idx.signatures.map((s) => `/reference/signature/${encodeURIComponent(s.id)}`)];
  });
  let bad = [];
  for (const path of hrefs) {
    await page.evaluate(() => document.getElementById('main').removeAttribute('data-ready'));
    await page.evaluate((p) => { location.hash = `#${p}`; }, path);
    await page.waitForSelector(`#main[data-ready="${path}"]`, { timeout: 10000 });
    if (await page.locator('#ref-page').count() !== 1) bad.push(path);
  }
  assert(bad.length === 0, `${bad.length} pages failed: ${bad.slice(0, 5).join(' ')}`);
  console.log(`     (${hrefs.length} reference pages rendered)`);
});
await check('reference needs no key', async () => {
  await page.evaluate(() => sessionStorage.clear());
  await go('#/reference/code/X.1.1', '/reference/code/X.1.1');
  assert(await page.locator('#ref-page').count() === 1, 'not shown without a key');
});
await check('log out drops the key', async () => {
  await page.evaluate((k) => sessionStorage.setItem('coldpost.apikey', k), KEY);
  await go('#/mailboxes', '/mailboxes');
  await page.click('#logout');
  await page.waitForSelector('#login-form', { timeout: 10000 });
  assert(await page.evaluate(() => sessionStorage.length === 0), 'key still stored');
});

if (env('WEB_TENANT_KEY')) {
  await check('a tenant key logs in as its tenant and sees its messages', async () => {
    await page.fill('#apikey', env('WEB_TENANT_KEY'));
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#main[data-ready]', { timeout: 20000 });
    const who = await text('#whoami');
    assert(who.includes(env('WEB_TENANT', 'tenant')), `whoami says ${who}`);
    if (okId) {
      await go('#/messages', '/messages');
      assert(await page.locator(`#messages-table tr[data-id="${okId}"]`).count() === 1, 'its message is not listed');
    }
  });
}

await browser.close();
console.log(`web browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
