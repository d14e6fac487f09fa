#!/usr/bin/env bash
# Envoy reverse-tunnel wire compatibility (docs/protocol.md §6) against
# scripted peers that no dialback code drives (python3-h2, Debian's
# /usr/bin/python3):
#   1. our agent (--transport envoy) dialing a scripted Envoy responder that
#      sends RPINGs before starting HTTP/2 as the client;
#   2. scripted Envoy initiators registered on our edge, reached by curl;
#   3. the statuses our edge refuses a handshake with.
source "$(dirname "$0")/lib.sh"
PEER="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/envoy_peer.py"
cd "$WORK"
PASSED=0
pass() { PASSED=$((PASSED + 1)); echo "ok: $*"; }

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --ip 127.0.0.1 --server >/dev/null
"$DIALBACK" pki issue --dir pki --name node-b --client >/dev/null

mkdir site && echo "served by the private service" >site/index.html
service_port=$(free_port)
/usr/bin/python3 -m http.server "$service_port" --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$service_port/" || fail "local service did not start"

# start_responder NAME RPINGS: a scripted responder (output NAME.out, NAME.err)
# on a new port; sets RESPONDER_PORT and RESPONDER_PID once it listens.
start_responder() {
  RESPONDER_PORT=$(free_port)
  $PEER responder --port "$RESPONDER_PORT" --cert pki/edge.crt --key pki/edge.key \
    --ca pki/ca.crt --host app.test --path /index.html --rpings "$2" >"$1.out" 2>"$1.err" &
  RESPONDER_PID=$!; PIDS+=("$RESPONDER_PID")
  wait_for 30 grep -q listening "$1.out" || fail "scripted responder $1 did not start"
}

# 1a. Our agent from flags, with a bearer token: node from --node; cluster
# (the tunnel's name) and tenant ("default") are the agent's defaults, as the
# CLI has no flags for them.
start_responder responder-a 3
"$DIALBACK" agent --edge "127.0.0.1:$RESPONDER_PORT" --tunnel web --transport envoy \
  --connections 1 --ca pki/ca.crt --server-name localhost --node node-a --token agent-a-token \
  "http://127.0.0.1:$service_port" 2>agent-a.log &
agent=$!; PIDS+=("$agent")
wait_exit "$RESPONDER_PID" 20
[ "$EXIT_CODE" = 0 ] ||
  fail "scripted responder failed ($EXIT_CODE): $(cat responder-a.out responder-a.err agent-a.log)"
grep -q 'status=200 body=served by the private service node=node-a cluster=web tenant=default rpings=3$' \
  responder-a.out || fail "scripted responder got: $(cat responder-a.out)"
grep -q 'client_cert=None' responder-a.out || fail "agent sent a client certificate: $(cat responder-a.out)"
grep -q '^  authorization: Bearer agent-a-token$' responder-a.out ||
  fail "no bearer token: $(cat responder-a.out)"
kill "$agent"; wait_exit "$agent" 20
pass "agent (flags, token) through a scripted responder, 3 RPINGs echoed"

# 1b. Our agent from a config file: cluster, tenant and a client certificate
# as its only credential; the responder starts HTTP/2 at once (no RPING).
start_responder responder-b 0
cat >agent.yaml <<YAML
agent: {node: node-b, cluster: web-cluster, tenant: acme}
tunnel: web
ca: pki/ca.crt
cert: pki/node-b.crt
key: pki/node-b.key
edges:
  - {address: 127.0.0.1:$RESPONDER_PORT, server_name: localhost, transport: envoy, connections: 1}
upstream: http://127.0.0.1:$service_port
YAML
"$DIALBACK" agent --config agent.yaml 2>agent-b.log &
agent=$!; PIDS+=("$agent")
wait_exit "$RESPONDER_PID" 20
[ "$EXIT_CODE" = 0 ] ||
  fail "scripted responder failed ($EXIT_CODE): $(cat responder-b.out responder-b.err agent-b.log)"
grep -q 'status=200 body=served by the private service node=node-b cluster=web-cluster tenant=acme rpings=0$' \
  responder-b.out || fail "scripted responder got: $(cat responder-b.out)"
grep -q 'client_cert=node-b' responder-b.out || fail "no client certificate: $(cat responder-b.out)"
grep -q '^  authorization:' responder-b.out && fail "agent without a token sent Authorization"
kill "$agent"; wait_exit "$agent" 20
pass "agent (config file, mTLS) with cluster and tenant; HTTP/2 at once"

