#!/usr/bin/python3
"""Attack: HTTP/2 CONTINUATION flood (CVE-2024-27316 class). An h2c client
sends HEADERS without END_HEADERS, then up to 10 000 CONTINUATION frames of
16 bytes (each one valid HPACK field, "x-flood: vvvvvv"), never ending the
header block.

Asserted: the edge ends the connection (GOAWAY, EOF or reset) within 5 s of
the HEADERS frame, nothing reaches the local service, the edge's RSS grows
by less than 20 MB, and a normal request on a new connection (h2c and
HTTP/1.1) still gets 200.
"""
import time

from attack_lib import (CONTINUATION, FLAG_END_STREAM, HEADERS, RawH2, check, frame, h2c_request,
                        hpack_block, hpack_literal, http_get, log, request_fields, run)

FRAMES = 10000
BATCH = 200
LIMIT = 5.0


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge()
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)
    rss_before = edge.proc.rss_kib()

    chunk = hpack_literal("x-flood", "vvvvvv")
    assert len(chunk) == 16
    conn = RawH2(edge.public_port)
    started = time.monotonic()
    conn.send(frame(HEADERS, FLAG_END_STREAM, 1, hpack_block(request_fields(path="/cont"))))
    sent = 0
    one_batch = frame(CONTINUATION, 0, 1, chunk) * BATCH
    while sent < FRAMES and conn.closed is None and conn.goaway is None \
            and time.monotonic() - started < LIMIT:
        if not conn.send(one_batch, timeout=max(0.1, LIMIT - (time.monotonic() - started))):
            break
        sent += BATCH
        conn.pump(0)
    send_time = time.monotonic() - started
    conn.wait_closed(max(0.0, LIMIT - (time.monotonic() - started)))
    ended_at = conn.closed_at
    if conn.goaway_at is not None:
        ended_at = conn.goaway_at if ended_at is None else min(ended_at, conn.goaway_at)
    conn.close()
    rss_after = edge.proc.rss_kib()
    log(f"CONTINUATION frames sent: {sent} in {send_time:.2f} s; GOAWAY {conn.goaway}, "
        f"closed {conn.closed}, ended after "
        f"{'-' if ended_at is None else f'{ended_at - started:.2f} s'}; "
        f"edge RSS {rss_before} -> {rss_after} KiB")

    edge.proc.check_alive()
    check(ended_at is not None and ended_at - started <= LIMIT,
          f"the edge did not end the connection within {LIMIT} s "
          f"({sent} CONTINUATION frames sent, still open)")
    check(service.count("/cont") == 0, "the flooded request reached the local service")
    check(rss_after - rss_before < 20 * 1024,
          f"edge RSS grew by {(rss_after - rss_before) // 1024} MiB")
    kind, status, _, _ = h2c_request(edge.public_port, request_fields(path="/after-h2"))
    check(kind == "status" and status == 200, f"normal h2c request afterwards: {kind} {status}")
    response = http_get(edge.public_port, path="/after-h1")
    check(response.status == 200, f"normal HTTP/1.1 request afterwards: {response.status}")


if __name__ == "__main__":
    run(main, "continuation_flood", deadline=40)
