#!/usr/bin/env bash
# QUIC connection migration (docs/protocol.md §10, "Migration"): an agent
# with transport h3 reaches the edge's agents.quic through the loss relay
# (no loss, --delay 1ms). While a 64 MiB download (curl --limit-rate, about
# 5 s) and a slow chunked stream (a line every 50 ms, 10 s) are under
# way through the public port, SIGUSR1 makes the relay move the agent's flow
# to a new upstream port, as a NAT that rebinds does. Both responses must
# arrive whole (sha256, every line), the relay must have rebound the flow
# and seen no second one, and the session must have survived: the agent
# connected exactly one session and ended none, the edge opened one and
# closed none. About 8 s.
# DIALBACK, LOSS_RELAY: the binaries (ctest sets them).
LOSS_RELAY=${LOSS_RELAY:?path to the dialback-loss-relay binary}
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/quic_migration_peers.py"
cd "$WORK"

free_udp_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

head -c $((64 << 20)) /dev/urandom >big.bin
want_sha=$(sha256sum big.bin | cut -d' ' -f1)
service_port=$(free_port)
$PEERS service --port "$service_port" --file "$WORK/big.bin" &
PIDS+=($!)
wait_for 20 curl -sf -m 2 "http://127.0.0.1:$service_port/ready" || fail "local service did not start"

# The relay first: the agent's first Initial must find it. Its summary
# (stdout) goes to relay.out when it gets SIGTERM at the end.
quic_port=$(free_udp_port); relay_port=$(free_udp_port)
"$LOSS_RELAY" --udp "$relay_port:127.0.0.1:$quic_port" --delay 1ms --seed 1 \
  >relay.out 2>relay.err &
relay=$!; PIDS+=("$relay")
wait_for 10 grep -qx ready relay.out || fail "relay not ready: $(cat relay.err)"

# One session, so that both transfers ride the connection that migrates.
EDGE_AGENTS_YAML="quic: {listen: 127.0.0.1:$quic_port}" AGENT_EDGE="127.0.0.1:$relay_port" \
  start_tunnel "$service_port" --transport h3 --connections 1
ready() { curl -sf -m 2 -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/ready"; }
wait_for 30 ready || fail "tunnel over h3 did not come up: $(tail -n 5 edge.log agent.log relay.err)"
grep -q ' connected to ' agent.log || fail "no session line in agent.log: $(tail -n 5 agent.log)"

# Both transfers at once; -w leaves the status and size for the checks.
timeout 60 curl -sS -o big.out --limit-rate 12M -H 'Host: app.test' \
  -w '%{http_code} %{size_download}\n' "http://127.0.0.1:$PUBLIC_PORT/big.bin" >big.status 2>big.err &
big=$!; PIDS+=("$big")
timeout 60 curl -sS -N -o stream.out -H 'Host: app.test' \
  -w '%{http_code}\n' "http://127.0.0.1:$PUBLIC_PORT/stream" >stream.status 2>stream.err &
stream=$!; PIDS+=("$stream")

# Under way: a MiB of the download and two lines of the stream written.
under_way() { [ "$(size_of big.out)" -ge $((1 << 20)) ] && [ "$(wc -l <stream.out)" -ge 2 ]; }
wait_for 20 under_way ||
  fail "transfers did not get going: big.out $(size_of big.out) B, stream.out $(wc -l <stream.out 2>/dev/null) lines"
kill -USR1 "$relay"
at_rebind_big=$(size_of big.out) at_rebind_lines=$(wc -l <stream.out)
# Otherwise the rebind hit nothing in flight, and the test proves nothing.
if [ "$at_rebind_big" -ge $((64 << 20)) ] || grep -qx end stream.out; then
  fail "a transfer had finished before the rebind (big.out $at_rebind_big B, stream $at_rebind_lines lines)"
fi
wait_for 5 grep -q 'SIGUSR1: 1 UDP flows rebound' relay.err ||
  fail "the relay did not rebind one flow: $(cat relay.err)"
echo "rebound at $at_rebind_big B of the download and line $at_rebind_lines of the stream"

wait_exit "$big" 40
[ "$EXIT_CODE" = 0 ] || fail "download: curl exited $EXIT_CODE: $(cat big.err) $(tail -n 5 agent.log edge.log)"
wait_exit "$stream" 20
[ "$EXIT_CODE" = 0 ] || fail "stream: curl exited $EXIT_CODE: $(cat stream.err) $(tail -n 5 agent.log edge.log)"
[ "$(cat big.status)" = "200 $((64 << 20))" ] || fail "download: $(cat big.status)"
[ "$(sha256sum big.out | cut -d' ' -f1)" = "$want_sha" ] || fail "download: the sha256 differs"
[ "$(cat stream.status)" = 200 ] || fail "stream: status $(cat stream.status)"
diff <(seq 0 199 | sed 's/^/tick /'; echo end) stream.out >stream.diff ||
  fail "stream content differs: $(head -n 5 stream.diff)"

# The relay's summary: the flow was rebound, and no second flow came (a
# new agent connection would have come from another client port).
kill -TERM "$relay"
wait_exit "$relay" 10
[ "$EXIT_CODE" = 0 ] || fail "the relay exited with $EXIT_CODE on SIGTERM"
up=$(grep ' up: ' relay.out) || fail "no summary from the relay: $(cat relay.out)"
[[ " $up " == *" rebinds=1 "* ]] || fail "relay: no rebind in its summary: $up"
[[ " $up " == *" flows_total=1 "* ]] || fail "relay: more than one flow (a new connection?): $up"

# The session was not replaced.
connected=$(grep -c ' connected to ' agent.log || true)
[ "$connected" = 1 ] || fail "agent connected $connected sessions: $(grep -E 'connected|ended|reconnecting' agent.log)"
! grep -qE ' ended: |reconnecting' agent.log || fail "agent session ended: $(grep -E 'ended|reconnecting' agent.log)"
opened=$(grep -c ' opened: tunnel=web' edge.log || true)
[ "$opened" = 1 ] || fail "edge opened $opened sessions: $(grep -E 'opened|closed' edge.log)"
! grep -q 'session .* closed: ' edge.log || fail "edge closed the session: $(grep closed edge.log)"
echo "quic_migration_test: 1 passed, 0 failed"
