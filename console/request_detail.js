// #/requests/<id>: one request with its four steps live, resources,
// endpoints and the full event timeline; choosing an event shows the state
// as of that event (GET /v1/requests/{id}/state?at=<seq>, the audit replay).

import { enc, get } from './api.js';
import { errorText, fmtNum, h, pill, refresher, replace, setPill, setText, syncKeyed, timeEl } from './dom.js';
import { onEvent, onStatus } from './stream.js';
import { STEPS } from './names.js';

/** One line saying what an event of the timeline means. */
export function describeEvent(e) {
  const d = e.data ?? {};
  const step = d.step ? `${d.step}` : '';
  switch (e.type) {
    case 'request_submitted':
      return `${d.type ?? ''} in ${d.region ?? '?'} for ${d.tenantId ?? '?'}, order ${d.orderId ?? '?'}`;
    case 'quota_reserved':
    case 'quota_released':
      return amount(d.amount);
    case 'quota_exceeded':
      return (d.violations ?? []).map((v) => `${v.dimension} ${v.requested} (used ${v.used} of ${v.limit})`).join('; ');
    case 'cluster_placed':
      return d.reason ?? d.clusterId ?? '';
    case 'step_started':
      return `${step}, attempt ${d.attempt}`;
    case 'step_completed':
      return `${step}, attempt ${d.attempt}${d.adopted ? ' (adopted after a restart)' : ''}`;
    case 'step_failed':
      return `${step}, attempt ${d.attempt}: ${d.code ?? ''} ${d.message ?? ''}${d.retryable ? ' (will retry)' : ''}`;
    case 'resource_allocated':
      return `${d.resource?.kind ?? 'resource'} ${d.resource?.id ?? ''}`;
    case 'request_completed':
      return Object.keys(d.endpoints ?? {}).join(', ') || 'completed';
    case 'request_failed':
      return `${d.code ?? ''}: ${d.reason ?? ''}`;
    case 'rollback_started':
      return d.reason ?? '';
    case 'step_compensated':
      return `${step} released ${(d.released ?? []).length ?? 0}`;
    case 'approval_requested':
      return `${d.ruleName ?? d.ruleId ?? ''} (${(d.matched ?? []).join(', ')})`;
    case 'request_approved':
      return d.comment ? `comment: ${d.comment}` : 'approved';
    case 'request_rejected':
      return `reason: ${d.reason ?? ''}`;
    case 'manual_input_requested':
      return d.message ?? '';
    case 'manual_input_provided':
      return `${d.username ?? ''}@${d.host ?? ''} (${d.credential ?? 'credential'} sealed)`;
    case 'action_requested':
    case 'action_failed':
      return `${d.action ?? ''}${d.message ? `: ${d.message}` : ''}`;
    case 'capacity_released':
      return d.clusterId ?? '';
    default: {
      const text = JSON.stringify(d);
      return text === '{}' ? '' : text.length > 140 ? `${text.slice(0, 140)}…` : text;
    }
  }
}

function amount(a) {
  if (!a) return '';
  return Object.entries(a).map(([k, v]) => `${k} ${fmtNum(v)}`).join(', ');
}

