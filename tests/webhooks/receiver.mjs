// Test receiver for provisiond webhook deliveries (Standard Webhooks 1.0).
//
//   node receiver.mjs [port]     (port 0, the default, picks a free one)
//
// Listens on 127.0.0.1 and prints exactly one line `RECEIVER_PORT=<port>` to
// stdout once listening. Every request whose path does not start with
// /_control/ is recorded; /_control/* is the API tests use to read the log and
// to verify deliveries with the reference `standardwebhooks` library.
// See README.md for the routes.

import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Webhook } = require("standardwebhooks");

const HOST = "127.0.0.1";
const MAX_DELIVERY_BODY = 2 * 1024 * 1024; // bytes accepted on recorded routes
const MAX_CONTROL_BODY = 8 * 1024 * 1024; // a 2 MB body JSON-escaped inside /_control/verify
const MAX_SLOW_MS = 10 * 60 * 1000;
const RECORDED_HEADERS = [
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
  "content-type",
  "user-agent",
];
const SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"];

let log = []; // records, kept sorted by seq
let nextSeq = 1; // monotonic; not reset by /_control/reset

function log_err(...args) {
  try {
    process.stderr.write(`[receiver] ${args.join(" ")}\n`);
  } catch {
    // nothing sensible left to do
  }
}

function errorMessage(e) {
  if (e instanceof Error) return e.message || e.name || String(e);
  return String(e);
}

function send(res, status, body, headers = {}) {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const isString = typeof body === "string";
  const payload = isString ? body : JSON.stringify(body);
  try {
    res.writeHead(status, {
      "content-type": isString ? "text/plain; charset=utf-8" : "application/json",
      "content-length": Buffer.byteLength(payload),
      ...headers,
    });
    res.end(payload);
  } catch (e) {
    log_err("send failed:", errorMessage(e));
    res.destroy();
  }
}

// Reads the request body up to `limit` bytes. Calls done(err, buffer, info):
// info.tooLarge when the limit was exceeded (the rest is drained, not kept),
// info.aborted when the client went away before the end.
function readBody(req, limit, done) {
  const chunks = [];
  let size = 0;
  let tooLarge = false;
  let finished = false;
  const finish = (aborted) => {
    if (finished) return;
    finished = true;
    let buf;
    try {
      buf = Buffer.concat(chunks);
    } catch (e) {
      buf = Buffer.alloc(0);
    }
    try {
      done(buf, { tooLarge, aborted });
    } catch (e) {
      log_err("body handler threw:", errorMessage(e));
    }
  };
  req.on("data", (chunk) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => finish(false));
  req.on("error", () => finish(true));
  req.on("close", () => finish(!req.complete));
}

