#!/usr/bin/env bash
# Public HTTP/3 (public.h3) with a client no dialback code wrote: Debian's
# ngtcp2 example client gtlsclient (ALPN h3) fetches a file and posts a body
# through the tunnel, then does both again while it drops 5 % of the
# datagrams it sends and receives (--tx-loss / --rx-loss). HTTPS responses
# over HTTP/1.1 and HTTP/2 advertise the HTTP/3 port (Alt-Svc).
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"

mkdir site && head -c 2000000 /dev/urandom >site/blob
want=$(sha256sum <site/blob | cut -d' ' -f1)
head -c 700000 /dev/urandom >upload.bin
want_upload="$(sha256sum <upload.bin | cut -d' ' -f1) 700000"
service_port=$(free_port)
/usr/bin/python3 "$HERE/file_sha_service.py" "$service_port" site 2>service.log &
PIDS+=($!)
# drain_timeout: a lossy client below may exit before its last ACK or its
# CONNECTION_CLOSE arrive; its connection then waits for it until the idle
# timeout, and a shutdown cuts it at the drain deadline.
EDGE_EDGE_YAML="drain_timeout: 3s" PUBLIC_H3=1 start_tunnel "$service_port"
tls=(--cacert pki/ca.crt --resolve "app.test:$HTTPS_PORT:127.0.0.1")
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" "https://app.test:$HTTPS_PORT/blob")" = 200 ]; }
wait_for 30 ready || fail "tunnel did not come up: $(tail -n 3 edge.log agent.log)"
grep -q "listening: public HTTP/3 on 127.0.0.1:$HTTPS_PORT" edge.log || fail "no HTTP/3 listener: $(cat edge.log)"
passed=0

# Alt-Svc on HTTPS, over HTTP/1.1 and HTTP/2; never on plain HTTP.
alt="alt-svc: h3=\":$HTTPS_PORT\"; ma=86400"
for version in --http1.1 --http2; do
  headers=$(curl -s -D - -o /dev/null "$version" "${tls[@]}" "https://app.test:$HTTPS_PORT/blob" | tr -d '\r')
  echo "$headers" | grep -qix "$alt" || fail "no Alt-Svc over curl $version: $headers"
done
headers=$(curl -s -D - -o /dev/null -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/blob")
echo "$headers" | grep -qi "^alt-svc" && fail "Alt-Svc on plain HTTP: $headers"
passed=$((passed + 1))

# h3 GET URI... / h3 POST URI: gtlsclient in its own directory, a deadline,
# the response bodies under ./dl. Extra arguments go before the host.
h3() {
  local method=$1 uri=$2; shift 2
  rm -rf dl && mkdir dl
  local data=()
  [ "$method" = POST ] && data=(-m POST --data=upload.bin)
  timeout 30 gtlsclient --quiet --exit-on-all-streams-close --download=dl "${data[@]}" "$@" \
    127.0.0.1 "$HTTPS_PORT" "$uri" >client.log 2>&1 || fail "gtlsclient $method $uri $*: $(tail -n 5 client.log)"
}

h3 GET "https://app.test:$HTTPS_PORT/blob"
[ "$(sha256sum <dl/blob | cut -d' ' -f1)" = "$want" ] || fail "HTTP/3 download corrupted"
passed=$((passed + 1))

h3 POST "https://app.test:$HTTPS_PORT/upload"
[ "$(cat dl/upload)" = "$want_upload" ] || fail "HTTP/3 upload arrived as '$(cat dl/upload)', sent '$want_upload'"
passed=$((passed + 1))

# An unknown host: the edge's own 404 page, over HTTP/3.
h3 GET "https://nope.test:$HTTPS_PORT/blob"
grep -q "no tunnel" dl/blob || fail "unknown host over HTTP/3: $(head -c 300 dl/blob)"
passed=$((passed + 1))

# 5 % loss each way, in the client: QUIC recovers, both bodies arrive whole.
h3 GET "https://app.test:$HTTPS_PORT/blob" --tx-loss=0.05 --rx-loss=0.05
[ "$(sha256sum <dl/blob | cut -d' ' -f1)" = "$want" ] || fail "lossy HTTP/3 download corrupted"
h3 POST "https://app.test:$HTTPS_PORT/upload" --tx-loss=0.05 --rx-loss=0.05
[ "$(cat dl/upload)" = "$want_upload" ] || fail "lossy HTTP/3 upload arrived as '$(cat dl/upload)'"
passed=$((passed + 1))

# The access log saw the requests arrive over the tunnel.
[ "$(grep -c "\"POST app.test:$HTTPS_PORT/upload\" 200" edge.log)" -ge 2 ] || fail "access log: $(grep access edge.log | tail -n 3)"
passed=$((passed + 1))

# Shutdown: an HTTP/3 connection left open (no --exit-on-all-streams-close)
# gets GOAWAY and closes at once (its client exits); the edge stops within
# edge.drain_timeout (3 s), not after the clients' idle timeout.
timeout 30 gtlsclient --quiet --download=dl 127.0.0.1 "$HTTPS_PORT" \
  "https://app.test:$HTTPS_PORT/blob" >idle-client.log 2>&1 &
client=$!
PIDS+=("$client")
rm -f dl/blob
wait_for 10 test -s dl/blob || fail "the idle client's request failed: $(tail -n 3 idle-client.log)"
started=$SECONDS
kill -TERM "${PIDS[1]}"  # the edge (start_tunnel started it after the service)
wait_exit "${PIDS[1]}" 20
[ "$EXIT_CODE" = 0 ] || fail "edge exit: $EXIT_CODE: $(tail -n 3 edge.log)"
[ $((SECONDS - started)) -le 5 ] || fail "the edge took $((SECONDS - started)) s to stop"
wait_exit "$client" 10
[ "$EXIT_CODE" = 0 ] || fail "gtlsclient did not see the connection close: $EXIT_CODE"
passed=$((passed + 1))

echo "public_h3_test: $passed passed, 0 failed"
