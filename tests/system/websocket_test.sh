#!/usr/bin/env bash
# WebSocket through the real binaries: a python3-websockets client talks to
# a python3-websockets echo server through edge and agent (extended CONNECT
# in the tunnel, HTTP/1.1 Upgrade on both ends).
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/websocket_peers.py"
cd "$WORK"
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
  fail "python3-websockets is missing (scripts/setup installs it)"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
agents_port=$(free_port); public_port=$(free_port); service_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-ws}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
$PEERS server --port "$service_port" 2>service.log &
PIDS+=($!)
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" \
  --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" 2>agent.log &
PIDS+=($!)
# A plain GET reaches the WebSocket server through the tunnel and is refused
# with 426 as a normal response: then both the tunnel and the service are up.
status() { curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$public_port/echo"; }
ready() { [ "$(status)" = 426 ]; }
wait_for 10 ready || fail "tunnel or service did not come up ($(status)): $(tail -n 3 edge.log agent.log service.log)"
$PEERS client --port "$public_port" --host app.test ||
  fail "websocket echo through the tunnel failed: $(tail -n 5 edge.log agent.log service.log)"
grep -q 'upgrade=websocket' edge.log || fail "edge access log lacks the upgrade: $(tail -n 3 edge.log)"
echo "websocket_test: 1 passed, 0 failed"
