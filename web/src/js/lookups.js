// lookups.js - names for the numbers the API answers with (tenant ids,
// mailbox ids), and a bounded fan-out for per-item detail calls.
import { api } from './api.js';

function itemsOf(r) {
  return Array.isArray(r) ? r : (r?.items || []);
}

// {id: name} of the tenants this key may see.
export async function tenantNames() {
  const m = new Map();
  try {
    for (const t of itemsOf(await api('/v1/tenants'))) m.set(t.id, t.name);
  } catch { /* a name is a nicety: ids are shown instead */ }
  return m;
}

export async function mailboxList() {
  return itemsOf(await api('/v1/mailboxes'));
}

// Run fn over items, at most `width` at a time (the API rate-limits each
// key); results in order.
export async function fanout(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try { out[i] = await fn(items[i], i); } catch (e) { out[i] = { error: e }; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}

export { itemsOf };
