#!/usr/bin/env bash
# bench/quick.sh — dialback next to the direct path, in one run, on loopback.
#
# Measures, for a 1 KiB file served by nginx:
#   - wrk -t2 -c64 -d${LOAD_SECS}s: req/s, p50, p99, direct and through the
#     tunnel (h2 transport), alternating paths for ${ROUNDS} rounds;
#   - wrk -t1 -c1: p50 at one connection;
#   - idle RSS of the edge and the agent (2 sessions), and RSS after load;
#   - the time from `dialback demo` start to its first successful request.
# Everything listens on 127.0.0.1; every process is started here and stopped
# by pid; every load run is bounded by wrk's -d and `timeout`.
#
# Usage: bench/quick.sh [BUILD_DIR]   (default: build; run scripts/build first)
# Env: LOAD_SECS (10), ROUNDS (2). Installs nginx-light and wrk when missing (root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIALBACK=${1:-$ROOT/build}/apps/dialback/dialback
LOAD_SECS=${LOAD_SECS:-10}
ROUNDS=${ROUNDS:-2}
[ -x "$DIALBACK" ] || { echo "no $DIALBACK: run scripts/build first" >&2; exit 1; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "missing ${missing[*]}: apt-get install ${missing[*]}" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx's worker (www-data) serves files from it
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
wait_http() { local deadline=$((SECONDS + 10)); until curl -sf -o /dev/null "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.05; done; }

cd "$WORK"
backend_port=$(free_port); agents_port=$(free_port); public_port=$(free_port)
mkdir www && head -c 1024 /dev/urandom >www/1k.bin
cat >nginx.conf <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$backend_port; root $WORK/www; }
}
CONF
/usr/sbin/nginx -c "$WORK/nginx.conf" &
PIDS+=($!)
wait_http "http://127.0.0.1:$backend_port/1k.bin" || { cat nginx-error.log >&2; exit 1; }

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
cat >edge.yaml <<YAML
edge: {id: bench}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
"$DIALBACK" edge --config edge.yaml --log-level warn 2>edge.log &
edge=$!; PIDS+=("$edge")
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" --ca pki/ca.crt \
  --server-name localhost --connections 2 --log-level warn "http://127.0.0.1:$backend_port" 2>agent.log &
agent=$!; PIDS+=("$agent")
wait_http -H 'Host: app.test' "http://127.0.0.1:$public_port/1k.bin" ||
  { tail -n 5 edge.log agent.log >&2; exit 1; }
# Both agent sessions established before sampling idle memory.
deadline=$((SECONDS + 10))
until [ "$(ss -Htn state established "( dport = :$agents_port )" | wc -l)" -ge 2 ]; do
  [ $SECONDS -lt $deadline ] || { echo "agent sessions did not come up" >&2; exit 1; }
  sleep 0.05
done
echo "idle RSS: edge $(( $(rss_kb "$edge") / 1024 )) MiB, agent $(( $(rss_kb "$agent") / 1024 )) MiB"

load() {  # load NAME CONNS THREADS SECS URL [HEADER]
  local name=$1 conns=$2 threads=$3 secs=$4 url=$5; shift 5
  timeout $((secs + 10)) wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" "$url" >"wrk.out"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' wrk.out)
  p50=$(awk '$1 == "50%" {print $2}' wrk.out)
  p99=$(awk '$1 == "99%" {print $2}' wrk.out)
  errors=$(awk '/Non-2xx|Socket errors/ {print}' wrk.out | tr '\n' ' ')
  printf '%-8s c=%-3s req/s=%-10s p50=%-9s p99=%-9s %s\n' "$name" "$conns" "$rps" "$p50" "$p99" "$errors"
  echo "$name $conns $rps" >>results.txt
}
for round in $(seq 1 "$ROUNDS"); do
  echo "-- round $round"
  load direct 64 2 "$LOAD_SECS" "http://127.0.0.1:$backend_port/1k.bin"
  load tunnel 64 2 "$LOAD_SECS" "http://127.0.0.1:$public_port/1k.bin" -H 'Host: app.test'
done
load direct 1 1 5 "http://127.0.0.1:$backend_port/1k.bin"
load tunnel 1 1 5 "http://127.0.0.1:$public_port/1k.bin" -H 'Host: app.test'
echo "RSS after load: edge $(( $(rss_kb "$edge") / 1024 )) MiB, agent $(( $(rss_kb "$agent") / 1024 )) MiB"
awk '$2 == 64 { sum[$1] += $3; n[$1]++ }
     END { d = sum["direct"] / n["direct"]; t = sum["tunnel"] / n["tunnel"];
           printf "mean req/s at 64 connections: direct %.0f, tunnel %.0f, tunnel/direct %.2f\n", d, t, t / d }' results.txt

demo_port=$(free_port)
start=$(date +%s%N)
"$DIALBACK" demo --port "$demo_port" >/dev/null 2>&1 &
PIDS+=($!)
wait_http -H 'Host: demo.localhost' "http://127.0.0.1:$demo_port/echo"
echo "demo: start to first successful request $(( ($(date +%s%N) - start) / 1000000 )) ms"
