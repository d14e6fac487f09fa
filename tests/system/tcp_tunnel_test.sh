#!/usr/bin/env bash
# Raw TCP tunnels with real programs that no dialback code speaks: one edge
# with three tcp-only tunnels (no public HTTP listener at all) and three
# agents (--tcp), each relaying to a real service:
#   ssh    OpenSSH: `ssh` through the tunnel to a private sshd runs a command;
#   redis  redis-server: redis-cli SET/GET, then redis-benchmark (the server
#          counts the commands, so they did go through);
#   dev    a port leased on demand (allocate, `--port auto`): the agent
#          prints what it got, and a transfer goes through it;
#   bulk   1 GiB (256 MiB in sanitizer builds) from a sender to a hashing
#          sink, intact (sha256), with the edge's and the agent's VmRSS
#          growth under 64 MiB (asserted in regular builds only: ASan's
#          quarantine is not buffering).
# The access log names the public client's address; a stopped target closes
# the public connection with a 502 in the log.
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/tcp_peers.py"
SSHD=/usr/sbin/sshd
for tool in "$SSHD" ssh ssh-keygen redis-server redis-cli redis-benchmark; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
cd "$WORK"

sanitized=0
if ldd "$DIALBACK" 2>/dev/null | grep libasan >/dev/null; then sanitized=1; fi
if [ $sanitized = 1 ]; then bulk_bytes=$((256 << 20)); else bulk_bytes=$((1 << 30)); fi

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
agents_port=$(free_port)
ssh_public=$(free_port); redis_public=$(free_port); bulk_public=$(free_port)
ssh_port=$(free_port); redis_port=$(free_port); bulk_port=$(free_port)
dev_port=$(free_port)  # a range of one port for tunnel dev
hash=$("$DIALBACK" token hash "$token")
cat >edge.yaml <<YAML
edge: {id: edge-tcp}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
tunnels:
  ssh: {tcp: ["127.0.0.1:$ssh_public"], auth: {tokens: ["$hash"]}}
  redis: {tcp: ["127.0.0.1:$redis_public"], auth: {tokens: ["$hash"]}}
  bulk: {tcp: ["127.0.0.1:$bulk_public"], auth: {tokens: ["$hash"]}}
  dev: {allocate: {ports: "$dev_port", bind: 127.0.0.1}, auth: {tokens: ["$hash"]}}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
edge_pid=$!; PIDS+=($edge_pid)
start_agent() {  # TUNNEL TARGET_PORT [ARG...]
  local tunnel=$1 target=$2; shift 2
  "$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel "$tunnel" --token "$token" \
    --ca pki/ca.crt --server-name localhost --connections 1 --tcp "127.0.0.1:$target" "$@" \
    2>"agent-$tunnel.log" &
  PIDS+=($!)
}
start_agent ssh "$ssh_port"
start_agent redis "$redis_port"
start_agent bulk "$bulk_port"
bulk_agent_pid=${PIDS[-1]}
start_agent dev "$bulk_port" --port auto

