#!/usr/bin/env bash
# gRPC end to end with Debian's python3-grpcio on both sides: a public gRPC
# client over TLS (ALPN h2) and over h2c reaches a gRPC server behind the
# agent. Unary and bidirectional streaming calls, status codes, messages and
# trailing metadata intact. The agent needs no flag: gRPC calls go to the
# local service over h2c on their content type. Prints round-trip times
# through the tunnel next to direct (grpc_peers.py).
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/grpc_peers.py"
cd "$WORK"

service_port=$(free_port)
$PEERS server "$service_port" >service.log 2>&1 &
PIDS+=($!)
wait_for 30 grep -q ready service.log || fail "gRPC server did not start: $(cat service.log)"
start_tunnel "$service_port"
# Up once the edge answers with anything but 503 (no session yet); curl's
# 000 means the edge is not listening yet.
ready() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/")
  [ "$code" != 000 ] && [ "$code" != 503 ]
}
wait_for 30 ready || fail "tunnel did not come up: $(tail -n 3 edge.log agent.log)"

rounds=${GRPC_ROUNDS:-50}
direct=$(timeout 60 $PEERS client "127.0.0.1:$service_port" app.test "" "$rounds") ||
  fail "gRPC direct: $direct"
tls=$(timeout 60 $PEERS client "127.0.0.1:$HTTPS_PORT" app.test pki/ca.crt "$rounds") ||
  fail "gRPC through the tunnel over TLS: $tls $(tail -n 5 edge.log agent.log)"
h2c=$(timeout 60 $PEERS client "127.0.0.1:$PUBLIC_PORT" app.test "" "$rounds") ||
  fail "gRPC through the tunnel over h2c: $h2c $(tail -n 5 edge.log agent.log)"
echo "direct:       $(echo $direct)"
echo "tunnel (TLS): $(echo $tls)"
echo "tunnel (h2c): $(echo $h2c)"
echo "grpc_test: 3 passed, 0 failed"
