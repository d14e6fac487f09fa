#!/usr/bin/env bash
# Server-sent events reach the public client as the local service flushes
# them: event "one" must arrive while the service still withholds "two".
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/sse_peers.py"
cd "$WORK"

service_port=$(free_port)
$PEERS server --port "$service_port" --gate "$WORK/gate" &
PIDS+=($!)
start_tunnel "$service_port"
ready() { [ "$(curl -s -I -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/")" = 501 ]; }
wait_for 30 ready || fail "tunnel did not come up: $(tail -n 3 edge.log agent.log)"
$PEERS client --port "$PUBLIC_PORT" --host app.test --gate "$WORK/gate" ||
  fail "SSE events were held back: $(tail -n 5 edge.log agent.log)"
echo "sse_test: 1 passed, 0 failed"
