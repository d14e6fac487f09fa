#!/usr/bin/env bash
# bench/run.sh — dialback against the peers a user would pick instead, in one
# run on loopback, with the paths alternating round by round.
#
# Paths (all in front of one nginx serving /1k.bin and /big.bin, and one
# upload sink behind /upload):
#   direct        wrk/curl straight to nginx (uploads straight to the sink)
#   haproxy       one HAProxy HTTP hop (the cost of one proxy)
#   ssh           `ssh -N -R` to a throwaway sshd on loopback
#   dialback-h2   edge + agent, h2 transport (token)
#   dialback-rhttp edge + agent, rhttp transport (client certificate)
#   dialback-poll edge + agent, poll transport (HTTPS/1.1 long-poll, token)
#   dialback-poll-N  the same with N `next` and N `send` requests in flight
#                 per session (dialback-poll: the default, 2 and 2)
#   dialback-node edge + the Node.js agent (clients/node), h2 transport; it
#                 forwards to one local URL, so no upload is measured
#
# Per path and round: wrk -t2 -c64 (req/s, p50, p99), wrk -t1 -c1 (p50),
# a big download and upload with curl (MB/s = 10^6 B/s), VmRSS of the tunnel
# processes idle and peak under load, and their CPU (utime+stime of the whole
# process tree, from /proc) per 100k requests of the c64 run.
# Output: a markdown table, medians over rounds, with ratios against direct
# and against ssh -R. Raw per-round lines are kept in $OUT/raw.txt.
#
# Usage: bench/run.sh [BUILD_DIR]   (default: build; the binary is
#        BUILD_DIR/apps/dialback/dialback)
# Env:   LOAD_SECS (10)  length of the c64 run; the c1 run is min(LOAD_SECS, 5)
#        ROUNDS (2)      rounds; odd rounds run the paths forward, even reversed
#        SMOKE=1         seconds-long run for CI: LOAD_SECS=1 ROUNDS=1, 4 MiB file
#        PATHS           subset, e.g. "direct dialback-h2"
#        OUT             directory for table.md and raw.txt (default: a temp dir, printed)
#        AGENT_DELAY     e.g. 10ms: dialback agents reach their edge through the
#                        loss relay (bench/loss_relay) with this one-way delay,
#                        a WAN-like link; its CPU is counted as `other`
# Installs from Debian when missing (root): nginx-light wrk nghttp2-client
# haproxy openssh-server openssh-client. Everything listens on 127.0.0.1;
# every process it starts is recorded by pid and stopped by pid (trap on
# exit); every load run is bounded by wrk -d / curl --max-time and `timeout`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD=${1:-$ROOT/build}
DIALBACK=$BUILD/apps/dialback/dialback
if [ "${SMOKE:-0}" = 1 ]; then
  LOAD_SECS=${LOAD_SECS:-1}; ROUNDS=${ROUNDS:-1}; BIG_MIB=${BIG_MIB:-4}
fi
LOAD_SECS=${LOAD_SECS:-10}
ROUNDS=${ROUNDS:-2}
BIG_MIB=${BIG_MIB:-64}
LAT_SECS=$(( LOAD_SECS < 5 ? LOAD_SECS : 5 ))
PATHS=${PATHS:-direct haproxy ssh dialback-h2 dialback-rhttp}
LO=127.0.0.1
HZ=$(getconf CLK_TCK)
[ -x "$DIALBACK" ] || { echo "no $DIALBACK: run scripts/build first, or pass BUILD_DIR" >&2; exit 1; }
log() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ install
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "missing ${missing[*]}: apt-get install ${missing[*]} (as root)"; exit 1; }
  log "installing ${missing[*]}"
  # Debian's policy-rc.d: the packages must not start their daemons on
  # their default ports; this script runs its own instances.
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
PIDS=()      # every process started here
PATH_PIDS=() # the current path's processes
cleanup() {
  stop_pids "${PIDS[@]}"
  rm -rf "$WORK"   # OUT survives when it was given outside WORK
}
trap cleanup EXIT
trap 'exit 130' INT TERM
spawn() {  # spawn ROLE LOGNAME CMD...: background CMD, role edge|agent|other
  local role=$1 name=$2; shift 2
  "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  PIDS+=($!); PATH_PIDS+=($!)
  case $role in edge) EDGE_PIDS+=($!) ;; agent) AGENT_PIDS+=($!) ;; esac
}
wait_http() {  # wait_http URL [curl args]: until a 200 (15 s)
  local url=$1 deadline=$((SECONDS + 15)); shift
  until [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$@" "$url" || true)" = 200 ]; do
    [ $SECONDS -lt $deadline ] || return 1; sleep 0.05
  done
}
rss_kb() {  # summed VmRSS of the trees of the given pids
  local t=0 p v
  for p in $(tree "$@"); do v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true); t=$((t + ${v:-0})); done
  echo $t
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

