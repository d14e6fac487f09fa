#!/usr/bin/env bash
# Agents that reach the edge only through a real HTTP forward proxy
# (tinyproxy, Basic credentials): h2, envoy and rhttp dial through CONNECT
# from HTTPS_PROXY or --proxy and serve requests; NO_PROXY and --proxy ""
# bypass it; a proxy that wants credentials, or refuses them, gives an
# agent error naming the proxy, and the agent keeps retrying.
source "$(dirname "$0")/lib.sh"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
"$DIALBACK" pki issue --dir pki --name worker-1 --client >/dev/null
token=$("$DIALBACK" token new)

mkdir site && echo "served by the private service" >site/index.html
service_port=$(free_port)
/usr/bin/python3 -m http.server "$service_port" --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
PIDS+=($!)

agents_port=$(free_port); public_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-proxy}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key, client_ca: pki/ca.crt}
public: {http: 127.0.0.1:$public_port}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"], client_names: [worker-1]}}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)

start_tinyproxy
proxy_port=$PROXY_PORT
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$agents_port" || fail "edge did not start: $(cat edge.log)"

# agent LOG [FLAG...]: an agent for tunnel web with one session; the caller sets the environment.
agent() {
  local log=$1; shift
  "$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --connections 1 --ca pki/ca.crt \
    --server-name localhost "$@" "http://127.0.0.1:$service_port" 2>"$log" &
  AGENT_PID=$!; PIDS+=("$AGENT_PID")
}
fetch() { curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$public_port/" | grep -q 'served by'; }
connects() { grep -c "Request (file descriptor [0-9]*): CONNECT 127.0.0.1:$agents_port" tinyproxy.log || true; }
stop_agent() { kill "$AGENT_PID"; wait_exit "$AGENT_PID" 10; [ "$EXIT_CODE" = 0 ] || fail "agent exit: $EXIT_CODE"; }

# Each TCP transport through the proxy, which must see its CONNECT.
for transport in h2 envoy rhttp; do
  before=$(connects)
  credential=(--token "$token")
  [ "$transport" = rhttp ] && credential=(--cert pki/worker-1.crt --key pki/worker-1.key)
  HTTPS_PROXY="http://alice:s3cret@127.0.0.1:$proxy_port" agent "agent-$transport.log" \
    --transport "$transport" "${credential[@]}"
  wait_for 30 grep -q "session .* connected to 127.0.0.1:$agents_port via http://alice@127.0.0.1:$proxy_port" \
    "agent-$transport.log" || fail "$transport: no session through the proxy: $(cat "agent-$transport.log")"
  wait_for 10 fetch || fail "$transport: no answer through the tunnel: $(tail -n 5 edge.log)"
  [ "$(connects)" -gt "$before" ] || fail "$transport: tinyproxy saw no CONNECT: $(cat tinyproxy.log)"
  grep -q "through the proxy http://alice@127.0.0.1:$proxy_port (HTTPS_PROXY)" "agent-$transport.log" ||
    fail "$transport: the agent did not log its proxy: $(cat "agent-$transport.log")"
  ! grep -q s3cret "agent-$transport.log" || fail "$transport: the agent logged the proxy password"
  stop_agent
done

# --proxy over a broken HTTPS_PROXY, with %-escaped credentials.
HTTPS_PROXY="http://127.0.0.1:1" agent agent-flag.log --token "$token" \
  --proxy "alice:s3%63ret@127.0.0.1:$proxy_port"
wait_for 30 grep -q "connected to 127.0.0.1:$agents_port via" agent-flag.log ||
  fail "--proxy: no session: $(cat agent-flag.log)"
stop_agent

# NO_PROXY and --proxy "" bypass a proxy that does not exist.
before=$(connects)
HTTPS_PROXY="http://127.0.0.1:1" NO_PROXY="example.com, 127.0.0.0/8" agent agent-noproxy.log --token "$token"
wait_for 30 grep -q "session .* connected to 127.0.0.1:$agents_port (" agent-noproxy.log ||
  fail "NO_PROXY: no direct session: $(cat agent-noproxy.log)"
grep -q "dialed directly (NO_PROXY)" agent-noproxy.log || fail "NO_PROXY: not logged: $(cat agent-noproxy.log)"
stop_agent
https_proxy="http://127.0.0.1:1" agent agent-none.log --token "$token" --proxy ""
wait_for 30 grep -q "session .* connected to 127.0.0.1:$agents_port (" agent-none.log ||
  fail "--proxy \"\": no direct session: $(cat agent-none.log)"
stop_agent
[ "$(connects)" = "$before" ] || fail "a bypassed agent went through the proxy: $(tail -n 3 tinyproxy.log)"

# Credentials missing (407) and wrong (tinyproxy answers 401): a clear
# error naming the proxy, no session, and the agent keeps retrying.
HTTPS_PROXY="http://127.0.0.1:$proxy_port" agent agent-407.log --token "$token"
wait_for 30 grep -q "proxy http://127.0.0.1:$proxy_port requires credentials (407" agent-407.log ||
  fail "407: no clear error: $(cat agent-407.log)"
kill -0 "$AGENT_PID" || fail "407: the agent exited"
stop_agent
HTTPS_PROXY="http://alice:wrong@127.0.0.1:$proxy_port" agent agent-401.log --token "$token"
wait_for 30 grep -q "proxy http://alice@127.0.0.1:$proxy_port refused the credentials of user alice" agent-401.log ||
  fail "wrong credentials: no clear error: $(cat agent-401.log)"
! grep -q "connected to" agent-401.log || fail "wrong credentials: a session came up"
stop_agent

# A proxy URL the agent cannot use is a usage error naming its source.
EXIT_CODE=0
HTTPS_PROXY="socks5://127.0.0.1:1080" "$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web \
  --token "$token" "http://127.0.0.1:$service_port" 2>bad-url.log || EXIT_CODE=$?
[ "$EXIT_CODE" = 2 ] || fail "socks5 proxy URL: exit $EXIT_CODE, expected 2: $(cat bad-url.log)"
grep -q "HTTPS_PROXY.*only http:// proxies" bad-url.log || fail "socks5 proxy URL: $(cat bad-url.log)"
echo "proxy test passed: $(connects) CONNECTs through tinyproxy"
