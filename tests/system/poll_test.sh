#!/usr/bin/env bash
# The poll transport through real middleboxes: an HTTP/1.1-only reverse
# proxy in front of the edge's agent port (Debian's nginx with
# proxy_http_version 1.1 and buffering at its defaults), where an h2 agent
# is refused and a poll agent serves bodies both ways, and where auto ends
# on poll and moves back to h2 once the way opens; a forward proxy
# with credentials (tinyproxy) between a poll agent and the edge; and the
# answers of the poll endpoints to bad requests, sent with curl.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
SERVICE="/usr/bin/python3 $HERE/file_sha_service.py"
cd "$WORK"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup installs it)"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
mkdir site
head -c 20000000 /dev/urandom >site/big
head -c 3000000 /dev/urandom >upload
echo "served through poll" >site/index.html
service_port=$(free_port)
$SERVICE "$service_port" site >/dev/null 2>&1 &
PIDS+=($!)

agents_port=$(free_port); public_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-poll}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
  other: {hosts: [other.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)

nginx_port=$(free_port)
mkdir -p nginx/logs
cat >nginx/nginx.conf <<CONF
user root;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 256; }
http {
  access_log $WORK/nginx/access.log;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  upstream edge { server 127.0.0.1:$agents_port; keepalive 8; }
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $WORK/pki/edge.crt;
    ssl_certificate_key $WORK/pki/edge.key;
    client_max_body_size 2m;
    location / {
      proxy_pass https://edge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_trusted_certificate $WORK/pki/ca.crt;
      proxy_ssl_verify on;
    }
  }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' 2>nginx.err &
PIDS+=($!)
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$agents_port" || fail "edge did not start: $(cat edge.log)"
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$nginx_port" || fail "nginx did not start: $(cat nginx.err nginx/error.log)"

# agent LOG EDGE [FLAG...]: an agent for tunnel web with one session.
agent() {
  local log=$1 edge=$2; shift 2
  "$DIALBACK" agent --edge "$edge" --tunnel web --token "$token" --connections 1 --ca pki/ca.crt \
    --server-name localhost "$@" "http://127.0.0.1:$service_port" 2>"$log" &
  AGENT_PID=$!; PIDS+=("$AGENT_PID")
}
fetch() { curl -sf -m 10 -H 'Host: app.test' "http://127.0.0.1:$public_port/$1"; }
stop_agent() { kill "$AGENT_PID"; wait_exit "$AGENT_PID" 10; [ "$EXIT_CODE" = 0 ] || fail "agent exit: $EXIT_CODE $(tail -n 5 "$1")"; }

# 1. Behind the HTTP/1.1-only proxy the h2 upgrade cannot pass: the edge
#    refuses what arrives (400) and the agent stops.
agent agent-h2.log "127.0.0.1:$nginx_port" --transport h2
wait_exit "$AGENT_PID" 20
[ "$EXIT_CODE" != 0 ] && [ "$EXIT_CODE" != timeout ] || fail "h2 through nginx: exit $EXIT_CODE: $(cat agent-h2.log)"
grep -q "refused tunnel 'web': 400" agent-h2.log || fail "h2 through nginx: $(cat agent-h2.log)"

# 2. poll through the same proxy: GET, a 20 MB download and a 3 MB upload.
agent agent-poll.log "127.0.0.1:$nginx_port" --transport poll
wait_for 30 fetch index.html || fail "poll through nginx: no answer: $(tail -n 5 agent-poll.log edge.log nginx/error.log)"
[ "$(fetch big | sha256sum)" = "$(sha256sum <site/big | cut -c1-64)  -" ] || fail "poll through nginx: the download differs"
answer=$(curl -sf -m 20 -H 'Host: app.test' --data-binary @upload "http://127.0.0.1:$public_port/up")
[ "$answer" = "$(sha256sum <upload | cut -c1-64) 3000000" ] || fail "poll through nginx: upload answered '$answer'"
start=$(date +%s%N)
for _ in 1 2 3 4 5 6 7 8 9 10; do fetch index.html >/dev/null || fail "poll through nginx: a small request failed"; done
poll_ms=$(( ($(date +%s%N) - start) / 10000000 ))
grep -q 'poll/next' nginx/access.log || fail "the requests did not pass nginx"
stop_agent agent-poll.log

