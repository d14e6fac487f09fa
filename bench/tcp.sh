#!/usr/bin/env bash
# bench/tcp.sh — raw TCP tunnels: dialback against direct and against SSH
# port forwarding, in one run on loopback, the paths alternating round by
# round (odd rounds forward, even rounds reversed).
#
# Paths, each in front of one iperf3 server and one redis-server:
#   direct        the clients straight to the services
#   ssh-L         `ssh -N -L`: the client side listens, sshd connects out
#   ssh-R         `ssh -N -R`: sshd listens, the ssh client connects out
#                 (the reverse tunnel, what dialback replaces)
#   dialback-h2   edge with two tcp-only tunnels + two agents (--tcp), h2
#   dialback-h3, dialback-poll  the same over QUIC / HTTPS long-poll (PATHS)
#
# Per path and round: iperf3 bulk upload and download (-n BULK_MIB, one
# stream; MB/s = 10^6 B/s at the receiver) and redis-benchmark SET and GET
# (-c 50 -P REDIS_PIPELINE, REDIS_N requests each, ops/s). Output: a markdown table of medians
# with ratios against direct and against ssh -R; raw lines in $OUT/raw.txt.
#
# Usage: bench/tcp.sh [BUILD_DIR]   (default: build)
# Env:   ROUNDS (3)  BULK_MIB (512)  REDIS_N (100000)
#        REDIS_PIPELINE (1)  redis-benchmark -P: requests in flight per connection
#        SMOKE=1     seconds-long run for CI: ROUNDS=1 BULK_MIB=16 REDIS_N=2000
#        PATHS       default "direct ssh-L ssh-R dialback-h2"
#        OUT         directory for table.md and raw.txt (default: a temp dir, printed)
# Installs from Debian when missing (root): iperf3 redis-server redis-tools
# openssh-server openssh-client. Everything listens on 127.0.0.1; every
# process it starts is stopped by pid on exit; every run is bounded by
# `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${1:-$ROOT/build}
DIALBACK=$BUILD/apps/dialback/dialback
if [ "${SMOKE:-0}" = 1 ]; then
  ROUNDS=${ROUNDS:-1}; BULK_MIB=${BULK_MIB:-16}; REDIS_N=${REDIS_N:-2000}
fi
ROUNDS=${ROUNDS:-3}
BULK_MIB=${BULK_MIB:-512}
REDIS_N=${REDIS_N:-100000}
REDIS_PIPELINE=${REDIS_PIPELINE:-1}
PATHS=${PATHS:-direct ssh-L ssh-R dialback-h2}
LO=127.0.0.1
[ -x "$DIALBACK" ] || { echo "no $DIALBACK: run scripts/build first, or pass BUILD_DIR" >&2; exit 1; }
log() { printf '%s\n' "$*" >&2; }

