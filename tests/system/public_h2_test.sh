#!/usr/bin/env bash
# Public HTTP/2 with clients no dialback code wrote: curl over HTTPS (ALPN h2
# and http/1.1) and with h2c prior knowledge, nghttp, h2load, and a raw
# python3-h2 client for header fields nghttp2-based clients never send.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"

mkdir site && head -c 3000000 /dev/urandom >site/blob && echo small >site/small
want=$(sha256sum <site/blob | cut -d' ' -f1)
service_port=$(free_port)
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory site "$service_port" 2>service.log &
PIDS+=($!)
start_tunnel "$service_port"
tls=(--cacert pki/ca.crt --resolve "app.test:$HTTPS_PORT:127.0.0.1")
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" "https://app.test:$HTTPS_PORT/blob")" = 200 ]; }
wait_for 30 ready || fail "tunnel did not come up: $(tail -n 3 edge.log agent.log)"
passed=0

# curl, HTTPS: ALPN picks h2, or http/1.1 when that is all curl offers.
version=$(curl -s --http2 "${tls[@]}" -o got -w '%{http_version}' "https://app.test:$HTTPS_PORT/blob")
[ "$version" = 2 ] || fail "curl --http2 over TLS spoke HTTP/$version"
[ "$(sha256sum <got | cut -d' ' -f1)" = "$want" ] || fail "h2 download corrupted"
passed=$((passed + 1))
version=$(curl -s --http1.1 "${tls[@]}" -o got -w '%{http_version}' "https://app.test:$HTTPS_PORT/blob")
[ "$version" = 1.1 ] || fail "curl --http1.1 over TLS spoke HTTP/$version"
[ "$(sha256sum <got | cut -d' ' -f1)" = "$want" ] || fail "HTTPS/1.1 download corrupted"
passed=$((passed + 1))

# curl, h2c with prior knowledge on the plain listener; HTTP/1.1 still works there.
version=$(curl -s --http2-prior-knowledge -o got -w '%{http_version}' \
  --resolve "app.test:$PUBLIC_PORT:127.0.0.1" "http://app.test:$PUBLIC_PORT/blob")
[ "$version" = 2 ] || fail "curl --http2-prior-knowledge spoke HTTP/$version"
[ "$(sha256sum <got | cut -d' ' -f1)" = "$want" ] || fail "h2c download corrupted"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: app.test' "http://127.0.0.1:$PUBLIC_PORT/blob")
[ "$status" = 200 ] || fail "HTTP/1.1 on the h2c listener: $status"
# `Upgrade: h2c` (curl --http2 on http://) is ignored: answered over HTTP/1.1.
version=$(curl -s --http2 -o got -w '%{http_version}' \
  --resolve "app.test:$PUBLIC_PORT:127.0.0.1" "http://app.test:$PUBLIC_PORT/blob")
[ "$version" = 1.1 ] || fail "an Upgrade: h2c request was answered over HTTP/$version"
[ "$(sha256sum <got | cut -d' ' -f1)" = "$want" ] || fail "download after Upgrade: h2c corrupted"
passed=$((passed + 1))

# nghttp over TLS (ALPN h2), two streams on one connection.
out=$(nghttp -n -s -H ":authority: app.test" "https://127.0.0.1:$HTTPS_PORT/blob" \
  "https://127.0.0.1:$HTTPS_PORT/blob?again" 2>&1) || fail "nghttp failed: $out"
[ "$(echo "$out" | grep -c ' 200 ')" -ge 2 ] || fail "nghttp did not get two 200s: $out"
passed=$((passed + 1))

# h2load: 200 requests, 4 connections, 10 streams each, all 2xx.
out=$(h2load -n 200 -c 4 -m 10 -H ":authority: app.test" "http://127.0.0.1:$PUBLIC_PORT/small" 2>&1)
echo "$out" | grep -q "200 succeeded, 0 failed, 0 errored" || fail "h2load: $out"
echo "$out" | grep -q "status codes: 200 2xx" || fail "h2load status codes: $out"
passed=$((passed + 1))

# Raw header fields: an upper-case name and a Host disagreeing with
# :authority never reach the service.
raw="/usr/bin/python3 $HERE/h2_raw_client.py $PUBLIC_PORT app.test /blob"
before=$(grep -c '"GET /blob' service.log || true)
[ "$($raw X-Upper=1)" = "reset 1" ] || fail "upper-case name: $($raw X-Upper=1)"
[ "$($raw host=other.test)" = "status 400" ] || fail "Host mismatch: $($raw host=other.test)"
[ "$($raw x-ok=1)" = "status 200" ] || fail "a valid raw request failed"
after=$(grep -c '"GET /blob' service.log || true)
[ "$after" -eq $((before + 1)) ] || fail "rejected requests reached the service ($before -> $after)"
passed=$((passed + 1))

echo "public_h2_test: $passed passed, 0 failed"
