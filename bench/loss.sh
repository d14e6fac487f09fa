#!/usr/bin/env bash
# bench/loss.sh — dialback's h2 transport (HTTP/2 over TCP) against its h3
# transport (HTTP/3 over QUIC) on a lossy path between agent and edge.
#
# The path is bench/loss_relay (dialback-loss-relay) between agent and edge:
# UDP for h3 (datagrams really dropped, and QUIC's congestion control sees
# it), TCP for h2 (the relay's simulated loss recovery: head-of-line delay,
# but TCP's congestion control never reacts, so h2 bulk figures under loss
# are optimistic; see bench/loss_relay/README.md). --delay $DELAY one way
# each direction (10ms: 20 ms added RTT). The public side (wrk, curl to the
# edge) and the local service (nginx, /1k.bin and /big.bin) are loopback
# without impairment. The loss rate "direct" leaves the relay out: agent
# and edge on a clean loopback, no added delay.
#
# Per loss rate, transport and round, with a fresh edge, relay and agent:
#   - wrk -t2 -c64 for LOAD_SECS on /1k.bin (after a 1 s warm-up): req/s,
#     p50, p99; edge+agent CPU per 100k requests;
#   - one curl download of BIG_MIB MiB: MB/s (10^6 B/s), bounded by
#     BULK_SECS; a download cut off there counts with the bytes it got
#     (flagged *); edge / agent CPU % during it;
#   - the relay's counters (lost datagrams or segments), in raw.txt.
# The transports alternate order round by round (odd rounds h2 first).
# Output: a markdown table, medians over rounds, with h3/h2 ratios per loss
# rate; raw lines ("TRANSPORT LOSS ROUND METRIC VALUE") in $OUT/raw.txt.
#
# Usage: bench/loss.sh [BUILD_DIR]   (default: build; needs
#        BUILD_DIR/apps/dialback/dialback and
#        BUILD_DIR/bench/loss_relay/dialback-loss-relay)
# Env:   LOAD_SECS (10)   length of the c64 run
#        ROUNDS (2)       rounds
#        LOSSES ("direct 0 0.01 0.02 0.05")  loss probabilities, per
#                         direction; "direct": no relay at all
#        DELAY (10ms)     one-way delay the relay adds, each direction
#        BIG_MIB (64)     size of the download
#        BULK_SECS (60)   curl --max-time of the download
#        CONNECTIONS (2)  agent sessions (the agent's default)
#        SEED (1)         the relay's --seed
#        SMOKE=1          seconds-long run for CI: LOAD_SECS=1 ROUNDS=1
#                         BIG_MIB=4 BULK_SECS=15
#        OUT              directory for report.md and raw.txt (default: temp)
# Installs from Debian when missing (root): nginx-light wrk curl. Everything
# listens on 127.0.0.1; every process it starts is recorded by pid and
# stopped by pid (trap on exit); every run is bounded by wrk -d, curl
# --max-time and `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${1:-$ROOT/build}
DIALBACK=$BUILD/apps/dialback/dialback
RELAY=$BUILD/bench/loss_relay/dialback-loss-relay
if [ "${SMOKE:-0}" = 1 ]; then
  LOAD_SECS=${LOAD_SECS:-1}; ROUNDS=${ROUNDS:-1}; BIG_MIB=${BIG_MIB:-4}; BULK_SECS=${BULK_SECS:-15}
fi
LOAD_SECS=${LOAD_SECS:-10}
ROUNDS=${ROUNDS:-2}
LOSSES=${LOSSES:-direct 0 0.01 0.02 0.05}
DELAY=${DELAY:-10ms}
BIG_MIB=${BIG_MIB:-64}
BULK_SECS=${BULK_SECS:-60}
CONNECTIONS=${CONNECTIONS:-2}
SEED=${SEED:-1}
TRANSPORTS="h2 h3"
LO=127.0.0.1
HZ=$(getconf CLK_TCK)
for binary in "$DIALBACK" "$RELAY"; do
  [ -x "$binary" ] || { echo "no $binary: run scripts/build first, or pass BUILD_DIR" >&2; exit 1; }
done
log() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ install
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing ${missing[*]}: apt-get install ${missing[*]} (as root)"; exit 1; }
  log "installing ${missing[*]}"
  # Debian's policy-rc.d: nginx must not start its daemon on port 80; this
  # script runs its own instance.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { timeout 300 apt-get update >/dev/null && timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  [ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
