#!/usr/bin/env bash
# `dialback demo` driven by curl: the printed URL works, errors are clear,
# and Ctrl-C stops it with exit code 0.
source "$(dirname "$0")/lib.sh"

"$DIALBACK" demo --port 0 >"$WORK/out" 2>"$WORK/err" &
demo=$!; PIDS+=("$demo")
wait_for 30 grep -q "is up" "$WORK/out" || fail "demo did not come up: $(cat "$WORK/err")"
url=$(grep -o 'http://demo.localhost:[0-9]*/' "$WORK/out" | head -1)
port=$(echo "$url" | grep -o '[0-9]*/$' | tr -d /)

body=$(curl -sS -m 5 -H 'Host: demo.localhost' --data-binary 'ping-through-tunnel' "http://127.0.0.1:$port/echo")
echo "$body" | grep -q '^POST /echo' || fail "echo did not see the request: $body"
echo "$body" | grep -qi '^x-forwarded-for: 127.0.0.1' || fail "no X-Forwarded-For: $body"
echo "$body" | grep -qi '^x-request-id: ' || fail "no X-Request-Id: $body"
echo "$body" | grep -q 'ping-through-tunnel' || fail "request body lost: $body"

page=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -H 'Host: demo.localhost' "http://127.0.0.1:$port/")
[ "$page" = 200 ] || fail "page status $page"

status=$(curl -sS -m 5 -o "$WORK/404" -w '%{http_code}' -H 'Host: other.localhost' "http://127.0.0.1:$port/")
[ "$status" = 404 ] || fail "unknown host gave $status"
grep -q 'no tunnel serves this host' "$WORK/404" || fail "404 body does not name the hop"

kill -INT "$demo"
wait_exit "$demo" 10
[ "$EXIT_CODE" = 0 ] || fail "demo exit code after SIGINT: $EXIT_CODE"
echo "demo_test: 1 passed, 0 failed"
