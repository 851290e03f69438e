// #/webhooks: tenants' webhook endpoints (GET /v1/webhooks for operators, or
// one tenant's with ?tenantId=) and a chosen endpoint's delivery history
// (GET /v1/tenants/{tenant}/webhooks/{id}/deliveries), filterable by status
// and paged; a settled delivery on the stream refreshes it.

import { enc, get, withQuery } from './api.js';
import { errorText, fmtNum, h, labelled, pill, refresher, replace, setText, syncKeyed, timeEl } from './dom.js';
import { liveView } from './stream.js';

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function endpointRow(w, choose) {
  const btn = h('button', { type: 'button', class: 'secondary small', 'aria-pressed': 'false',
    dataset: { webhookId: w.id } }, 'History');
  btn.addEventListener('click', () => choose(w, btn));
  const state = h('td');
  const tr = h('tr', { dataset: { webhookId: w.id } },
    h('td', { class: 'mono ellipsis', title: w.id }, w.id), h('td', {}, w.tenantId),
    h('td', { class: 'mono ellipsis url', title: w.url }, w.url),
    h('td', { class: 'ellipsis events', title: (w.events ?? []).join(', ') }, (w.events ?? []).join(', ')),
    state, h('td', { class: 'ellipsis', title: w.description ?? '' }, w.description || '—'), h('td', {}, btn));
  tr.update = (x) => replace(state, x.enabled ? pill('enabled', 'hook')
    : h('span', { title: x.deactivatedReason ?? '' }, pill('disabled', 'hook')));
  return tr;
}

function attemptLine(a) {
  const parts = [a.statusCode ? `HTTP ${a.statusCode}` : 'no answer', `${fmtNum(a.latencyMs)} ms`];
  if (a.error) parts.push(a.error);
  return h('li', {}, timeEl(a.at), ' ', parts.join(' · '));
}

function deliveryRow(d) {
  const attempts = d.attempts ?? [];
  const last = attempts[attempts.length - 1];
  return h('tr', { dataset: { status: d.status } },
    h('td', { class: 'mono ellipsis', title: d.id }, d.id),
    h('td', { class: 'ellipsis', title: d.eventType }, d.eventType),
    h('td', { class: 'mono ellipsis', title: d.eventId }, h('a', { href: `#/requests/${enc(d.requestId ?? '')}` }, d.eventId)),
    h('td', {}, pill(d.status, 'delivery')),
    h('td', {}, timeEl(d.createdAt)),
    h('td', {}, attempts.length
      ? h('details', {}, h('summary', {}, `${attempts.length} · ${last.statusCode ? `HTTP ${last.statusCode}` : last.error ?? ''}`),
        h('ol', { class: 'attempts' }, attempts.map(attemptLine)))
      : d.nextAttemptAt ? ['next ', timeEl(d.nextAttemptAt)] : '—'));
}

