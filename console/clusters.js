// #/clusters: every cluster with capacity bars (used of capacity per
// dimension), health, breaker state, the provisioning switch
// (PUT /v1/clusters/{id}, a full replace in which omitted secrets are kept)
// and "Test connectivity" (POST /v1/clusters/{id}/test: success and latency).

import { enc, get, post, put } from './api.js';
import { errorText, fmtNum, h, meter, pill, refresher, setPill, setText, syncKeyed } from './dom.js';
import { CAPACITY } from './names.js';
import { liveView } from './stream.js';

// Placements and releases move capacity; the breaker has no event, so the
// page also looks again every few seconds while it is open.
const RELEVANT = new Set(['cluster_placed', 'capacity_released', 'cluster_saved', 'cluster_deleted', 'rolled_back']);
const POLL_MS = 5000;

/** The PUT body that changes only provisioningEnabled. */
export function switchBody(c, enabled) {
  return { name: c.name, type: c.type, region: c.region, default: c.default, capacity: c.capacity,
    health: c.health, provisioningEnabled: enabled, connection: c.connection ?? {} };
}

function card(c) {
  const health = pill(c.health, 'health');
  const breaker = pill(c.breaker, 'breaker');
  const requests = h('dd', {});
  const meters = CAPACITY.map((d) => ({ d, el: meter(d.label, 0, 0, d.unit) }));
  const free = h('p', { class: 'muted capacity-free' });
  const sw = h('input', { type: 'checkbox', role: 'switch', name: 'provisioning', class: 'switch' });
  const swLabel = h('label', { class: 'switch-label' }, sw, h('span', {}, 'Provisioning enabled'));
  const swResult = h('span', { class: 'result inline', role: 'status' });
  const testBtn = h('button', { type: 'button', class: 'secondary', dataset: { action: 'test' } }, 'Test connectivity');
  const testResult = h('p', { class: 'result test-result', role: 'status', dataset: { outcome: 'none' } },
    'Not tested yet.');
  let current = c;

  const el = h('article', { class: 'card cluster', dataset: { clusterId: c.id }, 'aria-labelledby': `cl-${c.id}` },
    h('header', { class: 'card-head' },
      h('h2', { id: `cl-${c.id}`, class: 'card-title' }, c.name, ' ', h('span', { class: 'muted mono' }, c.id)),
      h('div', { class: 'badges' }, h('span', { class: 'visually-hidden' }, 'Health'), health,
        h('span', { class: 'visually-hidden' }, 'Breaker'), breaker)),
    h('dl', { class: 'kv compact' },
      h('dt', {}, 'Type'), h('dd', {}, c.type),
      h('dt', {}, 'Region'), h('dd', {}, `${c.region}${c.default ? ' (default)' : ''}`),
      h('dt', {}, 'Breaker'), h('dd', { class: 'breaker-text' }, c.breaker),
      h('dt', {}, 'Requests holding capacity'), requests),
    h('div', { class: 'meters' }, meters.map((m) => m.el)), free,
    h('div', { class: 'card-actions' }, swLabel, swResult, testBtn),
    testResult);

  sw.addEventListener('change', async () => {
    const wanted = sw.checked;
    sw.disabled = true;
    setText(swResult, 'Saving…');
    try {
      current = await put(`/v1/clusters/${enc(current.id)}`, switchBody(current, wanted));
      setText(swResult, wanted ? 'Placement may use it.' : 'No new placements.');
      el.update(current);
    } catch (e) {
      sw.checked = !wanted;
      setText(swResult, `Not changed: ${errorText(e)}`);
    } finally {
      sw.disabled = false;
    }
  });

  testBtn.addEventListener('click', async () => {
    testBtn.disabled = true;
    testResult.dataset.outcome = 'running';
    setText(testResult, 'Testing…');
    try {
      const r = await post(`/v1/clusters/${enc(current.id)}/test`);
      testResult.dataset.outcome = r.success ? 'success' : 'failure';
      testResult.dataset.latency = String(r.latencyMs ?? '');
      setText(testResult, r.success ? `Reachable: answered in ${fmtNum(r.latencyMs)} ms`
        : `Unreachable after ${fmtNum(r.latencyMs)} ms: ${r.error ?? 'no reason given'}`);
    } catch (e) {
      testResult.dataset.outcome = 'failure';
      setText(testResult, `Test failed: ${errorText(e)}`);
    } finally {
      testBtn.disabled = false;
    }
  });

  el.update = (x) => {
    current = x;
    setPill(health, x.health, 'health');
    setPill(breaker, x.breaker, 'breaker');
    el.dataset.breaker = x.breaker;
    el.dataset.health = x.health;
    setText(el.querySelector('.breaker-text'), x.breaker);
    setText(requests, fmtNum(x.requests));
    for (const m of meters) m.el.update(x.used?.[m.d.key] ?? 0, x.capacity?.[m.d.key] ?? null);
    setText(free, `Available: ${CAPACITY.map((d) => `${fmtNum(x.available?.[d.key])}${d.unit} ${d.label.toLowerCase()}`)
      .join(' · ')}`);
    if (!sw.disabled) sw.checked = x.provisioningEnabled;
  };
  return el;
}

export function mount(root) {
  const status = h('p', { class: 'list-status', id: 'clusters-status' }, 'Loading…');
  const list = h('div', { class: 'cards clusters' });
  root.append(h('h1', {}, 'Clusters'), status, list);

  const load = refresher(async () => {
    let page;
    try {
      page = await get('/v1/clusters');
    } catch (e) {
      setText(status, `Could not load clusters: ${errorText(e)}`);
      return;
    }
    const items = page?.items ?? [];
    syncKeyed(list, items, (c) => c.id, card, (el, c) => el.update(c));
    setText(status, `${items.length} cluster${items.length === 1 ? '' : 's'}`);
  }, 200);

  // The breaker's state comes with no event: looked at again now and then.
  const poll = setInterval(() => load(), POLL_MS);
  const stop = liveView(load, (e) => {
    if (RELEVANT.has(e.type)) load();
  });
  return () => {
    clearInterval(poll);
    stop();
  };
}
