// The console's entry point: hash routing, the API key form, the stream's
// status and the approval notifications. Each view is a module exporting
// mount(root, {params, query}) -> unmount function.

import { setApiKey } from './api.js';
import { setText } from './dom.js';
import { startApprovalNotifications } from './notify.js';
import { onStatus, restart } from './stream.js';
import * as approvals from './approvals.js';
import * as clusters from './clusters.js';
import * as manual from './manual.js';
import * as requests from './requests.js';
import * as tenants from './tenants.js';
import * as webhooks from './webhooks.js';

// Pattern segments starting with ':' capture.
const ROUTES = [
  { path: 'requests', nav: 'requests', view: requests.mountList, title: 'Requests' },
  { path: 'requests/:id', nav: 'requests', view: requests.mountDetail, title: 'Request' },
  { path: 'approvals', nav: 'approvals', view: approvals.mount, title: 'Approvals' },
  { path: 'manual', nav: 'manual', view: manual.mount, title: 'Manual deliveries' },
  { path: 'clusters', nav: 'clusters', view: clusters.mount, title: 'Clusters' },
  { path: 'tenants', nav: 'tenants', view: tenants.mount, title: 'Tenants' },
  { path: 'webhooks', nav: 'webhooks', view: webhooks.mount, title: 'Webhooks' },
];

/** The route of a hash like "#/requests/req-1?x=y", or null. */
function resolve(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?', 2);
  const segments = pathPart.split('/').filter(Boolean);
  for (const r of ROUTES) {
    const pattern = r.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params = {};
    let ok = true;
    pattern.forEach((p, i) => {
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(segments[i]);
        } catch {
          ok = false;
        }
      } else if (p !== segments[i]) ok = false;
    });
    if (ok) return { route: r, params, query: new URLSearchParams(queryPart) };
  }
  return null;
}

let unmount = null;
let mountedPath = null;

function route() {
  const found = resolve(location.hash);
  if (!found) {
    location.replace('#/requests');
    return;
  }
  const root = document.getElementById('main');
  const key = location.hash.split('?')[0];
  // A hash change that only rewrites the query (filters) keeps the view.
  if (key === mountedPath && found.route.path !== 'approvals') return;
  unmount?.();
  unmount = null;
  mountedPath = key;
  root.replaceChildren();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === found.route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${found.route.title} · provisiond console`;
  unmount = found.route.view(root, { params: found.params, query: found.query }) ?? null;
  // Screen readers and keyboard users start at the new page's heading.
  const heading = root.querySelector('h1');
  if (heading && document.activeElement?.closest?.('.nav, .toasts')) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function wireApiKey() {
  const form = document.getElementById('key-form');
  const input = document.getElementById('api-key');
  const state = document.getElementById('api-key-state');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setApiKey(input.value.trim());
    setText(state, input.value.trim() ? 'key in use' : 'no key');
    restart(); // the stream reconnects with the new key
    route.force?.();
  });
}

function wireStreamStatus() {
  const el = document.getElementById('stream-status');
  const text = el.querySelector('.stream-text');
  onStatus((s, detail) => {
    el.dataset.status = s;
    setText(text, s === 'live' ? 'live' : s);
    el.title = detail ? `Live event stream: ${s} (${detail})` : `Live event stream: ${s}`;
  });
}

route.force = () => {
  mountedPath = null;
  route();
};

wireApiKey();
wireStreamStatus();
startApprovalNotifications();
restart();
window.addEventListener('hashchange', route);
route();
