// Small DOM helpers. Everything the API returns reaches the page as text
// (textContent, attributes), never as HTML, so a tenant's metadata cannot
// inject markup.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate']);

/** Creates an element: h('button', {class: 'x', onclick: f}, 'Label'). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPERTIES.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Appends children (nodes, strings, numbers, nested arrays; null is skipped). */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Sets text only when it changed (no needless repaint while the stream runs). */
export function setText(el, text) {
  const t = String(text ?? '');
  if (el.textContent !== t) el.textContent = t;
}

/**
 * Brings `container`'s children in line with `items`, keyed by `keyOf`:
 * existing elements are updated in place and only moved when their order
 * changes, so a form someone is typing in survives a refresh.
 */
export function syncKeyed(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of [...container.children]) if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  let prev = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let el = existing.get(key);
    if (el) existing.delete(key);
    else {
      el = create(item);
      el.dataset.key = key;
    }
    update?.(el, item);
    const expected = prev ? prev.nextElementSibling : container.firstElementChild;
    if (el !== expected) container.insertBefore(el, expected);
    prev = el;
  }
  for (const el of existing.values()) el.remove();
}

/**
 * A coalescing refresh: calls to the returned function within `delay` ms run
 * `fn` once; a call while `fn` runs schedules one more run after it, so a
 * burst of stream events costs one or two fetches, never overlapping ones.
 */
export function refresher(fn, delay = 150) {
  let timer = null;
  let running = false;
  let again = false;
  let stopped = false;
  async function run() {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } catch (e) {
      console.error(e);
    } finally {
      running = false;
      if (again && !stopped) {
        again = false;
        schedule();
      }
    }
  }
  function schedule(ms = delay) {
    if (stopped || timer) return;
    timer = setTimeout(run, ms);
  }
  schedule.now = () => {
    clearTimeout(timer);
    timer = null;
    return run();
  };
  schedule.stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  return schedule;
}

/** "2026-12-01 21:22:24" in local time; "—" for nothing. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A time element whose title carries the ISO value. */
export function timeEl(iso) {
  return h('time', { datetime: iso ?? undefined, title: iso ?? undefined }, fmtTime(iso));
}

const numberFormat = new Intl.NumberFormat('en');
export function fmtNum(n) {
  return n === null || n === undefined ? '—' : numberFormat.format(n);
}

/** A state or status as a coloured pill; data-value lets tests and CSS read it. */
export function pill(value, kind = 'state') {
  const v = value ?? 'unknown';
  return h('span', { class: `pill ${kind}-${String(v).toLowerCase()}`, dataset: { value: v } }, v);
}

/** Updates a pill made by `pill` in place. */
export function setPill(el, value, kind = 'state') {
  const v = value ?? 'unknown';
  if (el.dataset.value === v) return;
  el.dataset.value = v;
  el.className = `pill ${kind}-${String(v).toLowerCase()}`;
  el.textContent = v;
}

/**
 * A horizontal bar with role=meter: `used` of `max` (max null = unlimited,
 * drawn empty with the used amount as text).
 */
export function meter(label, used, max, unit = '') {
  const bar = h('div', { class: 'meter-fill' });
  const text = h('span', { class: 'meter-text' });
  const el = h('div', { class: 'meter', role: 'meter', 'aria-label': label, 'aria-valuemin': '0' },
    h('div', { class: 'meter-head' }, h('span', { class: 'meter-label' }, label), text),
    h('div', { class: 'meter-track' }, bar));
  el.update = (u, m) => {
    const limited = m !== null && m !== undefined;
    const ratio = limited ? (m > 0 ? Math.min(1, u / m) : 1) : 0;
    bar.style.width = `${(ratio * 100).toFixed(2)}%`;
    el.dataset.level = !limited ? 'none' : ratio >= 0.9 ? 'high' : ratio >= 0.7 ? 'mid' : 'low';
    el.setAttribute('aria-valuenow', String(u ?? 0));
    if (limited) el.setAttribute('aria-valuemax', String(m));
    else el.removeAttribute('aria-valuemax');
    const t = limited ? `${fmtNum(u)} / ${fmtNum(m)}${unit}` : `${fmtNum(u)}${unit} · no limit`;
    el.setAttribute('aria-valuetext', t);
    setText(text, t);
  };
  el.update(used, max);
  return el;
}

/** The <label> of a form control (the control gets an id if it has none). */
let nextId = 0;
export function labelled(text, control) {
  if (!control.id) control.id = `f${++nextId}`;
  return h('label', { for: control.id }, text);
}

/** The error text of an ApiError or any error. */
export function errorText(e) {
  return e?.message ?? String(e);
}