# The services.
ssh-keygen -q -t ed25519 -N '' -f host_key
ssh-keygen -q -t ed25519 -N '' -f client_key
cp client_key.pub authorized_keys
cat >sshd_config <<CONF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $PWD/host_key
PidFile $PWD/sshd.pid
AuthorizedKeysFile $PWD/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin yes
CONF
[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd  # privilege separation directory
"$SSHD" -D -e -f "$PWD/sshd_config" 2>sshd.log &
PIDS+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --protected-mode no --logfile "$PWD/redis.log" &
PIDS+=($!)
$PEERS sink "$bulk_port" &
sink_pid=$!; PIDS+=($sink_pid)

wait_for 20 grep -q "tunnel bulk raw TCP on" edge.log || fail "edge did not start: $(cat edge.log)"
for tunnel in ssh redis bulk dev; do
  wait_for 20 grep -q "connected to" "agent-$tunnel.log" ||
    fail "agent $tunnel did not connect: $(cat "agent-$tunnel.log")"
done
wait_for 20 redis-cli -h 127.0.0.1 -p "$redis_port" ping || fail "redis-server did not start"
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ssh_port" || fail "sshd did not start: $(cat sshd.log)"

# 1. OpenSSH through the tunnel runs a command.
out=$(timeout 30 ssh -p "$ssh_public" -i client_key -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$(id -un)@127.0.0.1" \
  'echo "ssh through dialback: $((6 * 7))"') || fail "ssh through the tunnel failed: $out"
[ "$out" = "ssh through dialback: 42" ] || fail "ssh printed: $out"
echo "ssh: $out"

# 2. redis: SET/GET, then redis-benchmark; the server counts what arrived.
[ "$(timeout 10 redis-cli -h 127.0.0.1 -p "$redis_public" set tunnel dialback)" = OK ] ||
  fail "redis SET through the tunnel failed"
[ "$(timeout 10 redis-cli -h 127.0.0.1 -p "$redis_public" get tunnel)" = dialback ] ||
  fail "redis GET through the tunnel failed"
before=$(redis-cli -h 127.0.0.1 -p "$redis_port" info stats | awk -F: '/^total_commands_processed/ {print $2+0}')
bench=$(timeout 60 redis-benchmark -h 127.0.0.1 -p "$redis_public" -t set,get -n 20000 -c 8 -q 2>&1) ||
  fail "redis-benchmark failed: $bench"
after=$(redis-cli -h 127.0.0.1 -p "$redis_port" info stats | awk -F: '/^total_commands_processed/ {print $2+0}')
echo "$bench" | tr '\r' '\n' | grep "requests per second" | sed 's/^/redis-benchmark: /'
[ $((after - before)) -ge 40000 ] || fail "redis-server processed $((after - before)) commands, expected >= 40000"

# 3. A port leased on demand: the agent prints it, and it carries bytes.
wait_for 10 grep -q "granted tunnel dev: tcp://127.0.0.1:$dev_port" agent-dev.log ||
  fail "the dev agent did not print its port: $(cat agent-dev.log)"
grep "granted tunnel dev" agent-dev.log | head -1 | sed 's/.*\] /dev: /'
answer=$(timeout 30 $PEERS send "$dev_port" 1048576) || fail "transfer through the leased port: $answer"

# 4. Bulk: intact, with bounded RSS.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
baseline_edge=$(rss_kib "$edge_pid"); baseline_agent=$(rss_kib "$bulk_agent_pid")
(while :; do echo "$(rss_kib "$edge_pid") $(rss_kib "$bulk_agent_pid")"; sleep 0.2; done) >rss.log &
sampler=$!; PIDS+=($sampler)
started=$SECONDS
answer=$(timeout 300 $PEERS send "$bulk_public" "$bulk_bytes") || fail "bulk transfer not intact: $answer"
seconds=$((SECONDS - started))
kill "$sampler"
read -r peak_edge peak_agent < <(awk '{if ($1 > e) e = $1; if ($2 > a) a = $2} END {print e, a}' rss.log)
growth_edge=$(((peak_edge - baseline_edge) / 1024)); growth_agent=$(((peak_agent - baseline_agent) / 1024))
echo "bulk: $((bulk_bytes >> 20)) MiB intact in ${seconds}s; RSS growth edge ${growth_edge} MiB, agent ${growth_agent} MiB ($(wc -l <rss.log) samples)"
if [ $sanitized = 0 ]; then
  [ "$growth_edge" -lt 64 ] || fail "edge RSS grew by $growth_edge MiB: it buffers"
  [ "$growth_agent" -lt 64 ] || fail "agent RSS grew by $growth_agent MiB: it buffers"
fi

# 5. The access log names the public client (address and port) and the bytes.
wait_for 10 grep -q "\"CONNECT 127.0.0.1:$bulk_public\" 200 .* tunnel=bulk .* up=$bulk_bytes " edge.log ||
  fail "no access line for the bulk connection: $(grep CONNECT edge.log | tail -3)"
grep -q " 127.0.0.1:[0-9]* \"CONNECT 127.0.0.1:$ssh_public\" 200 " edge.log ||
  fail "the ssh connection's access line has no client address"

# 6. A target that is gone: the public connection closes, the edge logs 502.
kill "$sink_pid"
wait_for 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$bulk_port)" || fail "sink still listening"
closed=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$bulk_public; cat <&3; echo closed") ||
  fail "the public connection was not closed"
[ "$closed" = closed ] || fail "unexpected bytes from a dead target: $closed"
wait_for 10 grep -q "\"CONNECT 127.0.0.1:$bulk_public\" 502 " edge.log || fail "no 502 access line"
echo "PASS"