function stepsTable(caption) {
  const tbody = h('tbody');
  const rows = new Map();
  for (const name of STEPS) {
    const status = pill('Pending', 'step');
    const attempts = h('td', { class: 'num' }, '0');
    const error = h('td', { class: 'error-cell' }, '—');
    const tr = h('tr', { dataset: { step: name, status: 'Pending' } }, h('th', { scope: 'row' }, name),
      h('td', {}, status), attempts, error);
    rows.set(name, { tr, status, attempts, error });
    tbody.append(tr);
  }
  const table = h('table', { class: 'data steps' }, h('caption', { class: 'visually-hidden' }, caption),
    h('colgroup', {}, h('col', { class: 'c-step' }), h('col', { class: 'c-status' }), h('col', { class: 'c-attempts' }),
      h('col')),
    h('thead', {}, h('tr', {}, ['Step', 'Status', 'Attempts', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  table.update = (steps) => {
    for (const name of STEPS) {
      const s = (steps ?? []).find((x) => x.name === name) ?? { status: 'Pending', attempts: 0, lastError: null };
      const r = rows.get(name);
      setPill(r.status, s.status, 'step');
      r.tr.dataset.status = s.status;
      setText(r.attempts, s.attempts ?? 0);
      setText(r.error, s.lastError ? errorLine(s.lastError) : '—');
    }
  };
  return table;
}

function errorLine(e) {
  if (typeof e === 'string') return e;
  return [e.code, e.message].filter(Boolean).join(': ') || JSON.stringify(e);
}

function resourcesTable(list) {
  if (!list?.length) return h('p', { class: 'muted' }, 'Nothing allocated.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data resources' },
    h('caption', { class: 'visually-hidden' }, 'Allocated resources'),
    h('colgroup', {}, h('col', { class: 'c-kind' }), h('col', { class: 'c-rid' }), h('col', { class: 'c-step' }), h('col')),
    h('thead', {}, h('tr', {}, ['Kind', 'Id', 'Step', 'Attributes'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.map((r) => h('tr', {}, h('td', {}, r.kind), h('td', { class: 'mono ellipsis', title: r.id }, r.id),
      h('td', {}, r.step ?? '—'),
      h('td', { class: 'attrs' }, Object.entries(r.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join('  ')))))));
}

function endpointsList(eps) {
  const entries = Object.entries(eps ?? {});
  if (!entries.length) return h('p', { class: 'muted' }, 'No endpoints yet (they come with Completed).');
  return h('dl', { class: 'kv endpoints' }, entries.map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)]));
}

function facts(r) {
  const res = r.resources ?? {};
  return h('dl', { class: 'kv facts' },
    [['Tenant', r.tenantId], ['Order', r.orderId], ['Type', r.type], ['Provider', r.provider], ['Region', r.region],
      ['Cluster', r.clusterId ?? '—'],
      ['Resources', Object.entries(res).map(([k, v]) => `${k} ${v}`).join(', ') || '—'],
      ['Depends on', (r.dependsOn ?? []).join(', ') || '—']]
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]),
    h('dt', {}, 'Created'), h('dd', {}, timeEl(r.createdAt)),
    h('dt', {}, 'Updated'), h('dd', {}, timeEl(r.updatedAt)));
}

// What needs the operator's eye: an approval, a failure, a manual delivery.
function notices(r) {
  const out = [];
  if (r.approval) {
    const a = r.approval;
    out.push(h('p', { class: `notice notice-${r.state === 'PendingApproval' ? 'attention' : 'info'}` },
      `Approval ${a.state ?? ''}: rule ${a.ruleName ?? a.ruleId} (priority ${a.priority ?? '?'}) matched `,
      (a.matched ?? []).join(', '), '. ',
      r.state === 'PendingApproval' ? h('a', { href: `#/approvals?focus=${enc(r.id)}` }, 'Decide in Approvals') : null));
  }
  if (r.awaitingManualInput) {
    out.push(h('p', { class: 'notice notice-attention' }, r.awaitingManualInput.message ?? 'Waiting for a manual delivery. ',
      ' ', h('a', { href: '#/manual' }, 'Open manual deliveries')));
  }
  if (r.failure) {
    const f = r.failure;
    out.push(h('p', { class: 'notice notice-error' }, `Failed: ${f.code ?? ''} — ${f.reason ?? ''}`,
      (f.violations ?? []).map((v) => ` [${v.dimension}: requested ${v.requested}, used ${v.used}, limit ${v.limit}]`)));
  }
  if (r.deprovisioned) out.push(h('p', { class: 'notice notice-info' }, 'Deprovisioned: everything was released.'));
  // The slot keeps its height when nothing needs attention.
  if (!out.length) out.push(h('p', { class: 'notice notice-none' }, 'No action needed.'));
  return out;
}

function timelineItem(e, choose) {
  const btn = h('button', { type: 'button', class: 'event', 'aria-pressed': 'false', dataset: { seq: e.seq, type: e.type } },
    h('span', { class: 'event-seq' }, `#${e.seq}`),
    h('span', { class: 'event-type' }, e.type),
    h('span', { class: 'event-time' }, timeEl(e.time)),
    h('span', { class: 'event-desc' }, describeEvent(e)));
  btn.addEventListener('click', () => choose(e, btn));
  return h('li', {}, btn);
}

function asOfView(r, e) {
  const steps = stepsTable(`Steps as of event ${e.seq}`);
  steps.update(r.steps);
  return [
    h('h3', {}, `State as of event #${e.seq} `, h('span', { class: 'muted' }, e.type)),
    h('p', {}, 'State ', pill(r.state), ' at ', timeEl(e.time)),
    h('div', { class: 'table-wrap' }, steps),
    h('h4', {}, 'Resources'), resourcesTable(r.allocatedResources),
    h('h4', {}, 'Endpoints'), endpointsList(r.endpoints),
    notices(r),
  ];
}