function pickHeaders(reqHeaders) {
  const out = {};
  for (const name of RECORDED_HEADERS) {
    const v = reqHeaders[name];
    out[name] = v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

function splitTarget(url) {
  const raw = typeof url === "string" ? url : "/";
  const q = raw.indexOf("?");
  return { path: q < 0 ? raw : raw.slice(0, q), query: q < 0 ? "" : raw.slice(q + 1) };
}

function insertRecord(rec) {
  // Records are appended when their body is complete; keep arrival (seq) order.
  let i = log.length;
  while (i > 0 && log[i - 1].seq > rec.seq) i--;
  log.splice(i, 0, rec);
}

// Verifies one message with the reference library. Returns null on success or
// the error message. Signature-only: jsonParse is off so a correctly signed
// non-JSON body is not reported as a verification failure.
function verifyWith(wh, body, headers) {
  try {
    wh.verify(body, headers, { jsonParse: false });
    return null;
  } catch (e) {
    return errorMessage(e);
  }
}

function makeWebhook(secret) {
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError("secret must be a non-empty string (whsec_<base64> or <base64>)");
  }
  try {
    return new Webhook(secret);
  } catch (e) {
    throw new TypeError(`invalid secret: ${errorMessage(e)}`);
  }
}

function parseJsonObject(buf) {
  let v;
  try {
    v = JSON.parse(buf.toString("utf8"));
  } catch (e) {
    throw new TypeError(`request body is not valid JSON: ${errorMessage(e)}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TypeError("request body must be a JSON object");
  }
  return v;
}

function normalizeSignatureHeaders(h) {
  if (h === null || typeof h !== "object" || Array.isArray(h)) {
    throw new TypeError("headers must be a JSON object");
  }
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    const name = String(k).toLowerCase();
    if (!SIGNATURE_HEADERS.includes(name)) continue;
    if (v === null || v === undefined) continue;
    if (typeof v === "string") out[name] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[name] = String(v);
    else throw new TypeError(`header ${name} must be a string`);
  }
  return out;
}

// ---- recorded (delivery) routes ------------------------------------------

function respondDelivery(req, res, path) {
  let m;
  if ((m = /^\/status\/(\d{1,3})(?:\/|$)/.exec(path))) {
    const code = Number(m[1]);
    if (code < 200 || code > 599) return send(res, 400, `bad status code ${m[1]} (200..599)`);
    return send(res, code, `status ${code}`);
  }
  if ((m = /^\/slow\/(\d{1,9})(?:\/|$)/.exec(path))) {
    const ms = Math.min(Number(m[1]), MAX_SLOW_MS);
    const timer = setTimeout(() => send(res, 200, { ok: true }), ms);
    res.on("close", () => clearTimeout(timer));
    return;
  }
  if ((m = /^\/dribble\/(\d{1,9})(?:\/|$)/.exec(path))) {
    // The status line and headers after <ms>/2, the rest of the body after
    // <ms>: each read comes within <ms>/2, the whole answer only after <ms>.
    const ms = Math.min(Number(m[1]), MAX_SLOW_MS);
    const timers = [];
    timers.push(setTimeout(() => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      res.write("x");
      timers.push(setTimeout(() => res.end("x"), Math.ceil(ms / 2)));
    }, Math.floor(ms / 2)));
    res.on("close", () => timers.forEach(clearTimeout));
    return;
  }
  if (/^\/redirect(?:\/|$)/.test(path)) {
    return send(res, 302, "redirect", { location: "http://127.0.0.1:9/elsewhere" });
  }
  if (/^\/big(?:\/|$)/.test(path)) {
    return send(res, 200, "x".repeat(5000));
  }
  return send(res, 200, { ok: true });
}

function handleDelivery(req, res, path) {
  const seq = nextSeq++;
  const receivedAtMs = Date.now();
  const method = req.method;
  const headers = pickHeaders(req.headers);
  const url = typeof req.url === "string" ? req.url : path;
  readBody(req, MAX_DELIVERY_BODY, (buf, { tooLarge, aborted }) => {
    if (tooLarge) {
      log_err(`seq ${seq}: body over ${MAX_DELIVERY_BODY} bytes on ${path}, not recorded`);
      send(res, 413, `body over ${MAX_DELIVERY_BODY} bytes`);
      return;
    }
    insertRecord({
      seq,
      method,
      path,
      url,
      headers,
      body: buf.toString("utf8"),
      receivedAtMs,
    });
    if (aborted) return; // client gone; recorded what arrived
    respondDelivery(req, res, path);
  });
}

// ---- control routes --------------------------------------------------------

function handleControl(req, res, path, query) {
  const method = req.method;
  if (path === "/_control/log") {
    if (method !== "GET") return drainThen(req, () => send(res, 405, { error: "use GET" }, { allow: "GET" }));
    const params = new URLSearchParams(query);
    const only = params.has("path") ? params.get("path") : null;
    const out = only === null ? log : log.filter((r) => r.path === only);
    return drainThen(req, () => send(res, 200, out));
  }
  if (path === "/_control/reset") {
    if (method !== "POST") return drainThen(req, () => send(res, 405, { error: "use POST" }, { allow: "POST" }));
    return drainThen(req, () => {
      const cleared = log.length;
      log = [];
      send(res, 200, { ok: true, cleared });
    });
  }
  if (path === "/_control/verify" || path === "/_control/verify-all") {
    if (method !== "POST") return drainThen(req, () => send(res, 405, { error: "use POST" }, { allow: "POST" }));
    return readBody(req, MAX_CONTROL_BODY, (buf, { tooLarge, aborted }) => {
      if (aborted) return;
      if (tooLarge) return send(res, 413, { ok: false, error: `request body over ${MAX_CONTROL_BODY} bytes` });
      try {
        const input = parseJsonObject(buf);
        if (path === "/_control/verify") return controlVerify(res, input);
        return controlVerifyAll(res, input);
      } catch (e) {
        return send(res, 400, { ok: false, error: errorMessage(e) });
      }
    });
  }
  return drainThen(req, () => send(res, 404, { error: `unknown control route ${path}` }));
}

function drainThen(req, fn) {
  readBody(req, MAX_CONTROL_BODY, (_buf, { aborted }) => {
    if (!aborted) fn();
  });
}

function controlVerify(res, input) {
  const wh = makeWebhook(input.secret);
  const headers = normalizeSignatureHeaders(input.headers);
  if (typeof input.body !== "string") throw new TypeError("body must be a string (the raw payload)");
  const error = verifyWith(wh, input.body, headers);
  send(res, 200, error === null ? { ok: true } : { ok: false, error });
}

function controlVerifyAll(res, input) {
  const wh = makeWebhook(input.secret);
  let only = null;
  if (input.path !== undefined && input.path !== null) {
    if (typeof input.path !== "string") throw new TypeError("path must be a string");
    only = input.path;
  }
  const records = only === null ? log : log.filter((r) => r.path === only);
  const failures = [];
  for (const r of records) {
    const headers = {};
    for (const name of SIGNATURE_HEADERS) {
      if (r.headers[name] !== null) headers[name] = r.headers[name];
    }
    const error = verifyWith(wh, r.body, headers);
    if (error !== null) failures.push({ seq: r.seq, error });
  }
  send(res, 200, { total: records.length, verified: records.length - failures.length, failures });
}

// ---- server ---------------------------------------------------------------

const server = http.createServer((req, res) => {
  try {
    const { path, query } = splitTarget(req.url);
    if (path.startsWith("/_control/")) handleControl(req, res, path, query);
    else handleDelivery(req, res, path);
  } catch (e) {
    log_err("handler threw:", errorMessage(e));
    send(res, 500, { error: errorMessage(e) });
  }
});

server.on("clientError", (err, socket) => {
  try {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  } catch {
    // ignore
  }
});

process.on("uncaughtException", (e) => log_err("uncaught:", e && e.stack ? e.stack : String(e)));
process.on("unhandledRejection", (e) => log_err("unhandled rejection:", e && e.stack ? e.stack : String(e)));

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

const portArg = process.argv[2] ?? "0";
const port = /^\d{1,5}$/.test(portArg) ? Number(portArg) : NaN;
if (!(port >= 0 && port <= 65535)) {
  process.stderr.write(`usage: node receiver.mjs [port]   (got ${JSON.stringify(portArg)})\n`);
  process.exit(2);
}

server.on("error", (e) => {
  process.stderr.write(`[receiver] cannot listen on ${HOST}:${port}: ${errorMessage(e)}\n`);
  process.exit(1);
});

server.listen(port, HOST, () => {
  const actual = server.address().port;
  // Writes to a pipe or file are synchronous in node on Linux, so the line
  // reaches the reader as soon as this returns.
  process.stdout.write(`RECEIVER_PORT=${actual}\n`);
});
