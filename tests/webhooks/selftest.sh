#!/usr/bin/env bash
# Self-test of receiver.mjs: signs messages itself (openssl, cross-checked with
# node's crypto; never the library), delivers them with curl and checks that the
# receiver's /_control/verify* endpoints, backed by `standardwebhooks`, accept
# the good one and reject a tampered body, a wrong secret and a stale timestamp.
# Needs node, npm (first run: npm ci), curl, openssl. Exits 0 only if all held.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [[ ! -d node_modules/standardwebhooks ]]; then
  npm ci --no-audit --no-fund >&2
fi

work="$(mktemp -d)"
rpid=""
cleanup() {
  if [[ -n "$rpid" ]] && kill -0 "$rpid" 2>/dev/null; then
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fails=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
check() { # check <description> <command...>
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# JSON helpers (node, no library): jget <json> <js expression over `v`>
# (the JSON goes through stdin: a log with a 1.5 MB body is too long for argv)
jget() { printf '%s' "$1" | node -e 'const v = JSON.parse(require("node:fs").readFileSync(0, "utf8")); const r = eval(process.argv[1]); process.stdout.write(typeof r === "string" ? r : JSON.stringify(r));' "$2"; }

# ---- start the receiver ------------------------------------------------------
node receiver.mjs 0 >"$work/stdout" 2>"$work/stderr" &
rpid=$!
port=""
for _ in $(seq 1 100); do
  if line="$(grep -m1 '^RECEIVER_PORT=' "$work/stdout" 2>/dev/null)"; then port="${line#RECEIVER_PORT=}"; break; fi
  kill -0 "$rpid" 2>/dev/null || break
  sleep 0.05
done
if [[ -z "$port" ]]; then
  echo "receiver did not start" >&2; cat "$work/stderr" >&2; exit 1
fi
check "receiver printed exactly one line RECEIVER_PORT=$port" \
  test "$(cat "$work/stdout")" = "RECEIVER_PORT=$port"
base="http://127.0.0.1:$port"

# ---- a secret and a message, signed per Standard Webhooks 1.0 ---------------
keyhex="$(openssl rand -hex 32)"
keyb64="$(printf '%s' "$keyhex" | xxd -r -p | base64 -w0)"
secret="whsec_$keyb64"
wrong_secret="whsec_$(openssl rand -base64 32)"

msgid="msg_$(openssl rand -hex 12)"
ts="$(date +%s)"
# Non-ASCII on purpose: the receiver must keep the exact UTF-8 bytes.
printf '%s' '{"type":"request.completed","data":{"request":"r-1","tenant":"t-é","note":"ünïcødé ✓ \"quoted\""}}' >"$work/body"
body="$(cat "$work/body")"

# sign <id> <timestamp> <bodyfile> -> base64 HMAC-SHA256(key, id.timestamp.body)
sign() {
  { printf '%s.%s.' "$1" "$2"; cat "$3"; } |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$keyhex" -binary | base64 -w0
}
sig="$(sign "$msgid" "$ts" "$work/body")"
sig_node="$(node -e '
  const c = require("node:crypto"), fs = require("node:fs");
  const [keyb64, id, ts, file] = process.argv.slice(1);
  const h = c.createHmac("sha256", Buffer.from(keyb64, "base64"));
  h.update(Buffer.concat([Buffer.from(`${id}.${ts}.`), fs.readFileSync(file)]));
  process.stdout.write(h.digest("base64"));' "$keyb64" "$msgid" "$ts" "$work/body")"
check "openssl and node crypto agree on the signature" test "$sig" = "$sig_node"

# ---- deliver it ---------------------------------------------------------------
resp="$(curl -sS -o "$work/resp" -w '%{http_code}' -X POST "$base/ok/a" \
  -H 'content-type: application/json' -H 'user-agent: selftest/1' \
  -H "webhook-id: $msgid" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
  --data-binary @"$work/body")"
check "POST /ok/a answered 200 {\"ok\":true}" test "$resp:$(cat "$work/resp")" = '200:{"ok":true}'

logj="$(curl -sS "$base/_control/log")"
check "log holds one record" test "$(jget "$logj" 'v.length')" = 1
check "recorded body is byte-identical" test "$(jget "$logj" 'v[0].body')" = "$body"
check "recorded method, path and headers" test \
  "$(jget "$logj" '[v[0].method, v[0].path, v[0].headers["webhook-id"], v[0].headers["webhook-timestamp"], v[0].headers["webhook-signature"], v[0].headers["content-type"], v[0].headers["user-agent"]].join("|")')" = \
  "POST|/ok/a|$msgid|$ts|v1,$sig|application/json|selftest/1"

va="$(curl -sS -X POST "$base/_control/verify-all" -H 'content-type: application/json' \
  --data-binary "$(node -e 'process.stdout.write(JSON.stringify({secret: process.argv[1]}))' "$secret")")"
check "verify-all: total == verified == 1 ($va)" test "$(jget "$va" '`${v.total}/${v.verified}/${v.failures.length}`')" = "1/1/0"

va_path="$(curl -sS -X POST "$base/_control/verify-all" \
  --data-binary "$(node -e 'process.stdout.write(JSON.stringify({secret: process.argv[1], path: "/ok/a"}))' "$secret")")"
check "verify-all with path=/ok/a: 1/1" test "$(jget "$va_path" '`${v.total}/${v.verified}`')" = "1/1"

va_wrong="$(curl -sS -X POST "$base/_control/verify-all" \
  --data-binary "$(node -e 'process.stdout.write(JSON.stringify({secret: process.argv[1]}))' "$wrong_secret")")"
check "verify-all with a wrong secret: 1 failure for seq 1" \
  test "$(jget "$va_wrong" '`${v.total}/${v.verified}/${v.failures[0].seq}`')" = "1/0/1"

# ---- /_control/verify ----------------------------------------------------------
# verify <secret> <id> <timestamp> <signature header> <body> -> response JSON
verify() {
  curl -sS -X POST "$base/_control/verify" -H 'content-type: application/json' --data-binary "$(
    node -e 'const [secret, id, ts, sig, body] = process.argv.slice(1);
      process.stdout.write(JSON.stringify({secret, body,
        headers: {"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig}}));' \
      "$1" "$2" "$3" "$4" "$5")"
}
expect_ok()   { [[ "$(jget "$1" 'v.ok')" == "true" ]]; }
expect_fail() { [[ "$(jget "$1" 'v.ok === false && typeof v.error === "string" && v.error.length > 0')" == "true" ]]; }

r="$(verify "$secret" "$msgid" "$ts" "v1,$sig" "$body")"
check "verify: genuine message accepted ($r)" expect_ok "$r"

r="$(verify "$secret" "$msgid" "$ts" "v1,$sig" "${body/r-1/r-2}")"
check "verify: tampered body rejected ($r)" expect_fail "$r"

r="$(verify "$wrong_secret" "$msgid" "$ts" "v1,$sig" "$body")"
check "verify: wrong secret rejected ($r)" expect_fail "$r"

old_ts=$((ts - 600))
old_sig="$(sign "$msgid" "$old_ts" "$work/body")"
r="$(verify "$secret" "$msgid" "$old_ts" "v1,$old_sig" "$body")"
check "verify: correctly signed but 10 minutes old rejected ($r)" expect_fail "$r"

r="$(verify "$keyb64" "$msgid" "$ts" "v1,$sig" "$body")"
check "verify: secret without whsec_ prefix also accepted ($r)" expect_ok "$r"

other_sig="$(printf 'x' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(openssl rand -hex 32)" -binary | base64 -w0)"
r="$(verify "$secret" "$msgid" "$ts" "v1,$other_sig v1,$sig" "$body")"
check "verify: rotation list 'v1,<other> v1,<good>' accepted ($r)" expect_ok "$r"

r="$(verify "$secret" "$msgid" "$ts" "v1,$other_sig" "$body")"
check "verify: only a foreign signature rejected ($r)" expect_fail "$r"

code="$(curl -sS -o "$work/resp" -w '%{http_code}' -X POST "$base/_control/verify" --data-binary 'not json')"
check "verify: malformed request answered 400 ($(cat "$work/resp"))" test "$code" = 400
code="$(curl -sS -o "$work/resp" -w '%{http_code}' -X POST "$base/_control/verify" \
  --data-binary '{"secret":"whsec_abc","headers":{},"body":""}')"
check "verify: undecodable secret answered 400 ($(cat "$work/resp"))" test "$code" = 400
code="$(curl -sS -o "$work/resp" -w '%{http_code}' -X POST "$base/_control/verify" \
  --data-binary '{"secret":"whsec_'"$keyb64"'","headers":"x","body":1}')"
check "verify: wrong field types answered 400 ($(cat "$work/resp"))" test "$code" = 400

# ---- canned responses, log filter, reset ---------------------------------------
code="$(curl -sS -o "$work/resp" -w '%{http_code}' -X POST "$base/status/500/x" --data-binary '{}')"
check "/status/500/x -> 500 'status 500'" test "$code:$(cat "$work/resp")" = "500:status 500"
hdr="$(curl -sS -o /dev/null -D - -X POST "$base/redirect/x" --data-binary '{}' | tr -d '\r')"
check "/redirect/x -> 302 to 127.0.0.1:9" bash -c '[[ "$1" == "HTTP/1.1 302"* && "$1" == *$'"'"'\nlocation: http://127.0.0.1:9/elsewhere\n'"'"'* ]]' _ "$hdr"
check "/big/x -> 5000 bytes" test "$(curl -sS -X POST "$base/big/x" --data-binary '{}' | wc -c)" = 5000
start_ms="$(date +%s%3N)"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$base/slow/300/x" --data-binary '{}')"
check "/slow/300/x -> 200 after >= 300 ms" test "$code" = 200 -a $(( $(date +%s%3N) - start_ms )) -ge 300
curl -sS -m 0.2 -o /dev/null -X POST "$base/slow/5000/hangup" --data-binary '{"h":1}' 2>/dev/null || true
sleep 0.1
check "/slow hung up early is still recorded" \
  test "$(jget "$(curl -sS "$base/_control/log?path=/slow/5000/hangup")" 'v.length + ":" + v[0].body')" = '1:{"h":1}'
big_body="$(head -c 1500000 /dev/zero | tr '\0' 'y')"
printf '%s' "$big_body" >"$work/bigbody"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$base/ok/large" --data-binary @"$work/bigbody")"
check "1.5 MB delivery recorded intact" test "$code:$(jget "$(curl -sS "$base/_control/log?path=/ok/large")" 'v[0].body.length')" = "200:1500000"
code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$base/ok/huge" --data-binary @<(head -c 2200000 /dev/zero | tr '\0' 'z'))"
check "delivery over 2 MB answered 413" test "$code" = 413

all="$(curl -sS "$base/_control/log")"
check "log in arrival order with increasing seq" test "$(jget "$all" 'v.every((r, i) => i === 0 || r.seq > v[i - 1].seq) && v[0].path === "/ok/a"')" = true
check "log?path=/ok/a only returns that path" test "$(jget "$(curl -sS "$base/_control/log?path=/ok/a")" 'v.length + ":" + v[0].path')" = "1:/ok/a"
check "unknown control route -> 404" test "$(curl -sS -o /dev/null -w '%{http_code}' "$base/_control/nope")" = 404
curl -sS -o /dev/null -X POST "$base/_control/reset"
check "reset empties the log" test "$(curl -sS "$base/_control/log")" = "[]"
check "receiver still alive and stderr clean of crashes" bash -c 'kill -0 "$1" && ! grep -q "uncaught\|handler threw" "$2"' _ "$rpid" "$work/stderr"

# ---- stop it -------------------------------------------------------------------
kill "$rpid"
wait "$rpid" 2>/dev/null || true
rpid=""

if ((fails > 0)); then
  echo "selftest: $fails check(s) failed" >&2
  exit 1
fi
echo "selftest: all checks passed"
