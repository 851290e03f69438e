#!/usr/bin/env bash
# provisionctl end to end: every command against a provisiond of its own
# (temp data folder, port 0), outputs read with jq, exit codes checked
# (0 ok, 1 usage, 2 not found, 3 conflict, 4 refused, 5 unavailable); then
# against fake_provisiond.py for what a real one will not do on demand:
# any status, a hang, the headers it was sent, a stream that drops.
#   provisionctl_e2e.sh PROVISIONCTL PROVISIOND
set -uo pipefail

CTL=$1
PROVISIOND=$2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/provisionctl-e2e.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [[ -z ${PROVISIOND_KEEP_TEST_DIRS:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

# Nothing from the caller's environment or home decides where calls go.
unset PROVISIOND_URL PROVISIOND_TOKEN XDG_CONFIG_HOME
export HOME=$WORK/home
mkdir -p "$HOME"

failures=0
checks=0
OUT=""
ERR=""
RC=0
run() {
  "$@" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}
fail() {
  failures=$((failures + 1))
  echo "FAIL: $*"
  echo "  exit: $RC"
  echo "  stdout: ${OUT:0:2000}"
  echo "  stderr: ${ERR:0:2000}"
}
# expect CODE DESCRIPTION COMMAND...: runs it, checks the exit code.
expect() {
  local want=$1 what=$2
  shift 2
  checks=$((checks + 1))
  run "$@"
  if [[ $RC -ne $want ]]; then fail "$what: expected exit $want"; return 1; fi
  echo "ok: $what (exit $RC)"
}
# check DESCRIPTION TEST...: a condition on what the last command printed.
check() {
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then echo "ok:   $what"; else fail "$what"; fi
}
contains() { [[ $1 == *"$2"* ]]; }
lacks() { [[ $1 != *"$2"* ]]; }
jqt() { jq -e "$1" <<<"$OUT" >/dev/null; }   # a jq test on stdout
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# http METHOD PATH [BODY] [HEADER]: for set-up the CLI has no command for (approval rules, credentials).
http() {
  python3 - "$URL" "$@" <<'PY'
import os, sys, urllib.request, urllib.error
url, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
body = sys.argv[4].encode() if len(sys.argv) > 4 and sys.argv[4] else None
req = urllib.request.Request(url + path, data=body, method=method, headers={"Content-Type": "application/json"})
if os.environ.get("PROVISIOND_TOKEN"):
    req.add_header("Authorization", "Bearer " + os.environ["PROVISIOND_TOKEN"])
if len(sys.argv) > 5:
    k, v = sys.argv[5].split(":", 1)
    req.add_header(k, v.strip())
try:
    print(urllib.request.urlopen(req, timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
PY
}
# last_position ID: the stream position of a request's latest event (to watch what follows it).
last_position() { "$CTL" --url "$URL" events "$1" -o json | jq '.[-1].position'; }

# ---- a provisiond of our own -------------------------------------------------
"$PROVISIOND" --data-dir "$WORK/data" --listen 127.0.0.1:0 >"$WORK/provisiond.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
PORT=""
for _ in $(seq 300); do
  kill -0 "$SERVER" 2>/dev/null || break
  PORT=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$WORK/provisiond.log" | grep -oE '[0-9]+$' | tail -1)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || { echo "provisiond did not start:"; cat "$WORK/provisiond.log"; exit 1; }
URL=http://127.0.0.1:$PORT
for _ in $(seq 300); do
  python3 -c "import urllib.request,sys; urllib.request.urlopen('$URL/readyz', timeout=2)" 2>/dev/null && break
  sleep 0.1
done
echo "provisiond at $URL"
# The admin API key provisiond created on its first start (0600 in the data folder).
ADMIN_TOKEN=$(cat "$WORK/data/admin-api-key")
export PROVISIOND_TOKEN=$ADMIN_TOKEN
ctl() { "$CTL" --url "$URL" "$@"; }

# ---- usage: exit 1, usage on stderr -------------------------------------------
expect 1 "no command" "$CTL"
check "usage printed" contains "$ERR" "usage: provisionctl"
expect 1 "unknown command" ctl frobnicate
check "names it" contains "$ERR" "unknown command 'frobnicate'"
expect 1 "get without an id" ctl get
check "says what get takes" contains "$ERR" "get takes ID"
expect 1 "get with two ids" ctl get a b
expect 1 "unknown flag" ctl list --bogus
check "names the flag" contains "$ERR" "unknown flag --bogus for list"
expect 1 "flag without its value" ctl list --tenant
check "says it needs a value" contains "$ERR" "--tenant needs a value"
expect 1 "bad output format" ctl -o yaml list
expect 1 "non-integer cpu" ctl submit --tenant t --cpu two
check "names --cpu" contains "$ERR" "--cpu: expected an integer"
expect 1 "group without subcommand" ctl clusters
check "lists the subcommands" contains "$ERR" "list, add, test"
expect 1 "unknown lifecycle state" ctl watch --until-state Done
check "lists the states" contains "$ERR" "PendingApproval"
expect 1 "submit with nothing to send" ctl submit
expect 1 "submit -f of a missing file" ctl submit -f "$WORK/nope.json"
expect 1 "a URL that is not http" "$CTL" --url ftp://x list
expect 0 "help get" ctl help get
check "shows get's usage" contains "$OUT" "usage: provisionctl get ID"
expect 0 "--help" ctl --help
check "lists commands and exit codes" bash -c '[[ "$0" == *"clusters add"* && "$0" == *"4 refused"* ]]' "$OUT"

# ---- submit, get, list, events, history ---------------------------------------
expect 0 "submit with flags" ctl submit --tenant e2e --order o-1 --type vps --region eu-west-1 \
  --cpu 2 --memory-gb 4 --storage-gb 40 --meta plan=vps-m --idempotency-key e2e-key-1 -o json
check "queued, with a request id" jqt '.state == "Queued" and (.id | test("^req-"))'
ID=$(jq -r .id <<<"$OUT")
expect 0 "submit again with the same key" ctl submit --tenant e2e --order o-1 --type vps --region eu-west-1 \
  --cpu 2 --memory-gb 4 --storage-gb 40 --meta plan=vps-m --idempotency-key e2e-key-1 -o json
check "the same request" jqt ".id == \"$ID\""
cat >"$WORK/order.json" <<'J'
{"tenantId":"e2e","orderId":"o-2","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":2,"storageGb":20}}
J
expect 0 "submit -f FILE" ctl submit -f "$WORK/order.json" -o json
ID2=$(jq -r .id <<<"$OUT")
run ctl submit -f - --order o-3 <"$WORK/order.json"
checks=$((checks + 1))
if [[ $RC -eq 0 ]] && contains "$OUT" "Queued"; then echo "ok: submit -f - with a flag over it (table)"; else fail "submit -f -"; fi
ID3=$(awk 'NR==2 {print $1}' <<<"$OUT")
check "table has ID and STATE" bash -c '[[ "$0" == ID*STATE* ]]' "$OUT"
expect 4 "submit without an orderId is refused" ctl submit --tenant e2e --type vps --region eu-west-1 --cpu 1 --memory-gb 1
check "the API names the field" contains "$ERR" "orderId"

expect 0 "watch a request from the start until Completed" \
  ctl watch --request "$ID" --last-event-id 0 --until-state Completed --timeout 60 -o json
WATCHED=$OUT
check "every line is JSON of this request, in order" bash -c \
  'jq -s -e --arg id "$1" "length > 5 and all(.requestId == \$id) and (map(.seq) == [range(1; length + 1)])" <<<"$0" >/dev/null' \
  "$WATCHED" "$ID"
check "starts submitted, ends completed" bash -c \
  'jq -s -e ".[0].type == \"request_submitted\" and .[-1].type == \"request_completed\"" <<<"$0" >/dev/null' "$WATCHED"
expect 0 "events -o json" ctl events "$ID" -o json
check "the same events as the stream" bash -c \
  '[[ $(jq -c "map(.type)" <<<"$0") == "$(jq -s -c "map(.type)" <<<"$1")" ]]' "$OUT" "$WATCHED"
expect 0 "events (table)" ctl events "$ID"
check "a row per event with its detail" bash -c '[[ "$0" == *"SEQ"*"request_submitted"*"allocate attempt 1"* ]]' "$OUT"
expect 0 "get -o json" ctl get "$ID" -o json
check "completed, four steps, endpoints" jqt '.state == "Completed" and (.steps | length == 4) and (.endpoints.ssh | test("^ssh://"))'
expect 0 "get (table)" ctl get "$ID"
check "fields, steps and endpoints" bash -c '[[ "$0" == *"State:"*"Completed"*"STEP"*"verify"*"ENDPOINT"*"ssh"* ]]' "$OUT"
expect 2 "get of a request that does not exist" ctl get req-does-not-exist
check "the API's message" contains "$ERR" "no request req-does-not-exist"

ctl watch --request "$ID3" --last-event-id 0 --until-state Completed --timeout 60 -o json >/dev/null
ctl watch --request "$ID2" --last-event-id 0 --until-state Completed --timeout 60 -o json >/dev/null
expect 0 "list --tenant -o json" ctl list --tenant e2e -o json
check "three requests, ours among them" jqt "(.items | length == 3) and any(.items[]; .id == \"$ID\")"
expect 0 "list (table)" ctl list --tenant e2e
check "header and rows" bash -c '[[ "$0" == ID*TENANT*STATE* && "$0" == *"$1"* ]]' "$OUT" "$ID"
expect 0 "list one page" ctl list --tenant e2e --limit 1 -o json
check "a next cursor" jqt '(.items | length == 1) and (.nextCursor | type == "string")'
expect 0 "list --all" ctl list --tenant e2e --limit 1 --all -o json
check "every page in one document" jqt '(.items | length == 3) and .nextCursor == null'
expect 0 "list --state Completed" ctl list --tenant e2e --state Completed -o json
check "only completed" jqt 'all(.items[]; .state == "Completed")'
expect 4 "list with an unknown state is refused" ctl list --state Bogus
check "the API names state" contains "$ERR" "(field state)"

expect 0 "history --at 1" ctl history "$ID" --at 1 -o json
check "queued as of its first event" jqt '.state == "Queued" and .version == 1'
expect 0 "history (all events)" ctl history "$ID" -o json
check "completed after all of them" jqt '.state == "Completed"'
expect 0 "history (table)" ctl history "$ID" --at 3
check "a request view" contains "$OUT" "State:"
expect 4 "history past the last event" ctl history "$ID" --at 9999
expect 1 "history --at not a number" ctl history "$ID" --at x
expect 2 "history of an unknown request" ctl history req-nope --at 1

# ---- watch: live, table, end conditions ---------------------------------------
P=$(last_position "$ID3")
ctl watch --tenant live --last-event-id "$P" --until-state Completed --timeout 60 -o json >"$WORK/live.out" 2>"$WORK/live.err" &
WPID=$!
PIDS+=($WPID)
run ctl submit --tenant live --order live-1 --type vps --region eu-west-1 --cpu 1 --memory-gb 1 --storage-gb 10 -o json
LIVE=$(jq -r .id <<<"$OUT")
wait "$WPID"
RC=$?
OUT=$(cat "$WORK/live.out")
ERR=$(cat "$WORK/live.err")
checks=$((checks + 1))
if [[ $RC -eq 0 ]]; then echo "ok: live watch of a tenant stops at Completed (exit 0)"; else fail "live watch"; fi
check "only the new request's events, after the given position, ending completed" bash -c \
  'jq -s -e --arg id "$1" --argjson p "$2" "length > 5 and all(.requestId == \$id and .tenantId == \"live\" and .position > \$p) and .[-1].type == \"request_completed\"" <<<"$0" >/dev/null' \
  "$OUT" "$LIVE" "$P"
expect 0 "watch --count (table)" ctl watch --request "$ID" --last-event-id 0 --count 3 --timeout 30
check "a header and three lines" bash -c '[[ $(wc -l <<<"$0") -eq 4 && "$0" == TIME*POSITION*REQUEST*TYPE* ]]' "$OUT"
check "the first event, with its state" bash -c '[[ $(sed -n 2p <<<"$0") == *request_submitted*"→ Queued"* ]]' "$OUT"
expect 0 "watch --type filters on the server" ctl watch --request "$ID" --last-event-id 0 --type step_started --count 4 --timeout 30 -o json
check "four step_started, one per step" bash -c \
  'jq -s -e "map(.type) == [\"step_started\",\"step_started\",\"step_started\",\"step_started\"] and map(.data.step) == [\"allocate\",\"configure\",\"activate\",\"verify\"]" <<<"$0" >/dev/null' "$OUT"
expect 0 "watch a request already in the state" ctl watch --request "$ID" --until-state Completed --timeout 30
check "says so" contains "$ERR" "is Completed"
expect 2 "watch an unknown request until a state" ctl watch --request req-nope --until-state Completed --timeout 30
expect 4 "watch an unknown event type" ctl watch --type no_such_type --count 1 --timeout 30
check "the API names type" contains "$ERR" "(field type)"
expect 5 "watch that does not end within --timeout" ctl watch --request "$ID" --last-event-id 0 --until-state Suspended --timeout 2

# ---- the service lifecycle ------------------------------------------------------
expect 3 "reactivate a completed service" ctl reactivate "$ID"
check "the API says why" contains "$ERR" "Completed"
P=$(last_position "$ID")
expect 0 "suspend" ctl suspend "$ID" -o json
check "answers the request" jqt ".id == \"$ID\""
expect 0 "watch until Suspended" ctl watch --request "$ID" --last-event-id "$P" --until-state Suspended --timeout 60 -o json
check "ends with service_suspended" bash -c 'jq -s -e ".[-1].type == \"service_suspended\"" <<<"$0" >/dev/null' "$OUT"
expect 0 "get shows Suspended" ctl get "$ID" -o json
check "suspended" jqt '.state == "Suspended"'
P=$(last_position "$ID")
expect 0 "reactivate" ctl reactivate "$ID"
check "table of id and state" contains "$OUT" "$ID"
expect 0 "watch until Completed again" ctl watch --request "$ID" --last-event-id "$P" --until-state Completed --timeout 60 -o json
check "ends with service_reactivated" bash -c 'jq -s -e ".[-1].type == \"service_reactivated\"" <<<"$0" >/dev/null' "$OUT"
expect 3 "retry a completed request" ctl retry "$ID2"
P=$(last_position "$ID")
expect 0 "deprovision" ctl deprovision "$ID" -o json
expect 0 "watch until RolledBack" ctl watch --request "$ID" --last-event-id "$P" --until-state RolledBack --timeout 60 -o json
expect 0 "get shows it deprovisioned" ctl get "$ID" -o json
check "rolled back, deprovisioned" jqt '.state == "RolledBack" and .deprovisioned == true'
expect 2 "suspend an unknown request" ctl suspend req-nope

# ---- quota, usage, retry ----------------------------------------------------------
expect 0 "quota get of a tenant without one" ctl quota get q -o json
check "unlimited" jqt '.configured == false and .maxCpu == null'
expect 0 "quota get (table)" ctl quota get q
check "says unlimited" contains "$OUT" "unlimited"
expect 0 "quota set" ctl quota set q --max-cpu 1 --max-instances unlimited -o json
check "cpu 1, the rest unlimited" jqt '.configured == true and .maxCpu == 1 and .maxInstances == null and .maxMemoryGb == null'
expect 1 "quota set with a word" ctl quota set q --max-cpu lots
expect 1 "quota set with nothing" ctl quota set q
expect 4 "quota set negative is refused" ctl quota set q --max-cpu -5
check "the API names maxCpu" contains "$ERR" "maxCpu"
expect 0 "submit over quota" ctl submit --tenant q --order q-1 --type vps --region eu-west-1 --cpu 2 --memory-gb 2 --storage-gb 10 -o json
QID=$(jq -r .id <<<"$OUT")
expect 0 "watch until Failed" ctl watch --request "$QID" --last-event-id 0 --until-state Failed --timeout 60 -o json
expect 0 "get shows why" ctl get "$QID" -o json
check "quota_exceeded on cpu" jqt '.failure.code == "quota_exceeded" and any(.failure.violations[]; .dimension == "cpu")'
expect 0 "usage -o json" ctl usage q -o json
check "nothing used, limit 1" jqt '.usage.cpu == 0 and .quota.maxCpu == 1 and .inFlight == 0'
expect 0 "quota set higher" ctl quota set q --max-cpu 8
P=$(last_position "$QID")
expect 0 "retry the failed request" ctl retry "$QID" -o json
check "queued again" jqt '.state == "Queued"'
expect 0 "watch the retry until Completed" ctl watch --request "$QID" --last-event-id "$P" --until-state Completed --timeout 60 -o json
check "retry_requested first" bash -c 'jq -s -e ".[0].type == \"retry_requested\"" <<<"$0" >/dev/null' "$OUT"
expect 0 "usage (table)" ctl usage q
check "cpu 2 of 8, in flight of 5" bash -c '[[ "$0" =~ cpu\ +2\ +8 && "$0" =~ In\ flight:\ +[0-9]+\ of\ 5 ]]' "$OUT"
expect 0 "usage -o json after" ctl usage q -o json
check "cpu 2 used" jqt '.usage.cpu == 2 and .usage.instances == 1'

# ---- approvals ----------------------------------------------------------------------
http POST /v1/approval-rules '{"name":"e2e big","priority":10,"conditions":{"minCpu":16}}' >/dev/null
expect 0 "submit a large request" ctl submit --tenant appr --order a-1 --type vps --region eu-west-1 --cpu 16 --memory-gb 8 --storage-gb 10 -o json
AID=$(jq -r .id <<<"$OUT")
expect 0 "watch until PendingApproval" ctl watch --request "$AID" --last-event-id 0 --until-state PendingApproval --timeout 60 -o json
expect 0 "approvals -o json" ctl approvals -o json
check "it waits, with the rule" jqt "any(.items[]; .id == \"$AID\" and .approval.ruleName == \"e2e big\")"
expect 0 "approvals (table)" ctl approvals --tenant appr
check "id and rule" bash -c '[[ "$0" == *"$1"*"e2e big"* ]]' "$OUT" "$AID"
expect 0 "approve" ctl approve "$AID" --comment "capacity checked" -o json
expect 0 "watch until Completed" ctl watch --request "$AID" --last-event-id 0 --until-state Completed --timeout 60 -o json
check "request_approved on the way" bash -c 'jq -s -e "any(.[]; .type == \"request_approved\" and .data.comment == \"capacity checked\")" <<<"$0" >/dev/null' "$OUT"
expect 3 "approve again" ctl approve "$AID"
check "not pending" contains "$ERR" "not PendingApproval"
expect 0 "submit another" ctl submit --tenant appr --order a-2 --type vps --region eu-west-1 --cpu 16 --memory-gb 8 --storage-gb 10 -o json
BID=$(jq -r .id <<<"$OUT")
ctl watch --request "$BID" --last-event-id 0 --until-state PendingApproval --timeout 60 -o json >/dev/null
expect 4 "reject without a reason" ctl reject "$BID"
check "the API asks for one" contains "$ERR" "reason"
expect 0 "reject with a reason" ctl reject "$BID" --reason "no budget"
expect 0 "watch until Failed" ctl watch --request "$BID" --last-event-id 0 --until-state Failed --timeout 60 -o json
expect 0 "get shows the rejection" ctl get "$BID" -o json
check "rejected with the reason" jqt '.approval.state == "rejected" and .approval.reason == "no budget"'
expect 2 "approve an unknown request" ctl approve req-nope

# ---- clusters and manual deliveries -----------------------------------------------------
expect 0 "clusters add (flags)" ctl clusters add --name "Vendor Rack" --type manual --region eu-west-1 \
  --cpu 64 --memory-gb 256 --storage-gb 4000 --vm-slots 10 -o json
check "a manual cluster with its capacity" jqt '.type == "manual" and .capacity.cpu == 64 and .available.vmSlots == 10'
CM=$(jq -r .id <<<"$OUT")
expect 4 "clusters add without type and region" ctl clusters add --name broken
check "the API names the field" contains "$ERR" "(field"
echo '{"name":"From file","type":"simulation","region":"us-east-1","capacity":{"cpu":8,"memoryGb":8,"storageGb":80,"vmSlots":2}}' >"$WORK/cluster.json"
expect 0 "clusters add -f with a flag over it" ctl clusters add -f "$WORK/cluster.json" --disabled
check "table of the cluster" bash -c '[[ "$0" == *"Name:"*"From file"*"Provisioning:"*"disabled"* ]]' "$OUT"
expect 0 "clusters list -o json" ctl clusters list -o json
check "ours and the embedded ones" jqt "any(.items[]; .id == \"$CM\") and any(.items[]; .id == \"sim-eu-west-1\")"
expect 0 "clusters list (table)" ctl clusters list
check "rows with used/capacity" bash -c '[[ "$0" == ID*BREAKER* && "$0" == *"Vendor Rack"*"0/64"* ]]' "$OUT"
expect 0 "clusters test" ctl clusters test sim-eu-west-1 -o json
check "success" jqt '.success == true'
expect 0 "clusters test (table)" ctl clusters test sim-eu-west-1
check "yes" contains "$OUT" "yes"
expect 2 "clusters test of an unknown cluster" ctl clusters test no-such-cluster

expect 0 "submit to the vendor" ctl submit --tenant man --order m-1 --type vps --region eu-west-1 --provider manual \
  --cpu 2 --memory-gb 4 --storage-gb 40 -o json
MID=$(jq -r .id <<<"$OUT")
expect 0 "watch until it waits for input" ctl watch --request "$MID" --last-event-id 0 --type manual_input_requested --count 1 --timeout 60 -o json
expect 0 "manual -o json" ctl manual -o json
check "it is in the queue" jqt "any(.items[]; .id == \"$MID\" and .clusterId == \"$CM\")"
expect 0 "manual (table)" ctl manual
check "with what it waits for" bash -c '[[ "$0" == *"$1"*"waiting for an operator"* ]]' "$OUT" "$MID"
printf 'hunter2-e2e\n' >"$WORK/pw"
expect 1 "complete with a bad endpoint" ctl complete "$MID" --host 10.1.2.3 --username root --password-file "$WORK/pw" --endpoint nourl
expect 1 "complete with a missing password file" ctl complete "$MID" --host 10.1.2.3 --username root --password-file "$WORK/none"
expect 0 "complete" ctl complete "$MID" --host 10.1.2.3 --username root --password-file "$WORK/pw" \
  --endpoint ssh=ssh://root@10.1.2.3:22 --note "row 4" -o json
check "the password is not printed" lacks "$OUT$ERR" "hunter2"
expect 0 "watch until Completed" ctl watch --request "$MID" --last-event-id 0 --until-state Completed --timeout 60 -o json
expect 0 "get shows the endpoint" ctl get "$MID" -o json
check "ssh endpoint delivered" jqt '.endpoints.ssh == "ssh://root@10.1.2.3:22" and .credential == "password"'
check "the password file was read without its newline" bash -c \
  '[[ $(jq -r .password <<<"$0") == hunter2-e2e ]]' "$(http GET "/v1/requests/$MID/credentials" "" "X-Tenant-Id: man")"
expect 3 "complete again" ctl complete "$MID" --host 10.1.2.3 --username root --password-file "$WORK/pw"
expect 4 "complete with both password and key" ctl complete "$ID2" --host h --username u --password-file "$WORK/pw" --private-key-file "$WORK/pw"

# ---- watch across a restart of provisiond ----------------------------------------------------
ctl watch --tenant restart --until-state Completed --timeout 90 >"$WORK/restart.out" 2>"$WORK/restart.err" &
WPID=$!
PIDS+=($WPID)
for _ in $(seq 100); do  # the header is printed once the stream is open
  [[ -s $WORK/restart.out ]] && break
  sleep 0.1
done
kill -TERM "$SERVER"
wait "$SERVER"
"$PROVISIOND" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/provisiond-2.log" 2>&1 &
SERVER=$!
PIDS+=($SERVER)
for _ in $(seq 300); do
  grep -q "listening on" "$WORK/provisiond-2.log" && break
  sleep 0.1
done
run ctl submit --tenant restart --order r-1 --type vps --region eu-west-1 --cpu 1 --memory-gb 1 --storage-gb 10 -o json
RID=$(jq -r .id <<<"$OUT")
wait "$WPID"
RC=$?
OUT=$(cat "$WORK/restart.out")
ERR=$(cat "$WORK/restart.err")
checks=$((checks + 1))
if [[ $RC -eq 0 ]]; then echo "ok: a watch outlives a restart of provisiond (exit 0)"; else fail "watch across a restart"; fi
check "and sees the request submitted after it, to Completed" bash -c \
  '[[ "$0" == *"$1"*request_submitted* && "$0" == *request_completed* ]]' "$OUT" "$RID"

# ---- no server ---------------------------------------------------------------------------
FREE=$(free_port)
expect 5 "nothing listening" "$CTL" --url "http://127.0.0.1:$FREE" get req-x
check "says there was no answer" contains "$ERR" "no answer from http://127.0.0.1:$FREE"
expect 5 "watch with nothing listening" "$CTL" --url "http://127.0.0.1:$FREE" watch --count 1
expect 1 "watch over https" "$CTL" --url "https://127.0.0.1:$FREE" watch --count 1
check "says http only" contains "$ERR" "http:// only"

# ---- the fake: headers, statuses, a dropped stream ---------------------------------------
unset PROVISIOND_TOKEN  # what the CLI sends is checked below, token by token
python3 "$HERE/fake_provisiond.py" "$WORK/fake.log" >"$WORK/fake.out" 2>&1 &
PIDS+=($!)
FAKE=""
for _ in $(seq 100); do
  FAKE=$(grep -oE '^PORT=[0-9]+' "$WORK/fake.out" | cut -d= -f2)
  [[ -n $FAKE ]] && break
  sleep 0.1
done
[[ -n $FAKE ]] || { echo "the fake did not start"; cat "$WORK/fake.out"; exit 1; }
FURL=http://127.0.0.1:$FAKE
last_auth() { tail -1 "$WORK/fake.log" | jq -r '.authorization // "none"'; }

expect 0 "no token: no Authorization" "$CTL" --url "$FURL" get ok
check "none sent" bash -c '[[ $(tail -1 "$0" | jq -r ".authorization // \"none\"") == none ]]' "$WORK/fake.log"
expect 0 "token from PROVISIOND_TOKEN" env PROVISIOND_TOKEN=tok-env-123 "$CTL" --url "$FURL" get ok
check "sent as a bearer token" bash -c '[[ $(tail -1 "$0" | jq -r .authorization) == "Bearer tok-env-123" ]]' "$WORK/fake.log"
check "never printed" lacks "$OUT$ERR" "tok-env-123"
mkdir -p "$HOME/.config/provisionctl"
printf '{"url":"%s","token":"tok-file-456"}' "$FURL" >"$HOME/.config/provisionctl/config.json"
chmod 600 "$HOME/.config/provisionctl/config.json"
expect 0 "url and token from ~/.config/provisionctl/config.json" "$CTL" get ok -o json
check "the fake answered" jqt '.id == "ok"'
check "the file's token" bash -c '[[ $(tail -1 "$0" | jq -r .authorization) == "Bearer tok-file-456" ]]' "$WORK/fake.log"
check "no warning for a private file" bash -c '[[ -z "$0" ]]' "$ERR"
expect 0 "PROVISIOND_TOKEN over the file's" env PROVISIOND_TOKEN=tok-env-789 "$CTL" get ok
check "the environment's token" bash -c '[[ $(tail -1 "$0" | jq -r .authorization) == "Bearer tok-env-789" ]]' "$WORK/fake.log"
expect 0 "PROVISIOND_URL over the file's url" env PROVISIOND_URL="$URL" PROVISIOND_TOKEN="$ADMIN_TOKEN" "$CTL" get "$ID2" -o json
check "the real server answered" jqt ".id == \"$ID2\" and .tenantId == \"e2e\""
expect 0 "--url over PROVISIOND_URL" env PROVISIOND_URL="http://127.0.0.1:$FREE" "$CTL" --url "$FURL" get ok
printf '{"url":"%s","token":"tok-other-000"}' "$FURL" >"$WORK/other.json"
chmod 644 "$WORK/other.json"
expect 0 "--config FILE" "$CTL" --config "$WORK/other.json" get ok
check "its token" bash -c '[[ $(tail -1 "$0" | jq -r .authorization) == "Bearer tok-other-000" ]]' "$WORK/fake.log"
check "a warning that others can read it, without the token" bash -c \
  '[[ "$0" == *"readable by others"* && "$0" != *"tok-other-000"* ]]' "$ERR"
expect 1 "--config of a missing file" "$CTL" --config "$WORK/missing.json" get ok
echo '{"url":"'"$FURL"'","tokn":"x"}' >"$WORK/typo.json"
expect 1 "a config file with an unknown field" "$CTL" --config "$WORK/typo.json" get ok
check "names the field" contains "$ERR" "unknown field tokn"
expect 1 "a token with a newline" env PROVISIOND_TOKEN=$'a\nb' "$CTL" --url "$FURL" get ok
check "says where it came from, not what it is" bash -c '[[ "$0" == *"PROVISIOND_TOKEN"* && "$0" != *"a\\nb"* ]]' "$ERR"
rm "$HOME/.config/provisionctl/config.json"

for code in 400 401 403 405 413 422; do
  expect 4 "HTTP $code is refused" "$CTL" --url "$FURL" get "status-$code"
done
check "the API's message and field" contains "$ERR" "HTTP 422: answered 422 (field f)"
expect 2 "HTTP 404" "$CTL" --url "$FURL" get status-404
expect 3 "HTTP 409" "$CTL" --url "$FURL" get status-409
for code in 429 500 502 503; do
  expect 5 "HTTP $code is unavailable" "$CTL" --url "$FURL" get "status-$code"
done
expect 5 "a 502 that is not JSON" "$CTL" --url "$FURL" get plain-502
check "status and body start" contains "$ERR" "HTTP 502: <html>bad gateway</html>"
expect 4 "an escape sequence in a message" "$CTL" --url "$FURL" get evil
check "shown escaped, not sent to the terminal" bash -c '[[ "$0" == *"\\x1b[31mred"* && "$0" != *$'"'"'\e'"'"'* ]]' "$ERR"
START=$(date +%s)
expect 5 "a server that never answers, --timeout 1" "$CTL" --url "$FURL" --timeout 1 get hang
check "gave up within a few seconds" bash -c '(( $(date +%s) - $0 < 10 ))' "$START"

expect 0 "watch across a closed stream and a drop" env PROVISIOND_TOKEN=tok-sse-1 "$CTL" --url "$FURL" watch --count 4 --timeout 30 -o json
check "events 1..4, each once" bash -c '[[ $(jq -s -c "map(.position)" <<<"$0") == "[1,2,3,4]" ]]' "$OUT"
check "reconnects resumed with Last-Event-ID 2, then 3 (from the drop)" bash -c \
  '[[ $(jq -s -c "map(select(.path | startswith(\"/v1/events/stream\"))) | map(.lastEventId)" "$0") == "[null,\"2\",\"3\"]" ]]' "$WORK/fake.log"
check "asked for text/event-stream with the token" bash -c \
  'jq -s -e "map(select(.path | startswith(\"/v1/events/stream\"))) | all(.accept == \"text/event-stream\" and .authorization == \"Bearer tok-sse-1\")" "$0" >/dev/null' "$WORK/fake.log"
check "said it was dropped" contains "$ERR" "dropped this reader (too slow); resuming after 3"
check "never printed the token" lacks "$OUT$ERR" "tok-sse-1"

echo
echo "$checks checks, $failures failed"
[[ $failures -eq 0 ]]
