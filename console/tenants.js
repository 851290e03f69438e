// #/tenants: quota against usage as gauges, in-flight and waiting counts
// (GET /v1/tenants/{id}/usage), for every tenant seen in the request list and
// any typed in (kept in memory for this page's life only).

import { enc, get, getAll } from './api.js';
import { errorText, fmtNum, h, labelled, meter, refresher, setText, syncKeyed } from './dom.js';
import { QUOTA } from './names.js';
import { liveView } from './stream.js';

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const typedTenants = new Set();

// Events that move a tenant's usage or its admission counts.
const RELEVANT = new Set(['request_submitted', 'quota_reserved', 'quota_released', 'quota_exceeded', 'quota_set',
  'request_admitted', 'request_completed', 'request_failed', 'rolled_back', 'approval_requested', 'request_rejected',
  'deprovisioned', 'retry_requested']);

function card(tenantId) {
  const meters = QUOTA.map((q) => ({ q, el: meter(q.label, 0, null, q.unit) }));
  const inFlight = meter('In flight', 0, 5);
  const waiting = h('dd', { class: 'num waiting' }, '—');
  const quotaState = h('p', { class: 'muted quota-state' });
  const message = h('p', { class: 'result', role: 'status' });
  const el = h('article', { class: 'card tenant', dataset: { tenantId }, 'aria-labelledby': `tn-${tenantId}` },
    h('header', { class: 'card-head' },
      h('h2', { id: `tn-${tenantId}`, class: 'card-title mono' }, tenantId),
      h('div', { class: 'links' },
        h('a', { href: `#/requests?tenantId=${enc(tenantId)}` }, 'Requests'), ' · ',
        h('a', { href: `#/webhooks?tenantId=${enc(tenantId)}` }, 'Webhooks'))),
    h('div', { class: 'meters' }, meters.map((m) => m.el)), quotaState,
    h('div', { class: 'meters' }, inFlight),
    h('dl', { class: 'kv compact' }, h('dt', {}, 'Waiting for a slot'), waiting),
    message);
  el.update = (u) => {
    for (const m of meters) m.el.update(u.usage?.[m.q.usage] ?? 0, u.quota?.[m.q.quota] ?? null);
    inFlight.update(u.inFlight ?? 0, u.maxInFlight ?? null);
    setText(waiting, fmtNum(u.waiting ?? 0));
    el.dataset.inFlight = String(u.inFlight ?? 0);
    setText(quotaState, u.quota?.configured ? 'Quota set for this tenant.' : 'No quota set: every dimension is unlimited.');
    setText(message, '');
  };
  el.fail = (e) => setText(message, `Could not load usage: ${errorText(e)}`);
  return el;
}

export function mount(root) {
  const input = h('input', { type: 'text', name: 'tenant', autocomplete: 'off', spellcheck: 'false',
    pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}', placeholder: 'acme' });
  const add = h('button', { type: 'submit' }, 'Show tenant');
  const formMsg = h('span', { class: 'result inline', role: 'status' });
  const form = h('form', { class: 'filters', method: 'post', 'aria-label': 'Show a tenant' },
    h('div', { class: 'field' }, labelled('Tenant id', input), input), h('div', { class: 'field field-button' }, add),
    formMsg);
  const status = h('p', { class: 'list-status', id: 'tenants-status' }, 'Loading…');
  const list = h('div', { class: 'cards tenants' });
  root.append(h('h1', {}, 'Tenants'), form, status, list);

  const seen = new Set();
  const dirty = new Set();

  function render() {
    const ids = [...new Set([...seen, ...typedTenants])].sort();
    syncKeyed(list, ids, (t) => t, (t) => {
      const el = card(t);
      dirty.add(t);
      return el;
    });
    setText(status, ids.length ? `${ids.length} tenant${ids.length === 1 ? '' : 's'}` : 'No tenant has a request yet; type one in.');
    refreshDirty();
  }

  const refreshDirty = refresher(async () => {
    const ids = [...dirty];
    dirty.clear();
    await Promise.all(ids.map(async (t) => {
      const el = list.querySelector(`[data-tenant-id="${CSS.escape(t)}"]`);
      if (!el) return;
      try {
        el.update(await get(`/v1/tenants/${enc(t)}/usage`));
      } catch (e) {
        el.fail(e);
      }
    }));
  }, 150);

  const loadTenants = refresher(async () => {
    try {
      const all = await getAll('/v1/requests');
      for (const r of all.items) seen.add(r.tenantId);
    } catch (e) {
      setText(status, `Could not list requests: ${errorText(e)}`);
    }
    for (const t of [...seen, ...typedTenants]) dirty.add(t);
    render();
  }, 50);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!TENANT_ID.test(t)) {
      setText(formMsg, 'Tenant id: 1-64 letters, digits, . _ -, starting with a letter or digit');
      return;
    }
    setText(formMsg, '');
    typedTenants.add(t);
    dirty.add(t);
    input.value = '';
    render();
  });

  const stop = liveView(loadTenants, (e) => {
    if (!e.tenantId || !RELEVANT.has(e.type)) return;
    if (!seen.has(e.tenantId)) {
      seen.add(e.tenantId);
      render();
    }
    dirty.add(e.tenantId);
    refreshDirty();
  });
  return () => {
    stop();
    refreshDirty.stop();
  };
}
