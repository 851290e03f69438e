// The HTTP API of the provisiond serving this page (same origin, relative
// paths). The optional API key lives in this module's memory only: never in
// storage, a cookie or a URL; a reload forgets it.

let apiKey = '';

export function setApiKey(key) {
  apiKey = key;
}

/** Headers that carry the key, for fetch-based callers (the stream). */
export function authHeaders() {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

/** An error answer of the API: {"error":{"code","field","message"}}. */
export class ApiError extends Error {
  constructor(status, code, field, message) {
    super(`${field ? `${field}: ` : ''}${message}${status ? ` (HTTP ${status})` : ''}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export const enc = encodeURIComponent;

/** `path` with the non-empty entries of `params` as its query. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * One API call; resolves to the parsed JSON body (null for 204) or rejects
 * with an ApiError naming the field the server named. A body of `undefined`
 * sends none (routes like POST .../test accept no body at all).
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json', ...authHeaders() };
  const init = { method, headers, cache: 'no-store', credentials: 'same-origin', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'unavailable', null, `provisiond cannot be reached (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? `http_${res.status}`, e.field ?? null,
      e.message ?? (text.slice(0, 200) || res.statusText));
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);

/** Every item of a paged list (`{items, nextCursor}`), up to `max` items. */
export async function getAll(path, params = {}, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const page = await get(withQuery(path, { ...params, limit: 500, cursor }));
    items.push(...(page?.items ?? []));
    cursor = page?.nextCursor ?? null;
  } while (cursor && items.length < max);
  return { items, truncated: cursor !== null };
}