# ------------------------------------------------------------------ fixtures
cd "$WORK"
BACKEND_PORT=$(free_port); SINK_PORT=$(free_port)
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
EDGE_PIDS=(); AGENT_PIDS=()
spawn other nginx /usr/sbin/nginx -p "$WORK" -c "$WORK/nginx.conf"
# Upload sink: reads the body in 256 KiB chunks and discards it; answers 200
# with the byte count. nginx's static server refuses request bodies.
cat >sink.py <<'PY'
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        got = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 262144))
            if not chunk: break
            left -= len(chunk); got += len(chunk)
        body = b"%d\n" % got
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_PUT
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
spawn other sink python3 sink.py "$SINK_PORT"
wait_http "http://$LO:$BACKEND_PORT/1k.bin" || { cat nginx-error.log nginx.log >&2; exit 1; }
wait_http "http://$LO:$SINK_PORT/upload" || { cat sink.log >&2; exit 1; }
PATH_PIDS=()

# dialback: CA, edge certificate, client certificate for rhttp, token.
"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
"$DIALBACK" pki issue --dir pki --name agent-1 --client >/dev/null
TOKEN=$("$DIALBACK" token new)
TOKEN_HASH=$("$DIALBACK" token hash "$TOKEN")

# ssh: throwaway host key and client key; sshd runs as root so the client
# can log in as root with the key (no other account needed).
mkdir -p ssh /run/sshd; chmod 700 ssh
ssh-keygen -q -t ed25519 -N '' -C dialback-bench-host -f ssh/host
ssh-keygen -q -t ed25519 -N '' -C dialback-bench-client -f ssh/client
cp ssh/client.pub ssh/authorized_keys

# ------------------------------------------------------------------ paths
# start_path NAME: brings the path up, sets URL (public base), HOSTH (curl/wrk
# Host arguments), EDGE_PIDS, AGENT_PIDS.
start_path() {
  local name=$1 pub
  EDGE_PIDS=(); AGENT_PIDS=(); PATH_PIDS=(); HOSTH=()
  case $name in
    direct)
      URL=http://$LO:$BACKEND_PORT; UPLOAD_URL=http://$LO:$SINK_PORT/upload ;;
    haproxy)
      pub=$(free_port)
      cat >haproxy.cfg <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend public
  bind $LO:$pub
  use_backend sink if { path_beg /upload }
  default_backend web
backend web
  server nginx $LO:$BACKEND_PORT
backend sink
  server sink $LO:$SINK_PORT
CFG
      spawn edge haproxy /usr/sbin/haproxy -db -f haproxy.cfg
      URL=http://$LO:$pub; UPLOAD_URL=$URL/upload ;;
    ssh)
      pub=$(free_port); local sshd_port up2
      sshd_port=$(free_port); up2=$(free_port)
      echo "[$LO]:$sshd_port $(cut -d' ' -f1,2 ssh/host.pub)" >ssh/known_hosts
      cat >ssh/sshd_config <<CFG
