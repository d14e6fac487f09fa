#!/usr/bin/python3
"""Attack: slowloris. 50 HTTP/1.1 connections each send a request head one
byte every 0.5 s and never finish it; the edge runs with
public.header_timeout: 2s.

Asserted: every attacking connection is closed by the edge (EOF or reset)
within header_timeout + 2 s = 4 s of its connect, and whatever it received
before the close is a 408 response; a normal request made during the attack
gets 200; no attacking request reaches the local service.
"""
import select
import time

from attack_lib import check, connect, http_get, log, parse_status, run

CONNECTIONS = 50
HEADER_TIMEOUT = 2.0
LIMIT = HEADER_TIMEOUT + 2.0
PAYLOAD = b"GET /slow HTTP/1.1\r\nHost: app.test\r\nX-Padding: " + b"a" * 200


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge(public_extra="header_timeout: 2s")
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)

    conns = []
    for _ in range(CONNECTIONS):
        sock = connect(edge.public_port)
        sock.setblocking(False)
        conns.append({"sock": sock, "t0": time.monotonic(), "sent": 0, "data": b"",
                      "closed_at": None, "how": None})
    ctx.on_cleanup(lambda: [c["sock"].close() for c in conns])

    def mark_closed(c, how):
        if c["closed_at"] is None:
            c["closed_at"], c["how"] = time.monotonic(), how

    started = time.monotonic()
    next_tick = started
    normal_status = None
    while any(c["closed_at"] is None for c in conns) and time.monotonic() - started < LIMIT + 3:
        now = time.monotonic()
        if now >= next_tick:
            for c in conns:
                if c["closed_at"] is None and c["sent"] < len(PAYLOAD):
                    try:
                        c["sock"].send(PAYLOAD[c["sent"]:c["sent"] + 1])
                        c["sent"] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        mark_closed(c, "reset")
            next_tick += 0.5
        if normal_status is None and now - started >= 1.0:
            normal_status = http_get(edge.public_port, path="/normal", timeout=3).status
            log(f"normal request during the attack: {normal_status}")
        open_socks = [c["sock"] for c in conns if c["closed_at"] is None]
        if not open_socks:
            break
        readable, _, _ = select.select(open_socks, [], [], max(0.0, next_tick - time.monotonic()))
        for c in conns:
            if c["sock"] in readable and c["closed_at"] is None:
                try:
                    chunk = c["sock"].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    mark_closed(c, "reset")
                    continue
                if chunk:
                    c["data"] += chunk
                else:
                    mark_closed(c, "eof")

    lifetimes = [c["closed_at"] - c["t0"] for c in conns if c["closed_at"] is not None]
    got_408 = sum(1 for c in conns if parse_status(c["data"]) == 408)
    still_open = sum(1 for c in conns if c["closed_at"] is None)
    log(f"attacking connections: {CONNECTIONS}, closed {len(lifetimes)}, still open {still_open}, "
        f"408 answers {got_408}, bytes sent per connection up to "
        f"{max(c['sent'] for c in conns)}")
    if lifetimes:
        log(f"time to close: min {min(lifetimes):.2f} s, max {max(lifetimes):.2f} s")
    check(normal_status == 200, f"normal request during the attack got {normal_status}")
    check(still_open == 0, f"{still_open} slowloris connections still open after "
                           f"{time.monotonic() - started:.1f} s")
    late = [round(t, 2) for t in lifetimes if t > LIMIT]
    check(not late, f"{len(late)} connections closed later than {LIMIT} s: {late[:5]}")
    wrong = [c["data"][:40] for c in conns if c["data"] and parse_status(c["data"]) != 408]
    check(not wrong, f"{len(wrong)} connections got something other than 408: {wrong[:3]}")
    check(service.count("/slow") == 0,
          f"{service.count('/slow')} slow requests reached the service")
    edge.proc.check_alive()


if __name__ == "__main__":
    run(main, "slowloris", deadline=40)
