// #/manual: requests on vendor-managed clusters waiting for an operator to
// deliver access (GET /v1/manual-requests), and the completion form
// (POST /v1/requests/{id}/complete). The password or key goes from the form
// straight into the request body: it is never stored, never put in a URL,
// and the field is emptied once the server has it.

import { enc, get, post } from './api.js';
import { errorText, h, labelled, refresher, setText, syncKeyed, timeEl } from './dom.js';
import { toast } from './notify.js';
import { liveView } from './stream.js';

const RELEVANT = new Set(['manual_input_requested', 'manual_input_provided', 'step_completed', 'request_failed',
  'rollback_started']);

/** "name=URL" lines to an object; throws naming the line that is not. */
export function parseEndpoints(text) {
  const out = {};
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const eq = t.indexOf('=');
    if (eq < 1) throw new Error(`endpoints line ${i + 1}: expected name=URL`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  });
  return out;
}

function deliveryForm(r, onDone) {
  const f = (name, props = {}) => h('input', { type: 'text', name, autocomplete: 'off', spellcheck: 'false', ...props });
  const host = f('host', { required: true, maxlength: '253', placeholder: '10.1.2.3' });
  const username = f('username', { required: true, maxlength: '64', placeholder: 'root' });
  const kind = h('select', { name: 'credential' }, h('option', { value: 'password' }, 'Password'),
    h('option', { value: 'privateKey' }, 'Private key'));
  const password = h('input', { type: 'password', name: 'secret-password', autocomplete: 'new-password',
    spellcheck: 'false', maxlength: '16384', dataset: { secret: 'true' } });
  const key = h('textarea', { name: 'secret-key', rows: '4', autocomplete: 'off', spellcheck: 'false',
    class: 'mono', maxlength: '16384', placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----', dataset: { secret: 'true' } });
  const endpoints = h('textarea', { name: 'endpoints', rows: '2', spellcheck: 'false', class: 'mono',
    placeholder: 'ssh=ssh://root@10.1.2.3:22' });
  const note = f('note', { maxlength: '1000' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Deliver and complete');
  const result = h('p', { class: 'result', role: 'status' });
  const pwField = h('div', { class: 'field' }, labelled('Password', password), password);
  const keyField = h('div', { class: 'field', hidden: true }, labelled('Private key', key), key);
  const hint = h('p', { class: 'hint', id: `hint-${r.id}` },
    'The password or key is sealed by provisiond and handed to the tenant once; this page keeps no copy.');
  const form = h('form', { class: 'deliver', method: 'post', autocomplete: 'off', 'aria-describedby': hint.id },
    h('div', { class: 'form-grid' },
      h('div', { class: 'field' }, labelled('Host', host), host),
      h('div', { class: 'field' }, labelled('Username', username), username),
      h('div', { class: 'field' }, labelled('Credential', kind), kind),
      pwField, keyField,
      h('div', { class: 'field wide' }, labelled('Endpoints (one name=URL per line)', endpoints), endpoints),
      h('div', { class: 'field wide' }, labelled('Note for the record', note), note)),
    hint, submit, result);

  kind.addEventListener('change', () => {
    const pw = kind.value === 'password';
    pwField.hidden = !pw;
    keyField.hidden = pw;
    // Switching kinds drops what was typed in the other: only one is sent.
    (pw ? key : password).value = '';
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const secretField = kind.value === 'password' ? password : key;
    const body = { host: host.value.trim(), username: username.value.trim() };
    const fail = (text) => {
      setText(result, text);
      result.dataset.kind = 'error';
    };
    const missing = [[host, 'host'], [username, 'username'], [secretField, kind.value]].find(([el]) => !el.value.trim());
    if (missing) {
      fail(`${missing[1]}: required`);
      missing[0].focus();
      return;
    }
    body[kind.value] = secretField.value;
    try {
      const eps = parseEndpoints(endpoints.value);
      if (Object.keys(eps).length) body.endpoints = eps;
    } catch (err) {
      fail(err.message);
      endpoints.focus();
      return;
    }
    if (note.value.trim()) body.note = note.value.trim();
    submit.disabled = true;
    setText(result, 'Sending…');
    result.dataset.kind = 'info';
    try {
      const out = await post(`/v1/requests/${enc(r.id)}/complete`, body);
      password.value = '';
      key.value = '';
      setText(result, `Delivered: ${r.id} is ${out.state} and goes on to Verifying and Completed.`);
      result.dataset.kind = 'ok';
      form.closest('[data-request-id]').dataset.delivered = 'true';
      toast(`Access details for ${r.id} delivered`, { kind: 'ok' });
      onDone();
    } catch (err) {
      fail(`Not delivered: ${errorText(err)}`);
      submit.disabled = false;
    } finally {
      delete body.password;
      delete body.privateKey;
    }
  });
  return form;
}

function card(r, onDone) {
  return h('article', { class: 'card manual', dataset: { requestId: r.id }, 'aria-labelledby': `mr-${r.id}` },
    h('h2', { id: `mr-${r.id}`, class: 'card-title' }, h('a', { href: `#/requests/${enc(r.id)}`, class: 'mono' }, r.id)),
    h('dl', { class: 'kv' },
      h('dt', {}, 'Tenant'), h('dd', {}, r.tenantId),
      h('dt', {}, 'Cluster'), h('dd', { class: 'mono' }, r.clusterId ?? '—'),
      h('dt', {}, 'Type'), h('dd', {}, `${r.type} in ${r.region}`),
      h('dt', {}, 'Resources'), h('dd', {}, Object.entries(r.resources ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')),
      h('dt', {}, 'Waiting since'), h('dd', {}, timeEl(r.updatedAt))),
    h('p', { class: 'muted' }, r.awaitingManualInput?.message ?? ''),
    deliveryForm(r, onDone));
}

export function mount(root) {
  const status = h('p', { class: 'list-status', id: 'manual-status' }, 'Loading…');
  const list = h('div', { class: 'cards manual-list' });
  root.append(h('h1', {}, 'Manual deliveries'),
    h('p', { class: 'lede' }, 'Requests placed on vendor-managed clusters stop in Activating until an operator ' +
      'delivers the access details.'),
    status, list);

  const load = refresher(async () => {
    let page;
    try {
      page = await get('/v1/manual-requests');
    } catch (e) {
      setText(status, `Could not load the queue: ${errorText(e)}`);
      return;
    }
    const items = (page?.items ?? []).sort((a, b) => (a.updatedAt ?? '').localeCompare(b.updatedAt ?? ''));
    // A delivered card stays (with its result) while this page is open.
    const listed = new Set(items.map((r) => r.id));
    const kept = [...list.querySelectorAll(':scope > [data-delivered=true]')]
      .filter((el) => !listed.has(el.dataset.requestId)).map((el) => ({ id: el.dataset.requestId }));
    syncKeyed(list, [...kept, ...items], (r) => r.id, (r) => card(r, () => load()));
    setText(status, items.length ? `${items.length} waiting` : 'Nothing waits for a manual delivery.');
  }, 100);

  return liveView(load, (e) => {
    if (RELEVANT.has(e.type)) load();
  });
}