Port $sshd_port
ListenAddress $LO
HostKey $WORK/ssh/host
PidFile none
AuthorizedKeysFile $WORK/ssh/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding remote
X11Forwarding no
LogLevel ERROR
CFG
      spawn edge sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
      local deadline=$((SECONDS + 10))
      until ss -Hltn "sport = :$sshd_port" | grep -q .; do
        [ $SECONDS -lt $deadline ] || { cat sshd.log >&2; return 1; }; sleep 0.05
      done
      # Two forwards over one session: the web server, and the upload sink.
      spawn agent ssh ssh -N -T -F /dev/null -i "$WORK/ssh/client" -p "$sshd_port" \
        -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$WORK/ssh/known_hosts" -o ExitOnForwardFailure=yes \
        -R "$LO:$pub:$LO:$BACKEND_PORT" -R "$LO:$up2:$LO:$SINK_PORT" "root@$LO"
      URL=http://$LO:$pub; UPLOAD_URL=http://$LO:$up2/upload ;;
    dialback-h2|dialback-rhttp|dialback-poll|dialback-poll-[0-9]*|dialback-node)
      pub=$(free_port); local agents_port auth extra=() client_ca=""
      agents_port=$(free_port)
      if [ "$name" = dialback-rhttp ]; then
        auth="client_names: [agent-1]"; client_ca=", client_ca: pki/ca.crt"
        extra=(--transport rhttp --cert pki/agent-1.crt --key pki/agent-1.key)
      else
        auth="tokens: [\"$TOKEN_HASH\"]"; extra=(--token "$TOKEN")
      fi
      case $name in
        dialback-poll) extra+=(--transport poll) ;;
        dialback-poll-*) extra+=(--transport poll --poll-next-requests "${name#dialback-poll-}"
                                 --poll-send-requests "${name#dialback-poll-}") ;;
      esac
      cat >edge.yaml <<YAML
edge: {id: bench}
agents: {listen: $LO:$agents_port, cert: pki/edge.crt, key: pki/edge.key$client_ca}
public: {http: $LO:$pub}
tunnels:
  web: {hosts: [app.test], auth: {$auth}}
