#!/usr/bin/env bash
# WebSocket through the real binaries: a python3-websockets client talks to
# a python3-websockets echo server through edge and agent (extended CONNECT
# in the tunnel, HTTP/1.1 Upgrade on both ends).
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/websocket_peers.py"
cd "$WORK"
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
  fail "python3-websockets is missing (scripts/setup installs it)"

service_port=$(free_port)
$PEERS server --port "$service_port" 2>service.log &
PIDS+=($!)
start_tunnel "$service_port"
# A plain GET reaches the WebSocket server through the tunnel and is refused
# with 426 as a normal response: then both the tunnel and the service are up.
status() { curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/echo"; }
ready() { [ "$(status)" = 426 ]; }
wait_for 30 ready || fail "tunnel or service did not come up ($(status)): $(tail -n 3 edge.log agent.log service.log)"
rounds=${WS_ROUNDS:-100}
direct=$($PEERS client --port "$service_port" --host app.test --rounds "$rounds") ||
  fail "websocket echo direct failed: $direct"
tunnel=$($PEERS client --port "$PUBLIC_PORT" --host app.test --rounds "$rounds") ||
  fail "websocket echo through the tunnel failed: $(tail -n 5 edge.log agent.log service.log)"
echo "direct: $(echo "$direct" | grep rtt_us)"
echo "tunnel: $(echo "$tunnel" | grep rtt_us)"
# The edge logs an upgraded exchange when its relay ends, which may be just
# after the client has closed: poll for the line.
wait_for 10 grep -q 'upgrade=websocket' edge.log || fail "edge access log lacks the upgrade: $(tail -n 3 edge.log)"
echo "websocket_test: 1 passed, 0 failed"
