// api.js - the JSON API under /v1 of the relay that serves this page.
//
// The API key lives in sessionStorage: it is gone when the tab closes and
// is never written anywhere else. Every call sends it as a Bearer token;
// a 401 drops it and sends the user back to the login page.

const KEY = 'coldpost.apikey';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function getKey() { return sessionStorage.getItem(KEY); }
export function setKey(k) { sessionStorage.setItem(KEY, k); }
export function dropKey() { sessionStorage.removeItem(KEY); }

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// api('/v1/messages', {query: {q: 'x'}}) or api(path, {method: 'POST', body: {...}})
export async function api(path, opts = {}) {
  const key = opts.key || getKey();
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string') {
      body = opts.body;
      headers['Content-Type'] = opts.contentType || 'text/plain; charset=utf-8';
    } else {
      body = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let url = path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += `?${s}`;
  }
  const res = await fetch(url, { method: opts.method || 'GET', headers, body, cache: 'no-store' });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    const err = new ApiError(res.status, e.code || `http_${res.status}`,
      e.message || text.slice(0, 200) || res.statusText, e.field);
    if (res.status === 401 && !opts.key) onUnauthorized(err);
    throw err;
  }
  return data;
}

// The static SMTP error reference (built from kb/ into reference/*.json):
// public, no key needed, fetched once per file.
const refCache = new Map();
export function reference(path) {
  if (!refCache.has(path)) {
    refCache.set(path, fetch(`/reference/${path}.json`).then((r) => {
      if (!r.ok) throw new ApiError(r.status, 'not_found', `No reference page ${path}`);
      return r.json();
    }).catch((e) => { refCache.delete(path); throw e; }));
  }
  return refCache.get(path);
}
