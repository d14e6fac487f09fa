#!/usr/bin/python3
"""Attack: HPACK bomb. Each request's header block inserts one ~4 KB
literal (x-bomb) into the HPACK dynamic table, then references it 12 000
times with one-byte indexed fields: a 16 KB HEADERS frame that decodes to
~48 MB of header fields, far beyond public.max_header_bytes (64 KiB). Ten
such requests go over one h2c connection.

Asserted: every bomb stream is answered 431 or reset, or the edge closes the
connection (GOAWAY/EOF), within 10 s; nothing reaches the local service; the
edge's RSS grows by less than 20 MB; a normal request afterwards gets 200.
"""
import time

from attack_lib import (FLAG_END_HEADERS, FLAG_END_STREAM, HEADERS, RawH2, check, frame,
                        h2c_request, hpack_block, hpack_indexed, hpack_literal, http_get, log,
                        request_fields, run)

BOMBS = 10
REFERENCES = 12000
VALUE = "A" * 4000  # entry size 32 + 6 + 4000 fits the default 4096-byte table


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge()
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)
    rss_before = edge.proc.rss_kib()

    conn = RawH2(edge.public_port)
    started = time.monotonic()
    streams = []
    for i in range(BOMBS):
        stream_id = 1 + 2 * i
        block = (hpack_block(request_fields(path=f"/bomb/{i}")) +
                 hpack_literal("x-bomb", VALUE, indexing=True) +  # becomes index 62
                 hpack_indexed(62) * REFERENCES)
        assert len(block) < 16384, len(block)
        if not conn.send(frame(HEADERS, FLAG_END_STREAM | FLAG_END_HEADERS, stream_id, block)):
            break
        streams.append(stream_id)
        conn.pump(0)

    def settled():
        return all(conn.status(s) is not None or s in conn.resets for s in streams)

    deadline = started + 10
    while not settled() and conn.closed is None and time.monotonic() < deadline:
        conn.pump(0.1)
    elapsed = time.monotonic() - started
    rss_after = edge.proc.rss_kib()
    outcomes = {s: (conn.status(s) if conn.status(s) is not None else
                    f"reset {conn.resets[s]:#x}" if s in conn.resets else None) for s in streams}
    conn.close()
    decoded_mb = BOMBS * REFERENCES * (len(VALUE) + 6) / 1e6
    log(f"bomb streams sent: {len(streams)} (each decodes to ~{decoded_mb / BOMBS:.0f} MB, "
        f"{decoded_mb:.0f} MB in all); outcomes {sorted(set(map(str, outcomes.values())))}; "
        f"GOAWAY {conn.goaway}, closed {conn.closed}; {elapsed:.2f} s; "
        f"edge RSS {rss_before} -> {rss_after} KiB")

    edge.proc.check_alive()
    unanswered = [s for s, o in outcomes.items() if o is None]
    check(not unanswered or conn.closed is not None or conn.goaway is not None,
          f"{len(unanswered)} bomb streams got neither an answer nor a reset within 10 s and "
          f"the connection stayed open")
    wrong = {s: o for s, o in outcomes.items() if isinstance(o, int) and o != 431}
    check(not wrong, f"bomb streams answered with a status other than 431: {wrong}")
    check(service.count("/bomb") == 0,
          f"{service.count('/bomb')} bomb requests reached the service")
    check(rss_after - rss_before < 20 * 1024,
          f"edge RSS grew by {(rss_after - rss_before) / 1024:.1f} MiB (limit 20)")
    kind, status, _, _ = h2c_request(edge.public_port, request_fields(path="/after-h2"))
    check(kind == "status" and status == 200, f"normal h2c request afterwards: {kind} {status}")
    check(http_get(edge.public_port, path="/after-h1").status == 200,
          "normal HTTP/1.1 request afterwards failed")


if __name__ == "__main__":
    run(main, "hpack_bomb", deadline=40)
