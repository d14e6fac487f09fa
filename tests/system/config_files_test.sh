#!/usr/bin/env bash
# A config-file edge and a flag-configured agent, as a user would run them:
# pki, token, edge --config, agent --edge ..., curl through the tunnel;
# a wrong token makes the agent exit 3; HTTP Basic from --user with
# --password-file or DIALBACK_PASSWORD; SIGTERM stops both with 0.
source "$(dirname "$0")/lib.sh"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --ip 127.0.0.1 --server >/dev/null
[ "$(stat -c %a pki/edge.key)" = 600 ] || fail "edge.key mode is not 0600"
token=$("$DIALBACK" token new)
hash=$("$DIALBACK" token hash "$token")
[[ "$hash" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "token hash format: $hash"

agents_port=$(free_port); public_port=$(free_port); service_port=$(free_port)
cat >edge.yaml <<YAML
edge:
  id: edge-test
agents:
  listen: 127.0.0.1:$agents_port
  cert: pki/edge.crt
  key: pki/edge.key
public:
  http: 127.0.0.1:$public_port
tunnels:
  web:
    hosts: [app.test]
    auth:
      tokens: ["$hash"]
      basic: [{username: basic-agent, password: "$("$DIALBACK" token hash basic-pass-0123)"}]
YAML
mkdir site && echo "hello from the private service" >site/index.html
/usr/bin/python3 -m http.server "$service_port" --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$service_port/" || fail "local service did not start"

"$DIALBACK" edge --config edge.yaml 2>edge.log &
edge=$!; PIDS+=("$edge")
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" \
  --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" 2>agent.log &
agent=$!; PIDS+=("$agent")

fetch() { curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$public_port/index.html"; }
wait_for 30 fetch || fail "no answer through the tunnel: $(tail -n 5 edge.log agent.log)"
[ "$(fetch)" = "hello from the private service" ] || fail "wrong body: $(fetch)"

# Wrong token: the edge refuses, the agent exits 3 with a clear message.
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token wrong-token \
  --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" 2>bad.log &
bad=$!; PIDS+=("$bad")
wait_exit "$bad" 10
[ "$EXIT_CODE" = 3 ] || fail "agent with a wrong token exited $EXIT_CODE: $(cat bad.log)"
grep -q '401' bad.log || fail "agent did not say why: $(cat bad.log)"

# HTTP Basic: --user with --password-file registers (the edge logs its node)...
printf 'basic-pass-0123\n' >password.txt
env -u DIALBACK_PASSWORD "$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web \
  --user basic-agent --password-file password.txt --node basic-node \
  --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" 2>basic.log &
basic=$!; PIDS+=("$basic")
wait_for 30 grep -q 'opened: tunnel=web node=basic-node' edge.log \
  || fail "basic agent did not register: $(tail -n 5 edge.log basic.log)"
kill -TERM "$basic"; wait_exit "$basic" 10; [ "$EXIT_CODE" = 0 ] || fail "basic agent did not stop cleanly"
# ... and a wrong password from DIALBACK_PASSWORD is refused: exit 3, 401.
DIALBACK_PASSWORD=wrong-pass-0123 "$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web \
  --user basic-agent --ca pki/ca.crt --server-name localhost "http://127.0.0.1:$service_port" \
  2>basic-bad.log &
bad=$!; PIDS+=("$bad")
wait_exit "$bad" 10
[ "$EXIT_CODE" = 3 ] || fail "agent with a wrong password exited $EXIT_CODE: $(cat basic-bad.log)"
grep -q '401' basic-bad.log || fail "agent did not say why: $(cat basic-bad.log)"
if grep -q 'wrong-pass-0123\|basic-pass-0123' edge.log basic.log basic-bad.log; then
  fail "a password reached a log"
fi

# A broken config names file, line and key and exits 2.
printf 'edge:\n  id: x\n  colour: blue\n' >broken.yaml
code=0; "$DIALBACK" edge --config broken.yaml 2>broken.log || code=$?
[ "$code" = 2 ] || fail "broken config exit code $code"
grep -q 'broken.yaml:3' broken.log || fail "config error lacks file:line: $(cat broken.log)"

# Agent identity and edge flags: errors exit 2 before dialing and name the flag.
agent_flags() {  # agent_flags EXPECTED_TEXT AGENT_ARGS...: exit 2 with EXPECTED_TEXT on stderr
  local want=$1 code=0; shift
  env -u DIALBACK_TOKEN -u DIALBACK_PASSWORD "$DIALBACK" agent --tunnel web "$@" http://127.0.0.1:1 \
    2>flags.log || code=$?
  [ "$code" = 2 ] || fail "agent $* exited $code: $(cat flags.log)"
  grep -qF -- "$want" flags.log || fail "agent $*: expected \"$want\" in: $(cat flags.log)"
}
agent_flags '--tenant: must be 1-63 characters of [A-Za-z0-9._-]' --token t --edge 127.0.0.1:1 --tenant "a b"
agent_flags '--cluster: must be 1-63 characters of [A-Za-z0-9._-]' --token t --edge 127.0.0.1:1 --cluster web/x
agent_flags "--edge: invalid rc:// address \"rc://n:c@127.0.0.1:2:1\": expected NODE:CLUSTER:TENANT before '@'" \
  --token t --edge 127.0.0.1:1 --edge "rc://n:c@127.0.0.1:2:1"
agent_flags "--edge: invalid rc:// address \"rc://n:c:t\": missing '@'" --token t --edge "rc://n:c:t"
agent_flags 'COUNT must be a number from 1 to 64, got "65"' --token t --edge "rc://::@127.0.0.1:1:65"
agent_flags '--edge: the rc:// address for 127.0.0.1:1 names tenant "acme" but --tenant is "beta"' \
  --token t --edge "rc://n1:web:acme@127.0.0.1:1:1" --tenant beta
agent_flags '--edge: the rc:// address for 127.0.0.1:2 names node "b" but the --edge for 127.0.0.1:1 names "a"' \
  --token t --edge "rc://a::@127.0.0.1:1:1" --edge "rc://b::@127.0.0.1:2:1"
# Credentials: Basic needs a password and excludes a token.
agent_flags '--user: no password: give --password-file, DIALBACK_PASSWORD' --edge 127.0.0.1:1 --user u
agent_flags '--password-file: needs --user' --edge 127.0.0.1:1 --token t --password-file password.txt
agent_flags '--user: --token and --user are mutually exclusive' --edge 127.0.0.1:1 --token t --user u
agent_flags '--password-file: /nonexistent/pw: cannot read file' --edge 127.0.0.1:1 --user u \
  --password-file /nonexistent/pw
agent_flags '--user: must be printable ASCII without spaces or' --edge 127.0.0.1:1 --user a:b \
  --password-file password.txt
# Two edges, one in Envoy's form, agreeing with --tenant: the whole config is
# valid, only the credential is missing (checked last; nothing is dialed).
agent_flags '--token: no credential' --edge 127.0.0.1:1 --edge "rc://n1:web:acme@[::1]:2:3" --tenant acme

kill -TERM "$agent"; wait_exit "$agent" 10; [ "$EXIT_CODE" = 0 ] || fail "agent did not stop cleanly"
kill -TERM "$edge"; wait_exit "$edge" 10; [ "$EXIT_CODE" = 0 ] || fail "edge did not stop cleanly"
echo "config_files_test: 1 passed, 0 failed"
