#!/usr/bin/env bash
# bench/scale.sh — what idle agent sessions cost one edge: N sessions (1 000
# and 10 000 by default) from one dialback-scale process to one edge.
#
# Per N, with a fresh edge (its own throwaway CA, certificate and token):
# edge VmRSS at start, with all N registered (and settled), per additional
# session, the time to register all N, and after every session has closed
# (flagged when it does not come back near the start), plus the scale
# process's own RSS per session (the agent side: the library Agent, the
# same code as `dialback agent`).
#
# Usage: bench/scale.sh [BUILD_DIR]   (default: build; needs
#        BUILD_DIR/apps/dialback/dialback and BUILD_DIR/bench/scale/dialback-scale)
# Env:   SESSIONS ("1000 10000")  the N to run, each with a fresh edge
#        BATCH (100)              sessions dialed at once
#        RUN_TIMEOUT (300)        seconds to register all N, and again to close them
#        TRANSPORT (h2)           h2 (TLS over TCP) or h3 (QUIC: the edge's agents.quic
#                                 on the same port number over UDP)
#        SMOKE=1                  seconds-long run for CI: SESSIONS=50
#        OUT                      directory for report.md and the raw outputs (default: temp)
# Raises `ulimit -n` (each process holds one descriptor per session). Every
# process started here is stopped by pid (trap on exit); every run is bounded
# by `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
DIALBACK=$BUILD/apps/dialback/dialback
SCALE=$BUILD/bench/scale/dialback-scale
if [ "${SMOKE:-0}" = 1 ]; then SESSIONS=${SESSIONS:-50}; fi
SESSIONS=${SESSIONS:-1000 10000}
BATCH=${BATCH:-100}
TRANSPORT=${TRANSPORT:-h2}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
LO=127.0.0.1
log() { printf '%s\n' "$*" >&2; }
for bin in "$DIALBACK" "$SCALE"; do
  [ -x "$bin" ] || { log "no $bin: build the dialback and dialback-scale targets first, or pass BUILD_DIR"; exit 1; }
done

