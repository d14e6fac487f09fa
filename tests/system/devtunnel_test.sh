#!/usr/bin/env bash
# The DevTunnel front end with a Node client scripted from DevTunnel's wire
# (devtunnel_client.mjs: register, long polls, raw requests to the app,
# POSTed answers, close) in front of a real app, python3's http.server. The
# public side is curl on the user's port: three requests (a page, 256 KiB
# of binary intact, a 404), then the client closes and the port is gone.
# Prints the wire transcript; the edge's access log has the three requests.
source "$(dirname "$0")/lib.sh"
CLIENT="$(cd "$(dirname "$0")" && pwd)/devtunnel_client.mjs"
command -v node >/dev/null || fail "node is not installed (scripts/setup installs it)"
cd "$WORK"

"$DIALBACK" pki init --dir pki >/dev/null
"$DIALBACK" pki issue --dir pki --name edge --dns localhost --server >/dev/null
agents_port=$(free_port); dev_port=$(free_port); app_port=$(free_port); user_port=$(free_port)
cat >edge.yaml <<YAML
edge: {id: edge-devtunnel}
agents: {listen: 127.0.0.1:$agents_port, cert: pki/edge.crt, key: pki/edge.key}
devtunnel: {listen: 127.0.0.1:$dev_port, ports: "$user_port", bind: 127.0.0.1, poll_timeout: 2s}
YAML
"$DIALBACK" edge --config edge.yaml 2>edge.log &
PIDS+=($!)

mkdir www
echo "hello through a DevTunnel client" >www/hello.txt
head -c 262144 /dev/urandom >www/blob.bin
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory www "$app_port" 2>app.log &
PIDS+=($!)
wait_for 20 grep -q "DevTunnel clients on" edge.log || fail "edge did not start: $(cat edge.log)"
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$app_port" || fail "the app did not start"

timeout 60 node "$CLIENT" "http://127.0.0.1:$dev_port/" "$app_port" 3 >transcript.txt 2>client.err &
client=$!; PIDS+=($client)
wait_for 20 grep -q "Tunnel Server Port: $user_port" transcript.txt ||
  fail "the client did not register: $(cat transcript.txt client.err)"

public="http://127.0.0.1:$user_port"
[ "$(curl -sS --max-time 20 "$public/hello.txt")" = "hello through a DevTunnel client" ] ||
  fail "GET /hello.txt through the tunnel"
curl -sS --max-time 20 -o blob.out "$public/blob.bin" || fail "GET /blob.bin through the tunnel"
cmp -s www/blob.bin blob.out || fail "the 256 KiB file arrived changed"
status=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$public/missing")
[ "$status" = 404 ] || fail "GET /missing answered $status"

wait_exit "$client" 30
[ "$EXIT_CODE" = 0 ] || fail "the client ended with $EXIT_CODE: $(cat transcript.txt client.err)"
grep -q "^< 200 .*server-port-closed=$user_port" transcript.txt || fail "no close in the transcript"
status=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$public/hello.txt" || true)
[ "$status" = 000 ] || fail "the closed user's port still answers ($status)"
for path in hello.txt blob.bin missing; do
  grep -q "\"GET 127.0.0.1:$user_port/$path\" .* tunnel=devtunnel" edge.log ||
    fail "no access line for /$path: $(grep tunnel= edge.log | tail -3)"
done
cat transcript.txt
echo "PASS"
