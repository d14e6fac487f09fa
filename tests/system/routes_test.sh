#!/usr/bin/env bash
# One agent, two local services by path prefix (`--route` twice): each
# request reaches the service of its longest matching prefix, on segment
# boundaries, with the path unchanged; bad --route flags exit 2 naming the flag.
source "$(dirname "$0")/lib.sh"
cd "$WORK"

# The api service is mounted at /api: it serves /api/... from api/ because the
# agent does not strip the prefix.
mkdir -p api-site/api web-site/apix
echo "from api" >api-site/api/who.txt
echo "from web" >web-site/who.txt
echo "from web, not api" >web-site/apix/who.txt
api_port=$(free_port); web_port=$(free_port)
/usr/bin/python3 -m http.server "$api_port" --bind 127.0.0.1 --directory api-site >/dev/null 2>&1 &
PIDS+=($!)
/usr/bin/python3 -m http.server "$web_port" --bind 127.0.0.1 --directory web-site >/dev/null 2>&1 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$api_port/api/who.txt" || fail "api service did not start"
wait_for 30 curl -sf "http://127.0.0.1:$web_port/who.txt" || fail "web service did not start"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
token=$("$DIALBACK" token new)
agents_port=$(free_port); PUBLIC_PORT=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-test}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:$PUBLIC_PORT}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["$("$DIALBACK" token hash "$token")"]}}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)
"$DIALBACK" agent --edge "127.0.0.1:$agents_port" --tunnel web --token "$token" \
  --ca pki/ca.crt --server-name localhost \
  --route "/=http://127.0.0.1:$web_port" --route "/api=http://127.0.0.1:$api_port" 2>agent.log &
PIDS+=($!)
fetch() { curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT$1"; }
wait_for 30 fetch /who.txt || fail "no answer through the tunnel: $(tail -n 5 edge.log agent.log)"

passed=0
expect() {  # expect PATH BODY
  local got
  got=$(fetch "$1") || fail "GET $1 failed: $(tail -n 5 edge.log agent.log)"
  [ "$got" = "$2" ] || fail "GET $1: expected \"$2\", got \"$got\""
  passed=$((passed + 1))
}
expect /who.txt "from web"
expect /api/who.txt "from api"
expect "/api/who.txt?x=1" "from api"
expect /apix/who.txt "from web, not api"  # /api matches on segment boundaries only

# Flag errors: exit 2 before dialing, naming the flag.
bad_flags() {  # bad_flags EXPECTED_TEXT AGENT_ARGS...
  local want=$1 code=0; shift
  "$DIALBACK" agent --edge 127.0.0.1:1 --tunnel web --token t "$@" 2>bad.log || code=$?
  [ "$code" = 2 ] || fail "agent $* exited $code: $(cat bad.log)"
  grep -qF -- "$want" bad.log || fail "agent $*: expected \"$want\" in: $(cat bad.log)"
  passed=$((passed + 1))
}
bad_flags "--route: route path \"api\" must start with '/'" --route api=http://127.0.0.1:1
bad_flags "--route: duplicate route path \"/api\"" \
  --route /api=http://127.0.0.1:1 --route /api=http://127.0.0.1:2
bad_flags "--route: expected PREFIX=URL" --route /api
bad_flags "not both" --route /api=http://127.0.0.1:1 http://127.0.0.1:2
bad_flags "--host-rewrite: applies to a single upstream URL" \
  --route /api=http://127.0.0.1:1 --host-rewrite internal.test
echo "routes_test: $passed passed, 0 failed"
