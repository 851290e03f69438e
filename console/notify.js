// Toasts (in the aria-live region of index.html) and the pending-approvals
// badge on the nav, which the stream keeps current on every page.

import { get } from './api.js';
import { h, refresher, setText } from './dom.js';
import { onEvent, onStatus } from './stream.js';

const TOAST_MS = 12000;

/**
 * Shows a toast; `link` = {href, text} adds a link. It stays while hovered or
 * focused, so a keyboard user can reach its link.
 */
export function toast(message, { kind = 'info', link = null, testId = null } = {}) {
  const region = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss notification' }, '×');
  const el = h('div', { class: `toast toast-${kind}`, dataset: testId ? { testid: testId } : undefined },
    h('div', { class: 'toast-body' }, h('span', { class: 'toast-text' }, message),
      link ? h('a', { href: link.href, class: 'toast-link' }, link.text) : null),
    close);
  let timer = null;
  const dismiss = () => {
    clearTimeout(timer);
    el.remove();
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(dismiss, TOAST_MS);
  };
  close.addEventListener('click', dismiss);
  el.addEventListener('mouseenter', () => clearTimeout(timer));
  el.addEventListener('mouseleave', arm);
  el.addEventListener('focusin', () => clearTimeout(timer));
  el.addEventListener('focusout', arm);
  el.querySelector('.toast-link')?.addEventListener('click', dismiss);
  region.append(el);
  while (region.children.length > 4) region.firstElementChild.remove();
  arm();
  return el;
}

let pendingCount = 0;
const countListeners = new Set();

/** fn(count) on every change of the number of requests pending approval. */
export function onPendingCount(fn) {
  countListeners.add(fn);
  fn(pendingCount);
  return () => countListeners.delete(fn);
}

function showCount(n) {
  pendingCount = n;
  const badge = document.getElementById('approvals-badge');
  const link = document.getElementById('nav-approvals');
  badge.dataset.count = String(n);
  setText(badge, n > 0 ? String(n) : '');
  link.setAttribute('aria-label', n > 0 ? `Approvals, ${n} pending` : 'Approvals');
  for (const fn of countListeners) fn(n);
}

const DECISIONS = new Set(['approval_requested', 'request_approved', 'request_rejected']);

/** Wires the badge and the PendingApproval toast to the stream. */
export function startApprovalNotifications() {
  const recount = refresher(async () => {
    const page = await get('/v1/approvals?state=pending');
    showCount(page?.items?.length ?? 0);
  }, 100);
  onEvent((e) => {
    if (!DECISIONS.has(e.type)) return;
    if (e.type === 'approval_requested') {
      // A request entered PendingApproval: tell the operator now. The badge
      // counts at once, then the server's answer makes it exact.
      showCount(pendingCount + 1);
      const rule = e.data?.ruleName ?? e.data?.ruleId ?? 'an approval rule';
      toast(`Request ${e.requestId} (tenant ${e.tenantId}) awaits approval: ${rule}`, {
        kind: 'attention',
        link: { href: `#/approvals?focus=${encodeURIComponent(e.requestId)}`, text: 'Review' },
        testId: `approval-toast-${e.requestId}`,
      });
    }
    recount();
  });
  onStatus((s) => {
    if (s === 'live') recount();
  });
  recount.now();
}