missing=()
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing ${missing[*]}: apt-get install ${missing[*]} (as root)"; exit 1; }
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
KEEP_OUT=0; case $OUT in "$WORK"/*) ;; *) KEEP_OUT=1 ;; esac
PIDS=()       # every process started here
PATH_PIDS=()  # the current path's
cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
spawn() {  # spawn LOGNAME CMD...
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  PIDS+=($!); PATH_PIDS+=($!)
}
wait_port() {  # wait_port PORT: until it accepts (15 s)
  local deadline=$((SECONDS + 15))
  until (exec 3<>"/dev/tcp/$LO/$1") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1; sleep 0.05
  done
}
cd "$WORK"

# ------------------------------------------------------------------ services
IPERF_PORT=$(free_port); REDIS_PORT=$(free_port)
spawn iperf3 iperf3 --server --bind $LO --port "$IPERF_PORT"
spawn redis redis-server --port "$REDIS_PORT" --bind $LO --save '' --appendonly no --protected-mode no
wait_port "$IPERF_PORT" && wait_port "$REDIS_PORT" || { log "services did not start"; exit 1; }
PATH_PIDS=()

mkdir -p ssh /run/sshd; chmod 700 ssh
ssh-keygen -q -t ed25519 -N '' -f ssh/host
ssh-keygen -q -t ed25519 -N '' -f ssh/client
cp ssh/client.pub ssh/authorized_keys
SSHD_PORT=$(free_port)
cat >ssh/sshd_config <<CFG
Port $SSHD_PORT
ListenAddress $LO
HostKey $WORK/ssh/host
PidFile none
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding yes
LogLevel ERROR
CFG
spawn sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
wait_port "$SSHD_PORT" || { log "sshd did not start"; exit 1; }
echo "[$LO]:$SSHD_PORT $(cut -d' ' -f1,2 ssh/host.pub)" >ssh/known_hosts
PATH_PIDS=()

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
TOKEN=$("$DIALBACK" token new)
TOKEN_HASH=$("$DIALBACK" token hash "$TOKEN")

# start_path NAME: sets BULK and REDIS, the ports the clients use.
start_path() {
  local name=$1
  PATH_PIDS=()
  case $name in
    direct) BULK=$IPERF_PORT; REDIS=$REDIS_PORT; return 0 ;;
    ssh-L|ssh-R)
      BULK=$(free_port); REDIS=$(free_port)
      local flag=-${name#ssh-}
      spawn "$name" ssh -N -T -F /dev/null -i "$WORK/ssh/client" -p "$SSHD_PORT" \
        -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$WORK/ssh/known_hosts" -o ExitOnForwardFailure=yes \
        "$flag" "$LO:$BULK:$LO:$IPERF_PORT" "$flag" "$LO:$REDIS:$LO:$REDIS_PORT" "root@$LO" ;;
    dialback-*)
      BULK=$(free_port); REDIS=$(free_port)
      local agents_port quic_port transport=${name#dialback-} edge_port
      agents_port=$(free_port); quic_port=$(free_port)
      cat >edge.yaml <<YAML
edge: {id: bench-tcp}
agents: {listen: $LO:$agents_port, cert: pki/edge.crt, key: pki/edge.key, quic: {listen: $LO:$quic_port}}
tunnels:
  bulk: {tcp: ["$LO:$BULK"], auth: {tokens: ["$TOKEN_HASH"]}}
  redis: {tcp: ["$LO:$REDIS"], auth: {tokens: ["$TOKEN_HASH"]}}
YAML
      spawn edge "$DIALBACK" edge --config edge.yaml --log-level warn
      edge_port=$agents_port; [ "$transport" = h3 ] && edge_port=$quic_port
      local tunnel target
      for tunnel in bulk redis; do
        target=$IPERF_PORT; [ $tunnel = redis ] && target=$REDIS_PORT
        spawn "agent-$tunnel" "$DIALBACK" agent --edge "$LO:$edge_port" --tunnel $tunnel \
          --token "$TOKEN" --ca pki/ca.crt --server-name localhost --transport "$transport" \
          --log-level warn --tcp "$LO:$target"
      done ;;
    *) log "unknown path $name"; return 1 ;;
  esac
  # Ready when redis answers and a small iperf3 test passes through the
  # path (a bare connect would hold iperf3's one test slot until it times out).
  local deadline=$((SECONDS + 20))
  until [ "$(timeout 2 redis-cli -h $LO -p "$REDIS" ping 2>/dev/null)" = PONG ] &&
        timeout 5 iperf3 -c $LO -p "$BULK" -n 64K >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "$name did not come up"; tail -5 "$WORK"/*.log >&2; return 1; }
    sleep 0.1
  done
}

# iperf MODE: MB/s received (MODE up: client -> service; down: -R). iperf3
# serves one test at a time and may still be closing the previous one (its
# connections end asynchronously through a tunnel): "server is busy" is
# retried a few times; any other failure prints iperf3's error.
iperf() {
  local extra=() attempt json
  [ "$1" = down ] && extra=(-R)
  for attempt in 1 2 3 4 5; do
    json=$(timeout 300 iperf3 -c $LO -p "$BULK" -n "${BULK_MIB}M" -J "${extra[@]}" || true)
    if python3 -c 'import json,sys; print("%.0f" % (json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 8e6))' "$json" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  log "iperf3 $1 failed 5 times: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("error", "no answer"))' "$json" 2>/dev/null || echo "no answer")"
  echo 0
}

# redis_ops: "SET GET" ops/s.
redis_ops() {
  timeout 300 redis-benchmark -h $LO -p "$REDIS" -t set,get -n "$REDIS_N" -c 50 -P "$REDIS_PIPELINE" --csv 2>/dev/null |
    awk -F'"' '$2 == "SET" {s = $4} $2 == "GET" {g = $4} END {printf "%.0f %.0f\n", s, g}'
}

read -r -a path_list <<<"$PATHS"
for round in $(seq 1 "$ROUNDS"); do
  order=("${path_list[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=(); for ((i = ${#path_list[@]} - 1; i >= 0; i--)); do order+=("${path_list[$i]}"); done
  fi
  for name in "${order[@]}"; do
    start_path "$name"
    up=$(iperf up); down=$(iperf down); read -r set get < <(redis_ops)
    echo "$round $name $up $down $set $get" | tee -a "$OUT/raw.txt" >&2
    stop_pids "${PATH_PIDS[@]}"
  done
done

# Medians and ratios.
awk -v paths="$PATHS" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { for (k = 3; k <= 6; k++) v[$2, k] = v[$2, k] " " $k }
  END {
    n = split(paths, p, " ")
    for (i = 1; i <= n; i++) for (k = 3; k <= 6; k++) m[p[i], k] = median(v[p[i], k])
    print "| path | upload MB/s | download MB/s | redis SET ops/s | redis GET ops/s | bulk ×direct (up/down) | redis ×ssh-R (SET/GET) |"
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
      x = p[i]
      rd = ("direct", 3) in m && m["direct", 3] > 0 ? sprintf("%.2f / %.2f", m[x, 3] / m["direct", 3], m[x, 4] / m["direct", 4]) : "-"
      rs = ("ssh-R", 5) in m && m["ssh-R", 5] > 0 ? sprintf("%.2f / %.2f", m[x, 5] / m["ssh-R", 5], m[x, 6] / m["ssh-R", 6]) : "-"
      printf "| %s | %.0f | %.0f | %.0f | %.0f | %s | %s |\n", x, m[x, 3], m[x, 4], m[x, 5], m[x, 6], rd, rs
    }
  }' "$OUT/raw.txt" | tee "$OUT/table.md"
echo "# $ROUNDS rounds, iperf3 -n ${BULK_MIB}M, redis-benchmark -n $REDIS_N -c 50 -P $REDIS_PIPELINE; $(nproc) cores" | tee -a "$OUT/table.md"
[ $KEEP_OUT = 1 ] || { cp -r "$OUT" "/tmp/dialback-bench-tcp.$$" && echo "results: /tmp/dialback-bench-tcp.$$" >&2; }
# Every path produced numbers (the smoke test's check).
awk '{ for (k = 3; k <= 6; k++) if ($k + 0 <= 0) bad = 1 } END { exit bad }' "$OUT/raw.txt" ||
  { log "a path produced no numbers"; exit 1; }
