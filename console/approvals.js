// #/approvals: requests in PendingApproval with the rule that matched, and
// approve (optional comment) / reject (reason required). The list follows the
// stream; a comment being typed survives a refresh (keyed rows).

import { enc, get, post } from './api.js';
import { errorText, h, labelled, refresher, replace, setText, syncKeyed, timeEl } from './dom.js';
import { toast } from './notify.js';
import { liveView } from './stream.js';

const RELEVANT = new Set(['approval_requested', 'request_approved', 'request_rejected', 'request_admitted',
  'request_failed']);

function resources(r) {
  return Object.entries(r.resources ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '—';
}

function card(r, onDecided) {
  const comment = h('input', { type: 'text', name: 'comment', maxlength: '2000', autocomplete: 'off' });
  const reason = h('input', { type: 'text', name: 'reason', maxlength: '2000', autocomplete: 'off' });
  const approve = h('button', { type: 'submit', class: 'primary', dataset: { action: 'approve' } }, 'Approve');
  const reject = h('button', { type: 'button', class: 'danger', dataset: { action: 'reject' } }, 'Reject');
  const result = h('p', { class: 'result', role: 'status' });
  const rule = h('div', { class: 'rule' });
  const form = h('form', { class: 'decide', method: 'post' },
    h('div', { class: 'field' }, labelled('Comment (optional)', comment), comment), approve,
    h('div', { class: 'field' }, labelled('Reason for rejecting', reason), reason), reject);
  const el = h('article', { class: 'card approval', dataset: { requestId: r.id }, 'aria-labelledby': `ap-${r.id}` },
    h('h2', { id: `ap-${r.id}`, class: 'card-title' },
      h('a', { href: `#/requests/${enc(r.id)}`, class: 'mono' }, r.id)),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Tenant'), h('dd', {}, r.tenantId),
      h('dt', {}, 'Order'), h('dd', {}, r.orderId),
      h('dt', {}, 'Type'), h('dd', {}, `${r.type} in ${r.region}`),
      h('dt', {}, 'Resources'), h('dd', {}, resources(r)),
      h('dt', {}, 'Submitted'), h('dd', {}, timeEl(r.createdAt))),
    rule, form, result);

  async function decide(action) {
    const body = action === 'approve' ? (comment.value.trim() ? { comment: comment.value.trim() } : {})
      : { reason: reason.value.trim() };
    if (action === 'reject' && !body.reason) {
      setText(result, 'A rejection needs a reason.');
      result.dataset.kind = 'error';
      reason.focus();
      return;
    }
    approve.disabled = reject.disabled = true;
    setText(result, action === 'approve' ? 'Approving…' : 'Rejecting…');
    result.dataset.kind = 'info';
    try {
      const out = await post(`/v1/requests/${enc(r.id)}/${action}`, body);
      setText(result, `${action === 'approve' ? 'Approved' : 'Rejected'}: now ${out.state}.`);
      result.dataset.kind = 'ok';
      el.dataset.decided = action;
      toast(`${r.id} ${action === 'approve' ? 'approved' : 'rejected'} (now ${out.state})`, { kind: 'ok' });
      onDecided();
    } catch (e) {
      setText(result, `Could not ${action}: ${errorText(e)}`);
      result.dataset.kind = 'error';
      approve.disabled = reject.disabled = false;
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    decide('approve');
  });
  reject.addEventListener('click', () => decide('reject'));
  el.updateRule = (a) => {
    replace(rule, h('p', {}, h('strong', {}, 'Rule: '), `${a?.ruleName ?? a?.ruleId ?? 'unknown'}`,
      a?.ruleId ? h('span', { class: 'muted mono' }, ` (${a.ruleId}, priority ${a.priority ?? '?'})`) : null),
    h('p', { class: 'matched' }, h('strong', {}, 'Matched: '), (a?.matched ?? []).join('; ') || '—'));
  };
  return el;
}

export function mount(root, { query }) {
  const focusId = query.get('focus');
  const status = h('p', { class: 'list-status', id: 'approvals-status' }, 'Loading…');
  const list = h('div', { class: 'cards approvals' });
  root.append(h('h1', {}, 'Approvals'),
    h('p', { class: 'lede' }, 'Requests that matched an approval rule wait here. Approving lets admission continue; ' +
      'rejecting fails the request and frees its quota.'),
    status, list);
  let focused = false;

  const load = refresher(async () => {
    let page;
    try {
      page = await get('/v1/approvals?state=pending');
    } catch (e) {
      setText(status, `Could not load approvals: ${errorText(e)}`);
      return;
    }
    const items = (page?.items ?? []).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
    // A decided card stays (with its result) while this page is open, so
    // nothing moves under the operator's pointer.
    const listed = new Set(items.map((r) => r.id));
    const kept = [...list.querySelectorAll(':scope > [data-decided]')]
      .filter((el) => !listed.has(el.dataset.requestId)).map((el) => ({ id: el.dataset.requestId, kept: true }));
    syncKeyed(list, [...kept, ...items], (r) => r.id, (r) => card(r, () => load()),
      (el, r) => r.kept || el.updateRule(r.approval));
    setText(status, items.length ? `${items.length} pending` : 'Nothing waits for approval.');
    list.dataset.pending = String(items.length);
    if (focusId && !focused) {
      const target = list.querySelector(`[data-request-id="${CSS.escape(focusId)}"]`);
      if (target) {
        focused = true;
        target.classList.add('flash');
        target.scrollIntoView({ block: 'nearest' });
        target.querySelector('input[name=comment]')?.focus({ preventScroll: true });
      }
    }
  }, 100);

  return liveView(load, (e) => {
    if (RELEVANT.has(e.type)) load();
  });
}