# One descriptor per session in each process, plus a margin.
max_n=0
for n in $SESSIONS; do [ "$n" -le "$max_n" ] || max_n=$n; done
need=$((max_n + 256))
if [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
[ "$(ulimit -n)" -ge "$need" ] || log "warning: ulimit -n is $(ulimit -n), $need wanted: the largest N may fail"

WORK=$(mktemp -d)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
KEEP_OUT=0; case $OUT in "$WORK"/*) ;; *) KEEP_OUT=1 ;; esac
PIDS=()
stop_pid() {  # TERM, then KILL after 5 s
  local p=$1
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ticks() {  # utime+stime of one process, in clock ticks
  local s fld
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }; read -ra fld <<<"$s"   # fld[0] is field 3; utime (14) is fld[11]
  echo $((fld[11] + fld[12]))
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cd "$WORK"
"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
"$DIALBACK" token new >token
TOKEN_HASH=$("$DIALBACK" token hash "$(cat token)")

{
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $("$DIALBACK" --version 2>/dev/null | head -1), SESSIONS=\"$SESSIONS\" BATCH=$BATCH, ulimit -n $(ulimit -n)"
} >"$OUT/header.txt"
cat "$OUT/header.txt" >&2

failed=0
for n in $SESSIONS; do
  agents_port=$(free_port); public_port=$(free_port)
  # Every session comes from this one address, faster than the per-address
  # handshake limit a real edge keeps (agents.limits): lifted here.
  cat >edge.yaml <<YAML
edge: {id: scale}
agents: {listen: $LO:$agents_port, cert: pki/edge.crt, key: pki/edge.key, max_sessions_per_tunnel: $((n + 100)), handshake_timeout: 30s,
         limits: {handshakes_per_ip: off, handshakes: off},
         quic: {listen: $LO:$agents_port, max_connections: $((n + 100)), handshake_timeout: 30s}}
public: {http: $LO:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$TOKEN_HASH"]}}
YAML
  "$DIALBACK" edge --config edge.yaml --log-level warn >"$OUT/edge-$n.log" 2>&1 </dev/null &
  edge_pid=$!; PIDS+=("$edge_pid")
  deadline=$((SECONDS + 15))
  until ss -Hltn "sport = :$agents_port" | grep -q .; do
    [ $SECONDS -lt $deadline ] && kill -0 "$edge_pid" 2>/dev/null || { log "edge did not start"; cat "$OUT/edge-$n.log" >&2; exit 1; }
    sleep 0.05
  done
  log "-- $n $TRANSPORT sessions (batches of $BATCH)"
  cpu0=$(ticks "$edge_pid")
  if ! timeout $((2 * RUN_TIMEOUT + 60)) "$SCALE" --edge "$LO:$agents_port" --edge-pid "$edge_pid" \
      --tunnel web --token-file token --ca pki/ca.crt --server-name localhost \
      --sessions "$n" --batch "$BATCH" --timeout "$RUN_TIMEOUT" --transport "$TRANSPORT" \
      >"$OUT/scale-$n.txt" 2>"$OUT/scale-$n.log" </dev/null; then
    log "dialback-scale failed for $n sessions:"; tail -n 5 "$OUT/scale-$n.log" >&2; failed=1
  fi
  echo "dial_warnings=$(grep -c . "$OUT/scale-$n.log" || true)" >>"$OUT/scale-$n.txt"
  echo "edge_cpu_s=$(awk -v d=$(( $(ticks "$edge_pid") - cpu0 )) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d / hz }')" >>"$OUT/scale-$n.txt"
  stop_pid "$edge_pid"
  sleep 1
done

# The table: one row per N. "after close" is flagged when the edge kept more
# than 2 MiB or 5 % of what the sessions added.
{
  echo "| sessions | edge RSS start MiB | edge RSS with N MiB | edge KiB per session | register all s | edge CPU ms per registration | edge RSS after close MiB | back near start? | agent KiB per session | dial warnings |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
  for n in $SESSIONS; do
    awk -F= -v n="$n" '{ v[$1] = $2 } END {
      if (v["registered"] == "") { printf "| %d | – | – | – | – | – | – | no numbers | – | – |\n", n; exit }
      grown = v["edge_rss_sessions_kib"] - v["edge_rss_start_kib"]
      kept = v["edge_rss_after_kib"] - v["edge_rss_start_kib"]
      limit = grown * 0.05; if (limit < 2048) limit = 2048
      flag = kept <= limit ? "yes" : sprintf("NO: +%.1f MiB kept (%.1f KiB per session)", kept / 1024, kept / n)
      printf "| %d%s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %s | %.1f | %d |\n", n,
        (v["registered"] == n ? "" : " (" v["registered"] " registered)"),
        v["edge_rss_start_kib"] / 1024, v["edge_rss_sessions_kib"] / 1024, v["edge_kib_per_session"],
        v["register_s"], (v["registered"] > 0 ? v["edge_cpu_s"] * 1000 / v["registered"] : 0),
        v["edge_rss_after_kib"] / 1024, flag, v["agent_kib_per_session"], v["dial_warnings"] }' \
      "$OUT/scale-$n.txt"
  done
} >"$OUT/table.md"
{ cat "$OUT/header.txt"; echo; cat "$OUT/table.md"; } | tee "$OUT/report.md"
[ $KEEP_OUT = 1 ] || log "(set OUT=DIR to keep report.md and the raw outputs)"
# Smoke check: every N produced its numbers.
for n in $SESSIONS; do
  grep -q '^edge_kib_per_session=' "$OUT/scale-$n.txt" && grep -q "^registered=$n\$" "$OUT/scale-$n.txt" ||
    { log "no numbers for $n sessions"; exit 1; }
done
exit $failed
