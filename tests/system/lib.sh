# Helpers for the system tests: deadlines, free ports, process cleanup.
set -euo pipefail
DIALBACK=${DIALBACK:?path to the dialback binary}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds or the deadline passes.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_exit PID SECONDS: waits for PID (a child of this shell) to exit and
# sets EXIT_CODE to its status, or to "timeout".
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" | grep -q Z; do
    [ "$SECONDS" -lt "$deadline" ] || { EXIT_CODE=timeout; return 0; }
    sleep 0.05
  done
  EXIT_CODE=0
  wait "$pid" || EXIT_CODE=$?
}

# start_tunnel SERVICE_PORT [AGENT_ARG...]: in the current directory, makes
# a CA, an edge certificate (localhost, app.test) and a token, writes
# edge.yaml (tunnel "web", host app.test; public HTTP and HTTPS), starts the
# edge and an agent for http://127.0.0.1:SERVICE_PORT with the extra
# AGENT_ARGs (logs in edge.log and agent.log) and sets PUBLIC_PORT and
# HTTPS_PORT. Readiness is the caller's.
# Optional: PUBLIC_H3=1 adds public HTTP/3 on the UDP port HTTPS_PORT;
# EDGE_EDGE_YAML adds keys to the edge's `edge` mapping (e.g.
# "drain_timeout: 3s");
# EDGE_PUBLIC_YAML adds keys to the edge's `public` mapping (flow
# style, e.g. "request_timeout: 10m"); EDGE_AGENTS_YAML adds keys to the
# edge's `agents` mapping (e.g. "quic: {listen: 127.0.0.1:PORT}");
# AGENT_EDGE is the host:port the agent dials instead of the edge's agents
# port (a relay in between, or the QUIC port); AGENT_YAML adds top-level
# lines to an agent config file, which the agent then runs from instead of
# flags.
start_tunnel() {
  local service_port=$1 agents_port token agent_edge
  shift
  "$DIALBACK" pki init --dir pki >/dev/null
  "$DIALBACK" pki issue --dir pki --name edge --dns localhost --dns app.test --server >/dev/null
  token=$("$DIALBACK" token new)
  agents_port=$(free_port); PUBLIC_PORT=$(free_port); HTTPS_PORT=$(free_port)
  cat >edge.yaml <<YAML
edge: {id: edge-test${EDGE_EDGE_YAML:+, $EDGE_EDGE_YAML}}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key${EDGE_AGENTS_YAML:+, $EDGE_AGENTS_YAML}}
public: {http: 127.0.0.1:$PUBLIC_PORT, https: {listen: 127.0.0.1:$HTTPS_PORT, cert: pki/edge.crt, key: pki/edge.key}${PUBLIC_H3:+, h3: {listen: 127.0.0.1:$HTTPS_PORT\}}${EDGE_PUBLIC_YAML:+, $EDGE_PUBLIC_YAML}}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
  "$DIALBACK" edge --config edge.yaml 2>edge.log &
  PIDS+=($!)
  agent_edge=${AGENT_EDGE:-127.0.0.1:$agents_port}
  if [ -n "${AGENT_YAML:-}" ]; then
    cat >agent.yaml <<YAML
tunnel: web
token: "$token"
ca: pki/ca.crt
edges:
  - {address: $agent_edge, server_name: localhost}
upstream: http://127.0.0.1:$service_port
$AGENT_YAML
YAML
    "$DIALBACK" agent --config agent.yaml 2>agent.log &
  else
    "$DIALBACK" agent --edge "$agent_edge" --tunnel web --token "$token" \
      --ca pki/ca.crt --server-name localhost "$@" "http://127.0.0.1:$service_port" 2>agent.log &
  fi
  PIDS+=($!)
}

# start_tinyproxy: in the current directory, starts Debian's tinyproxy on a
# free loopback port with Basic credentials alice:s3cret, logging CONNECTs
# to tinyproxy.log, and sets PROXY_PORT once it listens.
start_tinyproxy() {
  command -v tinyproxy >/dev/null || fail "tinyproxy is not installed (scripts/setup installs it)"
  PROXY_PORT=$(free_port)
  cat >tinyproxy.conf <<CONF
Port $PROXY_PORT
Listen 127.0.0.1
Timeout 60
LogFile "$PWD/tinyproxy.log"
LogLevel Connect
PidFile "$PWD/tinyproxy.pid"
MaxClients 50
Allow 127.0.0.1
BasicAuth alice s3cret
CONF
  tinyproxy -d -c tinyproxy.conf 2>tinyproxy.err &
  PIDS+=($!)
  wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT" || fail "tinyproxy did not start: $(cat tinyproxy.err)"
}