function historyPanel(w) {
  const statusSel = h('select', { name: 'status' }, h('option', { value: '' }, 'Any status'),
    ['pending', 'succeeded', 'failed'].map((s) => h('option', { value: s }, s)));
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older');
  const msg = h('p', { class: 'list-status' }, 'Loading…');
  const tbody = h('tbody');
  const panel = h('section', { class: 'history', 'aria-labelledby': 'h-history', dataset: { webhookId: w.id } },
    h('h2', { id: 'h-history' }, 'Deliveries of ', h('span', { class: 'mono' }, w.id)),
    h('form', { class: 'filters', method: 'post' }, h('div', { class: 'field' }, labelled('Status', statusSel), statusSel)),
    msg,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data deliveries' },
      h('caption', { class: 'visually-hidden' }, `Deliveries of webhook ${w.id}, newest first`),
      h('colgroup', {}, ['c-msg', 'c-etype', 'c-eid', 'c-dstatus', 'c-time', 'c-attempts'].map((c) => h('col', { class: c }))),
      h('thead', {}, h('tr', {}, ['Delivery', 'Event', 'Event id', 'Status', 'Created', 'Attempts']
        .map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    more);
  panel.querySelector('form').addEventListener('submit', (e) => e.preventDefault());
  let cursor = null;
  const base = `/v1/tenants/${enc(w.tenantId)}/webhooks/${enc(w.id)}/deliveries`;
  async function page(append) {
    try {
      const p = await get(withQuery(base, { status: statusSel.value, limit: 50, cursor: append ? cursor : null }));
      const rows = (p?.items ?? []).map(deliveryRow);
      if (append) tbody.append(...rows);
      else tbody.replaceChildren(...rows);
      cursor = p?.nextCursor ?? null;
      more.hidden = !cursor;
      setText(msg, tbody.children.length ? `${tbody.children.length} deliveries shown` : 'No deliveries yet.');
    } catch (e) {
      setText(msg, `Could not load deliveries: ${errorText(e)}`);
    }
  }
  statusSel.addEventListener('change', () => page(false));
  more.addEventListener('click', () => page(true));
  panel.tenantId = w.tenantId;
  panel.reload = refresher(() => page(false), 300);
  panel.reload.now();
  return panel;
}

export function mount(root, { query }) {
  let tenantId = query.get('tenantId') ?? '';
  const input = h('input', { type: 'text', name: 'tenant', value: tenantId, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'every tenant' });
  const apply = h('button', { type: 'submit' }, 'Show');
  const form = h('form', { class: 'filters', method: 'post', 'aria-label': 'Filter webhooks by tenant' },
    h('div', { class: 'field' }, labelled('Tenant', input), input), h('div', { class: 'field field-button' }, apply));
  const status = h('p', { class: 'list-status', id: 'webhooks-status' }, 'Loading…');
  const tbody = h('tbody');
  const historyBox = h('div');
  root.append(h('h1', {}, 'Webhooks'), form, status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data webhooks' },
      h('caption', { class: 'visually-hidden' }, 'Webhook endpoints'),
      h('colgroup', {}, ['c-wid', 'c-tenant', 'c-url', 'c-wevents', 'c-hook', 'c-desc', 'c-btn'].map((c) => h('col', { class: c }))),
      h('thead', {}, h('tr', {}, ['Endpoint', 'Tenant', 'URL', 'Events', 'State', 'Description', '']
        .map((t, i) => h('th', { scope: 'col' }, t || h('span', { class: 'visually-hidden' }, `Actions ${i}`))))),
      tbody)),
    historyBox);
  let panel = null;

  function choose(w, btn) {
    for (const b of tbody.querySelectorAll('button[aria-pressed]')) b.setAttribute('aria-pressed', String(b === btn));
    panel = historyPanel(w);
    historyBox.replaceChildren(panel);
  }

  const load = refresher(async () => {
    try {
      const page = await get(tenantId ? `/v1/tenants/${enc(tenantId)}/webhooks` : '/v1/webhooks');
      const items = page?.items ?? [];
      syncKeyed(tbody, items, (w) => w.id, (w) => endpointRow(w, choose), (el, w) => el.update(w));
      setText(status, items.length ? `${items.length} endpoint${items.length === 1 ? '' : 's'}`
        : 'No webhook endpoints registered.');
    } catch (e) {
      setText(status, `Could not load webhooks: ${errorText(e)}`);
    }
  }, 100);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (t && !TENANT_ID.test(t)) {
      setText(status, 'Tenant id: 1-64 letters, digits, . _ -, starting with a letter or digit');
      return;
    }
    tenantId = t;
    history.replaceState(null, '', t ? `#/webhooks?tenantId=${enc(t)}` : '#/webhooks');
    historyBox.replaceChildren();
    panel = null;
    load();
  });

  const stop = liveView(load, (e) => {
    if (e.type.startsWith('webhook_') && e.type !== 'webhook_delivery_settled') load();
    // New deliveries come with the tenant's request events; outcomes with settlements.
    if (panel && (e.type === 'webhook_delivery_settled' || e.tenantId === panel.tenantId)) panel.reload();
  });
  return () => {
    stop();
    panel?.reload.stop();
  };
}
