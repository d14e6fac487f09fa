#!/usr/bin/python3
"""Attack: HTTP/1.1 request-body framing errors after a valid head
(request smuggling / desync material): a chunked body with bare-LF line
endings, a chunk size that is not hex, a chunk extension holding a bare CR,
and chunk data not followed by CRLF.

Asserted: for each, on a connection the client keeps open, the edge answers
400 and closes the connection (EOF or reset) within 2 s of the request being
sent, and a normal request on a new connection afterwards gets 200.
"""
import time

from attack_lib import check, connect, http_get, log, parse_status, read_until_closed, run

HEAD = b"POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
CASES = [
    ("bare LF chunk framing", HEAD + b"5\nhello\n0\n\n"),
    ("bad chunk size", HEAD + b"zz\r\nhello\r\n0\r\n\r\n"),
    ("bare CR in chunk extension", HEAD + b"5;ext=a\rb\r\nhello\r\n0\r\n\r\n"),
    ("no CRLF after chunk data", HEAD + b"5\r\nhelloXX0\r\n\r\n"),
]


def one_case(edge, name, raw):
    with connect(edge.public_port) as sock:
        started = time.monotonic()
        sock.sendall(raw)
        data, outcome, elapsed = read_until_closed(sock, 4.0)
    status = parse_status(data)
    log(f"{name}: status={status} connection={outcome} after {elapsed:.2f} s")
    check(status == 400, f"expected 400, got {status} ({data[:80]!r})")
    check(outcome in ("eof", "reset") and elapsed <= 2.0,
          f"connection not closed within 2 s (outcome={outcome}, "
          f"{time.monotonic() - started:.2f} s)")


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge()
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)

    for name, raw in CASES:
        ctx.part(name, one_case, edge, name, raw)
        edge.proc.check_alive()

    response = http_get(edge.public_port, path="/after")
    check(response.status == 200, f"normal request after the attacks: {response.status}")


if __name__ == "__main__":
    run(main, "bare_lf", deadline=40)
