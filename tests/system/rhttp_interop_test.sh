#!/usr/bin/env bash
# rhttp wire compatibility (docs/protocol.md §5) against scripted peers that no
# dialback code drives (python3-h2, Debian's /usr/bin/python3):
#   1. our agent (--transport rhttp) serving a scripted HAProxy-style edge;
#   2. a scripted reverse-http worker registered on our edge, reached by curl.
source "$(dirname "$0")/lib.sh"
PEER="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/rhttp_peer.py"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --ip 127.0.0.1 --server >/dev/null
"$DIALBACK" pki issue --dir pki --name worker-1 --client >/dev/null

mkdir site && echo "served by the private service" >site/index.html
service_port=$(free_port)
/usr/bin/python3 -m http.server "$service_port" --bind 127.0.0.1 --directory site >/dev/null 2>&1 &
PIDS+=($!)
wait_for 30 curl -sf "http://127.0.0.1:$service_port/" || fail "local service did not start"

# 1. Our agent against the scripted edge.
edge_port=$(free_port)
$PEER edge --port "$edge_port" --cert pki/edge.crt --key pki/edge.key --ca pki/ca.crt \
  --host app.test --path /index.html >scripted-edge.out 2>scripted-edge.err &
scripted_edge=$!; PIDS+=("$scripted_edge")
wait_for 30 grep -q listening scripted-edge.out || fail "scripted edge did not start"
"$DIALBACK" agent --edge "127.0.0.1:$edge_port" --tunnel web --transport rhttp --connections 1 \
  --ca pki/ca.crt --cert pki/worker-1.crt --key pki/worker-1.key --server-name localhost \
  "http://127.0.0.1:$service_port" 2>agent.log &
PIDS+=($!)
wait_exit "$scripted_edge" 20
[ "$EXIT_CODE" = 0 ] || fail "scripted edge failed ($EXIT_CODE): $(cat scripted-edge.err agent.log)"
grep -q 'status=200 body=served by the private service' scripted-edge.out ||
  fail "scripted edge got: $(cat scripted-edge.out)"

# 2. The scripted worker against our edge.
agents_port=$(free_port); public_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-rhttp}
agents:
  listen: 127.0.0.1:$agents_port
  cert: pki/edge.crt
  key: pki/edge.key
  client_ca: pki/ca.crt
public: {http: 127.0.0.1:$public_port}
tunnels:
  web:
    hosts: [app.test]
    auth: {client_names: [worker-1]}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$agents_port" || fail "edge did not start"
$PEER worker --port "$agents_port" --ca pki/ca.crt --cert pki/worker-1.crt \
  --key pki/worker-1.key --body "hello from a scripted rhttp worker" >worker.out 2>worker.err &
PIDS+=($!)
fetch() { curl -sf -m 5 -H 'Host: app.test' "http://127.0.0.1:$public_port/"; }
wait_for 30 fetch || fail "no answer through the scripted worker: $(cat worker.err edge.log)"
[ "$(fetch)" = "hello from a scripted rhttp worker" ] || fail "wrong body: $(fetch)"
echo "rhttp_interop_test: 1 passed, 0 failed"