YAML
      spawn edge edge "$DIALBACK" edge --config edge.yaml --log-level warn
      URL=http://$LO:$pub; UPLOAD_URL=$URL/upload; HOSTH=(-H 'Host: app.test')
      local agent_edge=$LO:$agents_port
      if [ -n "${AGENT_DELAY:-}" ]; then
        local relay_port; relay_port=$(free_port)
        spawn other relay "$BUILD/bench/loss_relay/dialback-loss-relay" \
          --tcp "$relay_port:$LO:$agents_port" --delay "$AGENT_DELAY"
        agent_edge=$LO:$relay_port
      fi
      if [ "$name" = dialback-node ]; then
        spawn agent agent node "$ROOT/clients/node/bin/dialback-agent.js" --edge "$agent_edge" \
          --tunnel web --ca pki/ca.crt --server-name localhost --connections 2 "${extra[@]}" \
          "http://$LO:$BACKEND_PORT"
        UPLOAD_URL=""
      else
        spawn agent agent "$DIALBACK" agent --edge "$agent_edge" --tunnel web --ca pki/ca.crt \
          --server-name localhost --connections 2 --log-level warn "${extra[@]}" \
          --route "/upload=http://$LO:$SINK_PORT" --route "/=http://$LO:$BACKEND_PORT"
      fi
      # Both sessions up before idle memory is sampled.
      local deadline=$((SECONDS + 15))
      until [ "$(ss -Htn state established "( dport = :$agents_port )" | wc -l)" -ge 2 ]; do
        [ $SECONDS -lt $deadline ] || { log "$name: 2 agent sessions did not come up"; break; }
        sleep 0.05
      done ;;
    *) log "unknown path $name"; return 1 ;;
  esac
  wait_http "$URL/1k.bin" "${HOSTH[@]}" || { log "$name: no 200 on $URL/1k.bin"; tail -n 5 ./*.log >&2; return 1; }
}
stop_path() { stop_pids "${AGENT_PIDS[@]}"; stop_pids "${PATH_PIDS[@]}"; PATH_PIDS=(); EDGE_PIDS=(); AGENT_PIDS=(); }

emit() { echo "$CUR_PATH $CUR_ROUND $1 $2" >>"$OUT/raw.txt"; }
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
wrk_run() {  # wrk_run THREADS CONNS SECS: runs wrk on /1k.bin, leaves output in wrk.out
  timeout $(($3 + 15)) wrk -t"$1" -c"$2" -d"$3s" --latency "${HOSTH[@]}" "$URL/1k.bin" >wrk.out 2>&1 || true
}
wrk_field() { case $1 in
  rps) awk '/^Requests\/sec/ {print $2}' wrk.out ;;
  requests) awk '/requests in/ {print $1}' wrk.out ;;
  p50) to_ms "$(awk '$1 == "50%" {print $2}' wrk.out)" ;;
  p99) to_ms "$(awk '$1 == "99%" {print $2}' wrk.out)" ;;
  errors) awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) e += $i} END {print e + 0}' wrk.out ;;
esac; }

measure() {
  local tun=("${EDGE_PIDS[@]}" "${AGENT_PIDS[@]}")
  if [ ${#EDGE_PIDS[@]} -gt 0 ]; then emit edge_idle_kb "$(rss_kb "${EDGE_PIDS[@]}")"; fi
  if [ ${#AGENT_PIDS[@]} -gt 0 ]; then emit agent_idle_kb "$(rss_kb "${AGENT_PIDS[@]}")"; fi
  wrk_run 2 64 1 # warm-up: connections, caches, windows
  # c64: CPU of the tunnel trees around it, peak RSS sampled every 0.25 s
  local t0 t1 pe=0 pa=0 v lp
  if [ ${#tun[@]} -gt 0 ]; then t0=$(ticks "${tun[@]}"); fi
  wrk_run 2 64 "$LOAD_SECS" &
  lp=$!
  while kill -0 $lp 2>/dev/null; do
    if [ ${#EDGE_PIDS[@]} -gt 0 ]; then v=$(rss_kb "${EDGE_PIDS[@]}"); [ "$v" -le $pe ] || pe=$v; fi
    if [ ${#AGENT_PIDS[@]} -gt 0 ]; then v=$(rss_kb "${AGENT_PIDS[@]}"); [ "$v" -le $pa ] || pa=$v; fi
    sleep 0.25
  done
  wait $lp || true
  local rps req
  rps=$(wrk_field rps); req=$(wrk_field requests)
  emit rps "${rps:-0}"; emit p50 "$(wrk_field p50)"; emit p99 "$(wrk_field p99)"; emit errors "$(wrk_field errors)"
  if [ ${#tun[@]} -gt 0 ]; then
    t1=$(ticks "${tun[@]}")
    [ "${req:-0}" -gt 0 ] && emit cpu_s_100k "$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v r="$req" 'BEGIN { printf "%.3f", d / hz / r * 100000 }')"
  fi
  # c1
  wrk_run 1 1 "$LAT_SECS"
  emit p50_c1 "$(wrk_field p50)"
  # bulk: one download and one upload, each bounded by --max-time
  local dl up
  local e0=0 a0=0
  if [ ${#EDGE_PIDS[@]} -gt 0 ]; then e0=$(ticks "${EDGE_PIDS[@]}"); fi
  if [ ${#AGENT_PIDS[@]} -gt 0 ]; then a0=$(ticks "${AGENT_PIDS[@]}"); fi
  dl=$(timeout 75 curl -s -o /dev/null --max-time 60 "${HOSTH[@]}" -w '%{http_code} %{size_download} %{speed_download} %{time_total}' "$URL/big.bin" || true)
  read -r code size speed secs <<<"$dl"
  if [ "$code" = 200 ] && [ "$size" = "$BIG_BYTES" ]; then emit down_mbs "$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }')"; else log "$CUR_PATH: download failed: $dl"; fi
  # CPU share of edge and agent during the download (% of one core): tells a
  # CPU-bound transfer from one that waits (windows, timers)
  if [ ${#EDGE_PIDS[@]} -gt 0 ]; then emit edge_down_cpu_pct "$(awk -v d=$(( $(ticks "${EDGE_PIDS[@]}") - e0 )) -v hz="$HZ" -v t="${secs:-0}" 'BEGIN { printf "%.0f", (t > 0 ? 100 * d / hz / t : 0) }')"; fi
  if [ ${#AGENT_PIDS[@]} -gt 0 ]; then emit agent_down_cpu_pct "$(awk -v d=$(( $(ticks "${AGENT_PIDS[@]}") - a0 )) -v hz="$HZ" -v t="${secs:-0}" 'BEGIN { printf "%.0f", (t > 0 ? 100 * d / hz / t : 0) }')"; fi
  v=$(rss_kb "${EDGE_PIDS[@]}" "${AGENT_PIDS[@]}" 2>/dev/null || echo 0)
  if [ -n "$UPLOAD_URL" ]; then
    up=$(timeout 75 curl -s -o sink.out --max-time 60 "${HOSTH[@]}" -H 'Expect:' -T www/big.bin -w '%{http_code} %{speed_upload}' "$UPLOAD_URL" || true)
    read -r code speed <<<"$up"
    if [ "$code" = 200 ] && [ "$(cat sink.out)" = "$BIG_BYTES" ]; then emit up_mbs "$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }')"; else log "$CUR_PATH: upload failed: $up $(head -c 200 sink.out)"; fi
  fi
  # under load = the peak over the c64 run and right after the bulk transfers
  if [ ${#EDGE_PIDS[@]} -gt 0 ]; then v=$(rss_kb "${EDGE_PIDS[@]}"); [ "$v" -le $pe ] || pe=$v; emit edge_load_kb $pe; fi
  if [ ${#AGENT_PIDS[@]} -gt 0 ]; then v=$(rss_kb "${AGENT_PIDS[@]}"); [ "$v" -le $pa ] || pa=$v; emit agent_load_kb $pa; fi
  log "  $CUR_PATH: $(awk -v p="$CUR_PATH" -v r="$CUR_ROUND" '$1 == p && $2 == r && $3 !~ /_kb$/ { printf "%s=%s ", $3, $4 }' "$OUT/raw.txt")"
}

# ------------------------------------------------------------------ run
: >"$OUT/raw.txt"
{
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
  echo "# dialback $("$DIALBACK" --version 2>/dev/null | head -1), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///'), haproxy $(/usr/sbin/haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}'), $(ssh -V 2>&1 | cut -d, -f1), wrk $(wrk -v 2>&1 | awk 'NR == 1 {print $2}')"
  echo "# LOAD_SECS=$LOAD_SECS ROUNDS=$ROUNDS BIG_MIB=$BIG_MIB LAT_SECS=$LAT_SECS paths: $PATHS${AGENT_DELAY:+ AGENT_DELAY=$AGENT_DELAY}"
} >"$OUT/header.txt"
cat "$OUT/header.txt" >&2
read -ra path_list <<<"$PATHS"
for round in $(seq 1 "$ROUNDS"); do
  order=("${path_list[@]}")
  if [ $((round % 2)) = 0 ]; then order=(); for p in "${path_list[@]}"; do order=("$p" "${order[@]}"); done; fi
  log "-- round $round: ${order[*]}"
  for p in "${order[@]}"; do
    CUR_PATH=$p; CUR_ROUND=$round
    if start_path "$p"; then measure || log "$p: measurement failed"; else emit start_failed 1; fi
    stop_path
    sleep 1
  done
done

awk -v paths="$PATHS" -f "$ROOT/bench/table.awk" "$OUT/raw.txt" >"$OUT/table.md"
{ cat "$OUT/header.txt"; echo; cat "$OUT/table.md"; } | tee "$OUT/report.md"
[ $KEEP_OUT = 1 ] || log "(set OUT=DIR to keep raw.txt and report.md)"
# Smoke check for CI: every path produced a req/s figure.
for p in "${path_list[@]}"; do
  awk -v p="$p" '$1 == p && $3 == "rps" && $4 > 0 { ok = 1 } END { exit !ok }' "$OUT/raw.txt" ||
    { log "no req/s for path $p"; exit 1; }
done