export function mountDetail(root, { params }) {
  const id = params.id;
  const state = pill('…');
  const heading = h('h1', {}, 'Request ', h('span', { class: 'mono' }, id), ' ', state);
  const message = h('p', { class: 'list-status', id: 'detail-status' }, 'Loading…');
  const factsBox = h('div', { class: 'facts-box' });
  const noticeBox = h('div', { class: 'notices' });
  const steps = stepsTable('The four steps');
  const resourcesBox = h('div');
  const endpointsBox = h('div');
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Event timeline' });
  const asOf = h('section', { class: 'as-of', 'aria-live': 'polite', 'aria-label': 'State as of the chosen event' },
    h('p', { class: 'muted' }, 'Choose an event to see the request as it was right after it.'));

  root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/requests' }, '← All requests')),
    heading, message,
    h('div', { class: 'detail' },
      h('div', { class: 'detail-main' },
        factsBox, noticeBox,
        h('section', { 'aria-labelledby': 'h-steps' }, h('h2', { id: 'h-steps' }, 'Steps'),
          h('div', { class: 'table-wrap' }, steps)),
        h('section', { 'aria-labelledby': 'h-res' }, h('h2', { id: 'h-res' }, 'Resources'), resourcesBox),
        h('section', { 'aria-labelledby': 'h-ep' }, h('h2', { id: 'h-ep' }, 'Endpoints'), endpointsBox)),
      h('div', { class: 'detail-side' },
        h('section', { 'aria-labelledby': 'h-tl' }, h('h2', { id: 'h-tl' }, 'Timeline'),
          h('div', { class: 'timeline-wrap' }, timeline)),
        asOf)));

  const events = new Map(); // seq -> event
  let lastSummary = null;
  let chosen = null;

  function renderTimeline() {
    const list = [...events.values()].sort((a, b) => a.seq - b.seq);
    syncKeyed(timeline, list, (e) => e.seq, (e) => timelineItem(e, choose));
  }

  async function choose(e, btn) {
    chosen = e.seq;
    for (const b of timeline.querySelectorAll('button.event')) b.setAttribute('aria-pressed', String(b === btn));
    replace(asOf, h('p', { class: 'muted' }, `Replaying the journal up to event #${e.seq}…`));
    try {
      const r = await get(`/v1/requests/${enc(id)}/state?at=${e.seq}`);
      if (chosen !== e.seq) return;
      replace(asOf, asOfView(r, e));
      asOf.dataset.seq = String(e.seq);
      asOf.dataset.state = r.state;
    } catch (err) {
      replace(asOf, h('p', { class: 'notice notice-error' }, `Could not replay: ${errorText(err)}`));
    }
  }

  function renderSummary(r) {
    setPill(state, r.state);
    root.dataset.state = r.state;
    if (lastSummary?.version === r.version) return;
    replace(factsBox, facts(r));
    replace(noticeBox, notices(r));
    steps.update(r.steps);
    replace(resourcesBox, resourcesTable(r.allocatedResources));
    replace(endpointsBox, endpointsList(r.endpoints));
    lastSummary = r;
  }

  // The whole history; the stream's events merge into it by seq, in
  // whichever order the two arrive.
  let historyLoaded = false;
  const loadEvents = refresher(async () => {
    let list;
    try {
      list = await get(`/v1/requests/${enc(id)}/events`);
    } catch (e) {
      if (e.status !== 404) setText(message, `Could not load the timeline: ${errorText(e)}`);
      return;
    }
    for (const e of list ?? []) events.set(e.seq, e);
    historyLoaded = true;
    renderTimeline();
  }, 100);

  const refresh = refresher(async () => {
    let r;
    try {
      r = await get(`/v1/requests/${enc(id)}`);
    } catch (e) {
      if (e.status === 404) {
        setPill(state, 'not found');
        setText(message, `No request ${id} (yet): this page follows the live stream and shows it once it exists.`);
        return;
      }
      setText(message, `Could not load the request: ${errorText(e)}`);
      return;
    }
    setText(message, '');
    renderSummary(r);
    if (!historyLoaded) loadEvents();
    // The read model may lag the journal by a moment: ask again until it
    // has caught up with the newest event the stream showed.
    const newest = Math.max(0, ...events.keys());
    if (r.version < newest) refresh(250);
  }, 120);

  const offEvent = onEvent((e) => {
    if (e.requestId !== id) return;
    const newest = Math.max(0, ...events.keys());
    if (historyLoaded && e.seq > newest + 1) loadEvents(); // a gap: fetch the whole history
    events.set(e.seq, e);
    renderTimeline();
    refresh();
  });
  let first = true;
  const offStatus = onStatus((s) => {
    if (s !== 'live') return;
    if (!first) {
      refresh();
      loadEvents();
    }
    first = false;
  });

  refresh.now();
  loadEvents.now();
  return () => {
    offEvent();
    offStatus();
    refresh.stop();
    loadEvents.stop();
  };
}