# 2b. auto behind the same proxy, where UDP does not pass either (nothing
#     answers QUIC at its port): h3 fails after quic.fallback_after, h2 is
#     refused, and the agent ends on poll.
auto_started=$(date +%s%N)
agent agent-auto.log "127.0.0.1:$nginx_port" --transport auto
wait_for 30 grep -q "on poll after" agent-auto.log || fail "auto did not end on poll: $(cat agent-auto.log)"
auto_ms=$(( ($(date +%s%N) - auto_started) / 1000000 ))
grep -q "no QUIC session with edge" agent-auto.log || fail "auto did not try h3 first: $(cat agent-auto.log)"
grep -q "no h2 session with edge .* (answered 400 bad_request); trying poll" agent-auto.log ||
  fail "auto did not try h2 before poll: $(cat agent-auto.log)"
wait_for 10 fetch index.html || fail "auto on poll: no answer"
stop_agent agent-auto.log

# 2c. auto moves back: behind a relay that leads to nginx it ends on poll;
#     once the relay leads to the edge itself, its probe registers h2 and
#     the session moves over while requests run, none of them failing.
relay_port=$(free_port)
echo "127.0.0.1:$nginx_port" >relay.target
/usr/bin/python3 "$HERE/switch_relay.py" "$relay_port" relay.target >relay.out 2>relay.err &
PIDS+=($!)
wait_for 10 grep -q listening relay.out || fail "relay did not start: $(cat relay.err)"
cat >agent-back.yaml <<YAML
tunnel: web
token: "$token"
ca: pki/ca.crt
edges:
  - {address: 127.0.0.1:$relay_port, server_name: localhost, transport: auto, connections: 1}
upstream: http://127.0.0.1:$service_port
quic: {fallback_after: 300ms, probe_interval: 1s}
YAML
"$DIALBACK" agent --config agent-back.yaml 2>agent-back.log &
AGENT_PID=$!; PIDS+=("$AGENT_PID")
wait_for 30 grep -q "on poll after" agent-back.log || fail "auto behind the relay did not end on poll: $(cat agent-back.log)"
wait_for 10 fetch index.html || fail "auto on poll behind the relay: no answer"
# Requests one after another until load.stop exists (at most 2000).
( sent=0 failed=0
  while [ ! -e load.stop ] && [ "$sent" -lt 2000 ]; do
    fetch index.html >/dev/null || failed=$((failed + 1))
    sent=$((sent + 1))
  done
  echo "$sent $failed" >load.out ) &
load_pid=$!
echo "127.0.0.1:$agents_port" >relay.target
wait_for 20 grep -q "h2 works again: moving session .* from poll" agent-back.log ||
  fail "auto did not move back to h2: $(tail -n 5 agent-back.log)"
wait_for 10 grep -q "on h2 again" agent-back.log || fail "the h2 probe's session was not used: $(tail -n 5 agent-back.log)"
wait_for 20 grep -q "(poll) ended" agent-back.log || fail "the poll session did not end: $(tail -n 5 agent-back.log)"
for _ in 1 2 3 4 5; do fetch index.html >/dev/null || fail "auto on h2 again: a request failed"; done
touch load.stop
wait_exit "$load_pid" 30
read -r sent failed <load.out
[ "$failed" = 0 ] && [ "$sent" -gt 0 ] || fail "moving from poll to h2: $failed of $sent requests failed"
stop_agent agent-back.log

# 3. poll through tinyproxy with credentials (HTTPS_PROXY), with one `next`
#    and three `send` requests in flight instead of two of each.
start_tinyproxy
proxy_port=$PROXY_PORT
HTTPS_PROXY="http://alice:s3cret@127.0.0.1:$proxy_port" agent agent-proxy.log "127.0.0.1:$agents_port" \
  --transport poll --poll-next-requests 1 --poll-send-requests 3
