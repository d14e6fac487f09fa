#!/usr/bin/env bash
# Server-sent events reach the public client as the local service flushes
# them: event "one" must arrive while the service still withholds "two".
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/sse_peers.py"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
agents_port=$(free_port); public_port=$(free_port); service_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-sse}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
$PEERS server --port "$service_port" --gate "$WORK/gate" &
PIDS+=($!)
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" \
  --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" 2>agent.log &
PIDS+=($!)
ready() { [ "$(curl -s -I -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$public_port/")" = 501 ]; }
wait_for 10 ready || fail "tunnel did not come up: $(tail -n 3 edge.log agent.log)"
$PEERS client --port "$public_port" --host app.test --gate "$WORK/gate" ||
  fail "SSE events were held back: $(tail -n 5 edge.log agent.log)"
echo "sse_test: 1 passed, 0 failed"
