#!/usr/bin/env bash
# One agent dialing two edges (`--edge` twice), under a stream of requests
# through both: edge A is killed with SIGKILL mid-stream. Only the requests in
# flight on A at that moment may fail; edge B keeps serving every request;
# after A is restarted on the same ports the agent redials it and requests
# through A succeed again. The load generator (two_edges_peers.py load) does
# the kill itself, so it knows which requests were in flight.
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/two_edges_peers.py"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
hash=$("$DIALBACK" token hash "$token")

# edge_config NAME AGENTS_PORT PUBLIC_PORT: NAME.yaml, tunnel "web" for app.test.
edge_config() {
  cat >"$1.yaml" <<YAML
edge: {id: $1}
agents: {listen: 127.0.0.1:$2, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$3}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$hash"]}}
YAML
}
agents_a=$(free_port); public_a=$(free_port); agents_b=$(free_port); public_b=$(free_port)
edge_config edge-a "$agents_a" "$public_a"
edge_config edge-b "$agents_b" "$public_b"

service_port=$(free_port)
$PEERS service --port "$service_port" --delay-ms 30 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$service_port/x" || fail "local service did not start"

"$DIALBACK" edge --config edge-a.yaml 2>edge-a.log &
edge_a=$!; PIDS+=("$edge_a")
"$DIALBACK" edge --config edge-b.yaml 2>edge-b.log &
PIDS+=($!)
"$DIALBACK" agent --edge "127.0.0.1:$agents_a" --edge "127.0.0.1:$agents_b" --tunnel web \
  --token "$token" --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" \
  2>agent.log &
agent=$!; PIDS+=("$agent")

# Ready: both sessions (--connections defaults to 2) registered on each edge,
# and each edge answers through the tunnel.
sessions() { grep -c ' opened: tunnel=web' "$1" || true; }
ready() {
  [ "$(sessions edge-a.log)" -ge 2 ] && [ "$(sessions edge-b.log)" -ge 2 ] &&
    curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$public_a/ready" >/dev/null &&
    curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$public_b/ready" >/dev/null
}
wait_for 30 ready || fail "tunnel did not come up on both edges: $(tail -n 5 edge-a.log edge-b.log agent.log)"

$PEERS load --port-a "$public_a" --port-b "$public_b" --host app.test --kill-pid "$edge_a" \
  --restart restart --restarted restarted --out results 2>failures.log &
load=$!; PIDS+=("$load")

# The load generator has killed edge A and asks for it back: restart it on
# the same ports and tell it once A's agent listener accepts again.
wait_for 20 test -e restart || fail "load generator never asked for the restart: $(cat failures.log)"
wait "$edge_a" 2>/dev/null || true
kill -0 "$agent" || fail "the agent died with edge A: $(tail -n 20 agent.log)"
"$DIALBACK" edge --config edge-a.yaml 2>edge-a2.log &
PIDS+=($!)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$agents_a" ||
  fail "restarted edge A did not listen: $(cat edge-a2.log)"
touch restarted

wait_exit "$load" 40
[ "$EXIT_CODE" = 0 ] || fail "load generator failed ($EXIT_CODE): $(cat failures.log)"
source results
cat failures.log >&2
echo "A: $A_SENT sent, $A_OK ok, $A_FAILED failed ($A_OK_AFTER ok after the restart);" \
  "B: $B_SENT sent, $B_OK ok, $B_FAILED failed ($B_OK_DOWN ok while A was down);" \
  "kill at ${KILL_AFTER_S}s, A down ${DOWN_S}s, served again ${SERVED_AFTER_S:-never}s after the restart ($PROBES probes)"

[ "$KILLED_IN_FLIGHT" -ge 1 ] || fail "no request was in flight on edge A at the kill"
[ "$B_FAILED" = 0 ] || fail "$B_FAILED requests through edge B failed: $(grep 'edge B' failures.log | head)"
[ "$B_OK_DOWN" -ge 1 ] || fail "edge B served nothing while edge A was down"
[ "$A_FAILED" = "$A_FAILED_IN_FLIGHT" ] ||
  fail "$((A_FAILED - A_FAILED_IN_FLIGHT)) failures on edge A were not in flight at the kill: $(cat failures.log)"
[ "$RESTARTED" = 1 ] || fail "edge A was not restarted"
[ -n "$SERVED_AFTER_S" ] ||
  fail "no answer through the restarted edge A after 20 s (last: $LAST_PROBE): $(tail -n 10 agent.log edge-a2.log)"
[ "$A_OK_AFTER" -ge 1 ] || fail "no load request through edge A succeeded after the restart"
[ "$(sessions edge-a2.log)" -ge 1 ] || fail "the agent did not register with the restarted edge A"
kill -0 "$agent" || fail "the agent exited: $(tail -n 20 agent.log)"

echo "two_edges_test: killed edge A with $KILLED_IN_FLIGHT requests in flight;" \
  "failed: $A_FAILED (all on A, all in flight); edge B: $B_OK ok / $B_FAILED failed;" \
  "A served again ${SERVED_AFTER_S}s after its restart"
echo "two_edges_test: 1 passed, 0 failed"