fi

# ------------------------------------------------------------------ processes
WORK=$(mktemp -d)
chmod 755 "$WORK"  # nginx's worker (www-data) serves files from it
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
KEEP_OUT=0; case $OUT in "$WORK"/*) ;; *) KEEP_OUT=1 ;; esac
PIDS=()  # every process started here
cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"   # OUT survives when it was given outside WORK
}
trap cleanup EXIT
trap 'exit 130' INT TERM
SPAWNED=0
spawn() {  # spawn LOGNAME CMD...: background CMD (stdout and stderr to LOGNAME.log), SPAWNED=its pid
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  SPAWNED=$!; PIDS+=($!)
}
free_udp_port() { python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL [curl args]: until a 200 (15 s)
  local url=$1 deadline=$((SECONDS + 15)); shift
  until [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$@" "$url" || true)" = 200 ]; do
    [ $SECONDS -lt $deadline ] || return 1; sleep 0.05
  done
}
ticks() {  # summed utime+stime (+ reaped children) of the trees of the given pids
  local t=0 p s fld
  for p in $(tree "$@"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }; read -ra fld <<<"$s"   # fld[0] is field 3; utime (14) is fld[11]
    t=$((t + fld[11] + fld[12] + fld[13] + fld[14]))
  done
  echo $t
}
pct_of() {  # pct_of TICKS SECONDS: % of one core
  awk -v d="$1" -v hz="$HZ" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? 100 * d / hz / t : 0) }'
}

# ------------------------------------------------------------------ fixtures
cd "$WORK"
BACKEND_PORT=$(free_port)
mkdir www && head -c 1024 /dev/urandom >www/1k.bin
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >www/big.bin
BIG_BYTES=$((BIG_MIB * 1024 * 1024))
chmod 755 www; chmod 644 www/*.bin
mkdir -p nginx-tmp
cat >nginx.conf <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $WORK/nginx-tmp/body;
  proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
  scgi_temp_path $WORK/nginx-tmp/scgi;
  server { listen $LO:$BACKEND_PORT; root $WORK/www; }
}
CONF
spawn nginx /usr/sbin/nginx -p "$WORK" -c "$WORK/nginx.conf"
wait_http "http://$LO:$BACKEND_PORT/1k.bin" || { cat nginx-error.log nginx.log >&2; exit 1; }

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
TOKEN=$("$DIALBACK" token new)
TOKEN_HASH=$("$DIALBACK" token hash "$TOKEN")

# ------------------------------------------------------------------ one cell
# start_cell TRANSPORT LOSS: edge (TLS and QUIC agent listeners), the relay in
# front of the listener TRANSPORT uses, an agent dialing the relay; sets URL,
# CELL_PIDS, EDGE_PID, AGENT_PID, RELAY_PID.
start_cell() {
  local transport=$1 loss=$2 agents_port quic_port pub relay_port forward
  agents_port=$(free_port); quic_port=$(free_udp_port); pub=$(free_port)
  cat >edge.yaml <<YAML
edge: {id: bench}
agents: {listen: $LO:$agents_port, cert: pki/edge.crt, key: pki/edge.key, quic: {listen: $LO:$quic_port}}
public: {http: $LO:$pub}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$TOKEN_HASH"]}}
YAML
  CELL_PIDS=()
  spawn edge "$DIALBACK" edge --config edge.yaml --log-level warn
  EDGE_PID=$SPAWNED; CELL_PIDS+=("$SPAWNED")
  local deadline
  RELAY_PID=""
  : >relay.log
  if [ "$loss" = direct ]; then  # no relay: the agent dials the edge
    relay_port=$agents_port; [ "$transport" = h3 ] && relay_port=$quic_port
  else
    if [ "$transport" = h3 ]; then
      relay_port=$(free_udp_port); forward=(--udp "$relay_port:$LO:$quic_port")
    else
      relay_port=$(free_port); forward=(--tcp "$relay_port:$LO:$agents_port")
    fi
    spawn relay "$RELAY" "${forward[@]}" --loss "$loss" --delay "$DELAY" --seed "$SEED"
    RELAY_PID=$SPAWNED; CELL_PIDS+=("$SPAWNED")
    deadline=$((SECONDS + 10))
    until grep -qx ready relay.log; do
      [ $SECONDS -lt $deadline ] || { log "relay not ready: $(cat relay.log)"; return 1; }
      sleep 0.05
    done
  fi
  spawn agent "$DIALBACK" agent --edge "$LO:$relay_port" --transport "$transport" --tunnel web \
    --token "$TOKEN" --ca pki/ca.crt --server-name localhost --connections "$CONNECTIONS" \
    --log-level warn "http://$LO:$BACKEND_PORT"
  AGENT_PID=$SPAWNED; CELL_PIDS+=("$SPAWNED")
  URL=http://$LO:$pub
  # Every session's socket to the relay up (connected UDP sockets count as
  # established too), then a 200 through the tunnel. Registration right
  # after is covered by the warm-up run.
  local proto=-t; [ "$transport" = h3 ] && proto=-u
  deadline=$((SECONDS + 20))
  until [ "$(ss -Hn "$proto" state established "( dport = :$relay_port )" | wc -l)" -ge "$CONNECTIONS" ]; do
    [ $SECONDS -lt $deadline ] || { log "$transport: $CONNECTIONS sessions did not come up"; break; }
    sleep 0.05
  done
  wait_http "$URL/1k.bin" -H 'Host: app.test' ||
    { log "$transport loss $loss: no 200 through the tunnel"; tail -n 5 edge.log agent.log relay.log >&2; return 1; }
}

# check_alive: for each of edge, agent and relay that is gone by now, logs its
# exit status and log tail and emits died_ROLE: its figures are cut short,
# and a crash is a bug to report, not a slow transport.
check_alive() {
  local role pid status
  for role in edge agent ${RELAY_PID:+relay}; do
    case $role in edge) pid=$EDGE_PID ;; agent) pid=$AGENT_PID ;; *) pid=$RELAY_PID ;; esac
    [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && continue
    status=0; wait "$pid" 2>/dev/null || status=$?
    log "  $CUR_T loss $CUR_LOSS: the $role exited with status $status$([ "$status" -gt 128 ] && echo " (signal $((status - 128)))"): $(tail -n 3 "$role.log")"
    emit "died_$role" "$status"
  done
}

# stop_cell: SIGTERM to all three (the relay's summary lands in relay.log).
stop_cell() {
  stop_pids "${CELL_PIDS[@]}"
  CELL_PIDS=()
}

emit() { echo "$CUR_T $CUR_LOSS $CUR_ROUND $1 $2" >>"$OUT/raw.txt"; }
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
wrk_run() {  # wrk_run SECS: wrk -t2 -c64 on /1k.bin, output in wrk.out
  timeout $(($1 + 30)) wrk -t2 -c64 -d"$1s" --timeout 10s --latency -H 'Host: app.test' "$URL/1k.bin" >wrk.out 2>&1 || true
}
wrk_field() { case $1 in
  rps) awk '/^Requests\/sec/ {print $2}' wrk.out ;;
  requests) awk '/requests in/ {print $1}' wrk.out ;;
  p50) to_ms "$(awk '$1 == "50%" {print $2}' wrk.out)" ;;
  p99) to_ms "$(awk '$1 == "99%" {print $2}' wrk.out)" ;;
  errors) awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) e += $i} END {print e + 0}' wrk.out ;;
esac; }

measure() {
  local t0 t1 req rps
  wrk_run 1  # warm-up: sessions registered, connections, windows, congestion windows
  t0=$(ticks "$EDGE_PID" "$AGENT_PID")
  wrk_run "$LOAD_SECS"
  t1=$(ticks "$EDGE_PID" "$AGENT_PID")
  rps=$(wrk_field rps); req=$(wrk_field requests)
  emit rps "${rps:-0}"; emit p50 "$(wrk_field p50)"; emit p99 "$(wrk_field p99)"; emit errors "$(wrk_field errors)"
  [ "${req:-0}" -gt 0 ] && emit cpu_s_100k "$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="$req" 'BEGIN { printf "%.3f", d / hz / r * 100000 }')"
  # bulk: one download, cut off at BULK_SECS (curl exit 28) with what it got
  local e0 a0 r0 dl code size secs
  e0=$(ticks "$EDGE_PID"); a0=$(ticks "$AGENT_PID"); r0=$(ticks "$RELAY_PID")
  dl=$(timeout $((BULK_SECS + 15)) curl -s -o /dev/null --max-time "$BULK_SECS" -H 'Host: app.test' \
    -w '%{http_code} %{size_download} %{time_total}' "$URL/big.bin" || true)
  read -r code size secs <<<"$dl"
  if [ "$code" = 200 ] && [ "${size:-0}" -gt 0 ]; then
    emit down_mbs "$(awk -v b="$size" -v t="$secs" 'BEGIN { printf "%.2f", b / t / 1e6 }')"
    [ "$size" = "$BIG_BYTES" ] || emit down_partial 1
    emit edge_down_cpu_pct "$(pct_of $(( $(ticks "$EDGE_PID") - e0 )) "$secs")"
    emit agent_down_cpu_pct "$(pct_of $(( $(ticks "$AGENT_PID") - a0 )) "$secs")"
    emit relay_down_cpu_pct "$(pct_of $(( $(ticks "$RELAY_PID") - r0 )) "$secs")"
  else
    log "  $CUR_T loss $CUR_LOSS: download failed: $dl"
  fi
}

# relay_counters: after stop_cell, the relay's lost/total per direction.
relay_counters() {
  awk -v t="$CUR_T" '
    t == "h3" && $1 == "udp" { d = $5; sub(":", "", d); for (i = 6; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] }
                               printf "%s_lost %d\n%s_units %d\n", d, c["lost"], d, c["passed"] + c["dropped"] }
    t == "h2" && $1 == "tcp" { d = $5; sub(":", "", d); for (i = 6; i <= NF; i++) { split($i, kv, "="); c[kv[1]] = kv[2] }
                               printf "%s_lost %d\n%s_units %d\n", d, c["lost"], d, c["segments"] }' relay.log
}

# ------------------------------------------------------------------ run
: >"$OUT/raw.txt"
{
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
  echo "# dialback $("$DIALBACK" --version 2>/dev/null | head -1), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///'), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}'), curl $(curl --version | awk 'NR == 1 {print $2}')"
  echo "# LOAD_SECS=$LOAD_SECS ROUNDS=$ROUNDS LOSSES=\"$LOSSES\" DELAY=$DELAY BIG_MIB=$BIG_MIB BULK_SECS=$BULK_SECS CONNECTIONS=$CONNECTIONS SEED=$SEED"
} >"$OUT/header.txt"
cat "$OUT/header.txt" >&2
read -ra loss_list <<<"$LOSSES"
for round in $(seq 1 "$ROUNDS"); do
  order=(h2 h3); [ $((round % 2)) = 0 ] && order=(h3 h2)
  log "-- round $round: ${order[*]}"
  for loss in "${loss_list[@]}"; do
    for t in "${order[@]}"; do
      CUR_T=$t CUR_LOSS=$loss CUR_ROUND=$round
      if start_cell "$t" "$loss"; then
        measure || log "$t loss $loss: measurement failed"
        check_alive
      else
        emit start_failed 1
      fi
      stop_cell
      relay_counters | while read -r metric value; do emit "$metric" "$value"; done
      log "  $t loss $loss: $(awk -v t="$t" -v l="$loss" -v r="$round" '$1 == t && $2 == l && $3 == r { printf "%s=%s ", $4, $5 }' "$OUT/raw.txt")"
      sleep 1  # TIME_WAIT and the kernel's UDP buffers settle before the next cell
    done
  done
done

awk -v losses="$LOSSES" -f "$ROOT/bench/loss_table.awk" "$OUT/raw.txt" >"$OUT/table.md"
{ cat "$OUT/header.txt"; echo; cat "$OUT/table.md"; } | tee "$OUT/report.md"
[ $KEEP_OUT = 1 ] || log "(set OUT=DIR to keep raw.txt and report.md)"
# Smoke check for CI: every transport produced req/s and a download at every
# loss rate, and no edge, agent or relay died on the way.
status=0
if grep -q ' died_' "$OUT/raw.txt"; then log "a process died: $(grep ' died_' "$OUT/raw.txt" | tr '\n' ';')"; status=1; fi
for loss in "${loss_list[@]}"; do
  for t in $TRANSPORTS; do
    for metric in rps down_mbs; do
      awk -v t="$t" -v l="$loss" -v m="$metric" '$1 == t && $2 == l && $4 == m && $5 > 0 { ok = 1 } END { exit !ok }' "$OUT/raw.txt" ||
        { log "no $metric for $t at loss $loss"; status=1; }
    done
  done
done
exit $status
