#!/usr/bin/env bash
# bench/loss_relay (dialback-loss-relay) in front of python3 echo servers:
#   - UDP, --loss 0.1 --seed 7 --delay 1ms: 2000 datagrams; each direction
#     loses 5-15 %, the echoes that come back 72.25-90.25 % (both ways
#     compounded); the relay's counters agree with what the client saw (the
#     kernel dropped nothing); the same seed loses the same datagrams in a
#     second run, another seed others;
#   - TCP, --loss 0.05 --delay 5ms: 8 MiB echoed back intact (sha256), with
#     segments "lost" both ways, in no less than one round trip (10 ms).
# Every relay exits 0 on SIGTERM after its summary. About 5 s.
# LOSS_RELAY: the relay binary (ctest sets it).
LOSS_RELAY=${LOSS_RELAY:?path to the dialback-loss-relay binary}
# lib.sh wants the dialback binary, which this test does not run.
DIALBACK=${DIALBACK:-unused}
source "$(dirname "$0")/lib.sh"
PEERS="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/loss_relay_peers.py"
cd "$WORK"

# spawn_ready COMMAND...: starts COMMAND with its stdout on a pipe, waits (10 s
# at most) for its first line, which must be "ready", and sets SPAWNED_PID
# and SPAWNED_FD (the pipe, for the rest of its output). Stderr: stderr.log.
spawn_ready() {
  local fifo="$WORK/fifo.$BASHPID.$RANDOM" line=""
  mkfifo "$fifo"
  "$@" >"$fifo" 2>>stderr.log &
  SPAWNED_PID=$!
  PIDS+=("$SPAWNED_PID")
  exec {SPAWNED_FD}<"$fifo"
  rm "$fifo"
  read -r -t 10 line <&"$SPAWNED_FD" || true
  [ "$line" = ready ] || fail "not ready: $* (printed '$line'): $(tail -n 5 stderr.log)"
}

# start_relay ARG...: the relay with these arguments; RELAY_PID, RELAY_FD.
start_relay() {
  spawn_ready "$LOSS_RELAY" "$@"
  RELAY_PID=$SPAWNED_PID RELAY_FD=$SPAWNED_FD
}

# stop_relay: SIGTERM; sets STATS to the summary it prints, checks it exits 0.
stop_relay() {
  kill -TERM "$RELAY_PID"
  STATS=$(timeout 10 cat <&"$RELAY_FD") || fail "no summary from the relay"
  exec {RELAY_FD}<&-
  wait_exit "$RELAY_PID" 10
  [ "$EXIT_CODE" = 0 ] || fail "the relay exited with $EXIT_CODE on SIGTERM"
}

# counter PROTOCOL DIRECTION KEY: KEY's value in STATS' line for that direction.
counter() {
  local value
  value=$(awk -v p="$1" -v d="$2:" -v k="$3=" '$1 == p && $5 == d {
    for (i = 6; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' <<<"$STATS")
  [ -n "$value" ] || fail "no $1 $2 $3 in the summary: $STATS"
  echo "$value"
}

# within WHAT PART WHOLE LOW HIGH: PART/WHOLE in [LOW, HIGH], in basis points.
within() {
  [ $(($2 * 10000)) -ge $(($3 * $4)) ] && [ $(($2 * 10000)) -le $(($3 * $5)) ] ||
    fail "$1: $2 of $3 is outside $(($4 / 100))-$(($5 / 100)) %"
}

udp_echo=$(free_port) tcp_echo=$(free_port) udp_relay=$(free_port) tcp_relay=$(free_port)
spawn_ready $PEERS udp-echo --port "$udp_echo"
spawn_ready $PEERS tcp-echo --port "$tcp_echo"

# udp_run SEED: 2000 datagrams through a fresh relay; sets RECEIVED, IDS, STATS.
udp_run() {
  local out
  start_relay --udp "$udp_relay:127.0.0.1:$udp_echo" --loss 0.1 --delay 1ms --seed "$1"
  out=$(timeout 20 $PEERS udp-client --port "$udp_relay" --count 2000) || fail "udp client failed"
  stop_relay
  RECEIVED=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$out")
  IDS=$(sed -n 's/.*ids=\([0-9a-f]*\).*/\1/p' <<<"$out")
  [ "$(counter udp up passed)" -eq $((2000 - $(counter udp up dropped))) ] ||
    fail "the relay did not get all 2000 datagrams: $STATS"
  [ "$(counter udp down passed)" -eq "$RECEIVED" ] ||
    fail "the client got $RECEIVED echoes, the relay passed $(counter udp down passed)"
  [ "$(counter udp up lost)" -eq "$(counter udp up dropped)" ] &&
    [ "$(counter udp down lost)" -eq "$(counter udp down dropped)" ] ||
    fail "drops other than --loss: $STATS"
}

udp_run 7
within "udp up loss" "$(counter udp up lost)" 2000 500 1500
within "udp down loss" "$(counter udp down lost)" "$(counter udp up passed)" 500 1500
within "udp echoes" "$RECEIVED" 2000 7225 9025
first_received=$RECEIVED first_ids=$IDS
echo "udp seed 7: $RECEIVED of 2000 echoes came back"
udp_run 7
[ "$RECEIVED" = "$first_received" ] && [ "$IDS" = "$first_ids" ] ||
  fail "seed 7 again: $RECEIVED echoes (ids $IDS), not $first_received ($first_ids)"
udp_run 8
[ "$IDS" != "$first_ids" ] || fail "seed 8 lost the same datagrams as seed 7"

start_relay --tcp "$tcp_relay:127.0.0.1:$tcp_echo" --loss 0.05 --delay 5ms --seed 7
out=$(timeout 30 $PEERS tcp-client --port "$tcp_relay" --bytes $((8 << 20))) ||
  fail "tcp client failed"
stop_relay
sent=$(sed -n 's/.*sent=\([0-9a-f]*\).*/\1/p' <<<"$out")
received=$(sed -n 's/.*received=\([0-9a-f]*\).*/\1/p' <<<"$out")
seconds=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$sent" ] && [ "$sent" = "$received" ] || fail "the TCP echo differs: $out"
for direction in up down; do
  [ "$(counter tcp "$direction" bytes)" -eq $((8 << 20)) ] || fail "tcp $direction: $STATS"
  [ "$(counter tcp "$direction" lost)" -gt 0 ] || fail "tcp $direction lost nothing: $STATS"
done
awk -v s="$seconds" 'BEGIN { exit !(s >= 0.010) }' ||
  fail "8 MiB echoed in $seconds s, less than the 10 ms round trip"
echo "tcp: 8 MiB echoed intact in $seconds s"
echo "loss_relay_test: 1 passed, 0 failed"
