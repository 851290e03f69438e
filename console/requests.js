// #/requests: the filterable request table, kept current by the stream.
// Tenant and state go to the server (GET /v1/requests?tenantId&state); type
// and cluster, which the API does not filter on, are applied here, and every
// filter is applied again here to rows the stream brings in.

import { enc, get, getAll } from './api.js';
import { errorText, h, labelled, pill, refresher, setPill, setText, syncKeyed, timeEl } from './dom.js';
import { onEvent, onStatus } from './stream.js';
import { LIFECYCLE, REQUEST_TYPES, STEPS } from './names.js';

export { mountDetail } from './request_detail.js';

// More dirty rows than this after a burst: reload the list instead of
// fetching each one.
const MAX_ROW_FETCHES = 40;

function select(label, values, current) {
  const s = h('select', { name: label.toLowerCase() },
    h('option', { value: '' }, `Any ${label.toLowerCase()}`),
    values.map((v) => h('option', { value: v, selected: v === current }, v)));
  return s;
}

function filterBar(filters, clusterIds) {
  const tenant = h('input', { type: 'search', name: 'tenant', value: filters.tenantId, list: 'tenant-options',
    placeholder: 'any tenant', autocomplete: 'off', spellcheck: 'false' });
  const tenantList = h('datalist', { id: 'tenant-options' });
  const state = select('State', LIFECYCLE, filters.state);
  const type = select('Type', REQUEST_TYPES, filters.type);
  const cluster = select('Cluster', clusterIds, filters.cluster);
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter requests', method: 'post' },
    h('div', { class: 'field' }, labelled('Tenant', tenant), tenant, tenantList),
    h('div', { class: 'field' }, labelled('State', state), state),
    h('div', { class: 'field' }, labelled('Type', type), type),
    h('div', { class: 'field' }, labelled('Cluster', cluster), cluster),
    h('div', { class: 'field field-button' }, clear));
  form.addEventListener('submit', (e) => e.preventDefault());
  return { form, tenant, tenantList, state, type, cluster, clear };
}

function stepsCell(steps) {
  const box = h('span', { class: 'mini-steps' });
  for (const name of STEPS) {
    box.append(h('span', { class: 'mini-step', dataset: { step: name } }, h('span', { class: 'visually-hidden' })));
  }
  box.update = (list) => {
    for (const el of box.children) {
      const s = (list ?? []).find((x) => x.name === el.dataset.step);
      const status = s?.status ?? 'Pending';
      el.dataset.status = status;
      el.title = `${el.dataset.step}: ${status}`;
      setText(el.firstChild, `${el.dataset.step} ${status}; `);
    }
  };
  box.update(steps);
  return box;
}

function createRow(r) {
  const link = h('a', { href: `#/requests/${enc(r.id)}`, class: 'mono' }, r.id);
  const cells = {
    tenant: h('td'), type: h('td'), state: pill(r.state), steps: stepsCell(r.steps),
    cluster: h('td', { class: 'mono' }), region: h('td'), updated: h('td'),
  };
  const tr = h('tr', { dataset: { requestId: r.id } },
    h('td', { class: 'ellipsis' }, link), cells.tenant, cells.type, h('td', {}, cells.state), h('td', {}, cells.steps),
    cells.cluster, cells.region, cells.updated);
  tr.cells_ = cells;
  return tr;
}

function updateRow(tr, r) {
  const c = tr.cells_;
  setText(c.tenant, r.tenantId);
  setText(c.type, r.type);
  setPill(c.state, r.state);
  tr.dataset.state = r.state;
  c.steps.update(r.steps);
  setText(c.cluster, r.clusterId ?? '—');
  setText(c.region, r.region);
  if (c.updated.dataset.at !== r.updatedAt) {
    c.updated.dataset.at = r.updatedAt;
    c.updated.replaceChildren(timeEl(r.updatedAt));
  }
}