wait_for 30 fetch index.html || fail "poll through tinyproxy: no answer: $(tail -n 5 agent-proxy.log)"
[ "$(fetch big | sha256sum)" = "$(sha256sum <site/big | cut -c1-64)  -" ] || fail "poll through tinyproxy: the download differs"
grep -q "CONNECT 127.0.0.1:$agents_port" tinyproxy.log || fail "the poll agent did not go through tinyproxy"
stop_agent agent-proxy.log

# 4. Bad requests to the poll endpoints get their status and nothing else.
base="https://127.0.0.1:$agents_port/.well-known/dialback/v1/poll"
status() { curl --http1.1 -s -o /dev/null -w '%{http_code}' --cacert pki/ca.crt --resolve "localhost:$agents_port:127.0.0.1" "${@/127.0.0.1:$agents_port/localhost:$agents_port}"; }
register() {
  curl --http1.1 -s --cacert pki/ca.crt --resolve "localhost:$agents_port:127.0.0.1" -X POST \
    -H "Authorization: Bearer $token" -H "Dialback-Tunnel: $1" -H 'Dialback-Node: probe' \
    -H 'Dialback-Session: 0123456789abcdef0123456789abcdef' "https://localhost:$agents_port/.well-known/dialback/v1/poll/register"
}
register web >register.out || true
session=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open("register.out"))["session"])') ||
  fail "a registration by hand did not answer a session: $(cat register.out; tail -n 3 edge.log)"
[ "$(status "$base/next")" = 401 ] || fail "next without a token"
[ "$(status -H 'Dialback-Poll-Session: dbt_nope' "$base/next")" = 404 ] || fail "next with an unknown token"
[ "$(status -H "Dialback-Poll-Session: $session" -H 'Dialback-Tunnel: other' "$base/next")" = 404 ] ||
  fail "next with the token of another tunnel"
[ "$(status -X POST -H "Dialback-Poll-Session: $session" "$base/next")" = 405 ] || fail "POST next"
[ "$(status -X POST -H "Dialback-Poll-Session: $session" -H 'Dialback-Poll-Seq: x' --data-binary 'a' "$base/send")" = 400 ] ||
  fail "send with a bad number"
head -c 2000000 /dev/zero >big-batch
[ "$(status -X POST -H "Dialback-Poll-Session: $session" -H 'Dialback-Poll-Seq: 1' --data-binary @big-batch "$base/send")" = 413 ] ||
  fail "send over 1 MiB"
[ "$(status -X POST -H "Dialback-Poll-Session: $session" -H 'Dialback-Poll-Seq: 99' --data-binary 'x' "$base/send")" = 400 ] ||
  fail "send far past a missing batch"
[ "$(status -X POST -H "Dialback-Poll-Session: $session" -H 'Dialback-Poll-Seq: 100' --data-binary 'x' "$base/send")" = 404 ] ||
  fail "the session did not end after an out-of-order batch"
[ "$(status -X POST -H 'Authorization: Bearer nope' -H 'Dialback-Tunnel: web' -H 'Dialback-Node: n' \
     -H 'Dialback-Session: 0123456789abcdef0123456789abcdef' "$base/register")" = 401 ] || fail "register with a wrong token"
[ "$(status -X POST "$base/other")" = 404 ] || fail "an unknown poll path"
code=0
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" --transport poll \
  --poll-send-requests 17 "http://127.0.0.1:$service_port" 2>bad-flag.log || code=$?
[ "$code" = 2 ] && grep -q -- "--poll-send-requests" bad-flag.log || fail "--poll-send-requests 17: exit $code: $(cat bad-flag.log)"
grep -q 'poll session of agent .* ended: batch 99 is too far past a missing one' edge.log ||
  fail "the edge did not log the broken session: $(tail -n 5 edge.log)"
echo "poll test passed: 10 small requests through nginx took ${poll_ms} ms each on average (mostly this" \
  "python service's Nagle stall, docs/benchmarks.md);" \
  "auto ended on poll ${auto_ms} ms after the agent started;" \
  "$sent requests while it moved back to h2, none failed"