# 2. Scripted initiators against our edge. The failure budget is exactly the
# number of refusals in part 3, so that the next registration gets 429.
budget=6
web_token=$("$DIALBACK" token new)
api_token=$("$DIALBACK" token new)
agents_port=$(free_port); public_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-envoy}
agents:
  listen: 127.0.0.1:$agents_port
  cert: pki/edge.crt
  key: pki/edge.key
  limits: {failures_per_ip: {rate: 0.001, burst: $budget}}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web:
    hosts: [app.test]
    auth: {tokens: ["$("$DIALBACK" token hash "$web_token")"]}
    envoy_clusters: [web-cluster]
  api:
    hosts: [api.test]
    tenant: team-2
    auth: {tokens: ["$("$DIALBACK" token hash "$api_token")"]}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$agents_port" || fail "edge did not start"

initiator() {  # NAME ARG...: a serving initiator in the background (NAME.out, NAME.err)
  local name=$1; shift
  $PEER initiator --port "$agents_port" --ca pki/ca.crt "$@" >"$name.out" 2>"$name.err" &
  PIDS+=($!)
}
fetch() { curl -sf -m 5 -H "Host: $1" "http://127.0.0.1:$public_port/"; }

initiator web --node envoy-1 --cluster web-cluster --tenant default --token "$web_token" \
  --body "hello from a scripted envoy initiator"
wait_for 30 fetch app.test || fail "no answer through the scripted initiator: $(cat web.out web.err edge.log)"
[ "$(fetch app.test)" = "hello from a scripted envoy initiator" ] || fail "wrong body: $(fetch app.test)"
grep -q 'connected rpings=0' web.out || fail "initiator saw: $(cat web.out)"
grep -q 'request GET app.test/$' web.out || fail "initiator saw: $(cat web.out)"
grep -q 'opened: tunnel=web node=envoy-1 cluster=web-cluster tenant=default' edge.log ||
  fail "edge log: $(cat edge.log)"
pass "scripted initiator on envoy_clusters [web-cluster] serves app.test"

# A tunnel without envoy_clusters is named by its own name.
initiator api --node envoy-2 --cluster api --tenant team-2 --token "$api_token" \
  --body "hello from the api initiator"
wait_for 30 fetch api.test || fail "no answer through the api initiator: $(cat api.out api.err edge.log)"
[ "$(fetch api.test)" = "hello from the api initiator" ] || fail "wrong body: $(fetch api.test)"
grep -q 'opened: tunnel=api node=envoy-2 cluster=api tenant=team-2' edge.log ||
  fail "edge log: $(cat edge.log)"
pass "scripted initiator on the default cluster (the tunnel name) serves api.test"

# 3. Refusals. expect_status STATUS WHAT ARG...: one initiator that must be
# answered STATUS.
expect_status() {
  local want=$1 what=$2; shift 2
  $PEER initiator --port "$agents_port" --ca pki/ca.crt --expect-status "$want" "$@" \
    >refused.out 2>refused.err &
  local pid=$!; PIDS+=("$pid")
  wait_exit "$pid" 20
  [ "$EXIT_CODE" = 0 ] ||
    fail "$what: expected $want ($EXIT_CODE): $(cat refused.out refused.err; tail -5 edge.log)"
  echo "   $what: $(cat refused.out)"
  pass "$what: $want"
}
valid=(--node envoy-3 --cluster web-cluster --tenant default)
# Not the handshake path: the h2 transport's acceptor answers it, with 404 too.
expect_status 404 "wrong path" "${valid[@]}" --token "$web_token" --path /other
expect_status 404 "wrong method" "${valid[@]}" --token "$web_token" --method POST
expect_status 400 "missing node header" "${valid[@]}" --token "$web_token" --omit-node
expect_status 401 "unknown token" "${valid[@]}" --token "$("$DIALBACK" token new)"
expect_status 404 "unknown cluster" --node envoy-3 --cluster no-such-cluster --tenant default \
  --token "$web_token"
expect_status 403 "another tunnel's token" "${valid[@]}" --token "$api_token"
# Over the failure budget: 429 with Retry-After, whatever the credentials.
expect_status 429 "over the failure budget" "${valid[@]}" --token "$web_token"
grep -q 'retry-after=[0-9]' refused.out || fail "429 without Retry-After: $(cat refused.out)"

# The sessions registered before still serve.
[ "$(fetch app.test)" = "hello from a scripted envoy initiator" ] || fail "app.test after refusals"
pass "registered initiators still serve after the refusals"
echo "envoy_interop_test: $PASSED passed, 0 failed"