export function mountList(root, { query }) {
  const filters = {
    tenantId: query.get('tenantId') ?? '', state: query.get('state') ?? '',
    type: query.get('type') ?? '', cluster: query.get('cluster') ?? '',
  };
  const rows = new Map();
  let clusterIds = [];
  let loadedFor = null;
  let truncated = false;

  const bar = filterBar(filters, clusterIds);
  const status = h('p', { class: 'list-status', id: 'requests-status' }, 'Loading…');
  const tbody = h('tbody');
  const table = h('table', { class: 'data requests', 'aria-describedby': 'requests-status' },
    h('caption', { class: 'visually-hidden' }, 'Provisioning requests, newest first'),
    h('colgroup', {}, ['c-id', 'c-tenant', 'c-type', 'c-state', 'c-steps', 'c-cluster', 'c-region', 'c-time']
      .map((c) => h('col', { class: c }))),
    h('thead', {}, h('tr', {}, ['Request', 'Tenant', 'Type', 'State', 'Steps', 'Cluster', 'Region', 'Updated']
      .map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  root.append(h('h1', {}, 'Requests'), bar.form, status, h('div', { class: 'table-wrap' }, table));

  const matches = (r) => (!filters.tenantId || r.tenantId === filters.tenantId) &&
    (!filters.state || r.state === filters.state) && (!filters.type || r.type === filters.type) &&
    (!filters.cluster || r.clusterId === filters.cluster);

  function render() {
    const shown = [...rows.values()].filter(matches)
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id));
    syncKeyed(tbody, shown, (r) => r.id, createRow, updateRow);
    const tenants = [...new Set([...rows.values()].map((r) => r.tenantId))].sort();
    syncKeyed(bar.tenantList, tenants, (t) => t, (t) => h('option', { value: t }));
    setText(status, `${shown.length} request${shown.length === 1 ? '' : 's'} shown` +
      (truncated ? ' (the newest 2,000 not loaded: narrow the filters)' : ''));
  }

  function writeHash() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const s = q.toString();
    history.replaceState(null, '', `#/requests${s ? `?${s}` : ''}`);
  }

  const reload = refresher(async () => {
    const key = `${filters.tenantId}|${filters.state}`;
    try {
      const page = await getAll('/v1/requests', { tenantId: filters.tenantId, state: filters.state });
      if (key !== `${filters.tenantId}|${filters.state}`) return; // filters moved on meanwhile
      rows.clear();
      for (const r of page.items) rows.set(r.id, r);
      truncated = page.truncated;
      loadedFor = key;
      render();
    } catch (e) {
      setText(status, `Could not load requests: ${errorText(e)}`);
    }
  }, 50);

  const dirty = new Set();
  const fetchDirty = refresher(async () => {
    if (dirty.size > MAX_ROW_FETCHES) {
      dirty.clear();
      return reload.now();
    }
    const ids = [...dirty];
    dirty.clear();
    const got = await Promise.all(ids.map((id) => get(`/v1/requests/${enc(id)}`).catch(() => null)));
    for (const r of got) if (r) rows.set(r.id, r);
    render();
  }, 200);

  async function loadClusters() {
    try {
      const list = await get('/v1/clusters');
      clusterIds = (list?.items ?? []).map((c) => c.id).sort();
      if (filters.cluster && !clusterIds.includes(filters.cluster)) clusterIds.push(filters.cluster);
      bar.cluster.replaceChildren(h('option', { value: '' }, 'Any cluster'),
        clusterIds.map((id) => h('option', { value: id }, id)));
      bar.cluster.value = filters.cluster;
    } catch {
      // The cluster filter keeps what it has; the table does not need it.
    }
  }

  let tenantTimer = null;
  bar.tenant.addEventListener('input', () => {
    clearTimeout(tenantTimer);
    tenantTimer = setTimeout(() => {
      filters.tenantId = bar.tenant.value.trim();
      writeHash();
      reload();
    }, 350);
  });
  bar.state.addEventListener('change', () => {
    filters.state = bar.state.value;
    writeHash();
    reload();
  });
  bar.type.addEventListener('change', () => {
    filters.type = bar.type.value;
    writeHash();
    render();
  });
  bar.cluster.addEventListener('change', () => {
    filters.cluster = bar.cluster.value;
    writeHash();
    render();
  });
  bar.clear.addEventListener('click', () => {
    Object.assign(filters, { tenantId: '', state: '', type: '', cluster: '' });
    bar.tenant.value = '';
    bar.state.value = bar.type.value = bar.cluster.value = '';
    writeHash();
    reload();
  });

  const offEvent = onEvent((e) => {
    if (!e.requestId || !loadedFor) return;
    if (e.type === 'cluster_placed' && !clusterIds.includes(e.data?.clusterId)) loadClusters();
    dirty.add(e.requestId);
    fetchDirty();
  });
  // After a reconnect the stream replays what was missed; reload anyway in
  // case the gap was older than the server keeps.
  let first = true;
  const offStatus = onStatus((s) => {
    if (s !== 'live') return;
    if (!first) reload();
    first = false;
  });

  loadClusters();
  reload.now();
  return () => {
    offEvent();
    offStatus();
    reload.stop();
    fetchDirty.stop();
    clearTimeout(tenantTimer);
  };
}
