#!/usr/bin/python3
"""Attack: HTTP/2 rapid reset (CVE-2023-44487). Three public h2c
connections each send up to 2000 HEADERS (GET /attack, app.test) +
RST_STREAM(CANCEL) pairs as fast as they can, for at most ~3 s, while a
victim client makes ordinary HTTP/1.1 keep-alive GETs through the same
tunnel during the attack and for 3 s after it.

Asserted:
  - every victim request got 200 (no 502/503, no timeout);
  - the local service saw fewer than 1 % of the attack streams;
  - each attacking connection received GOAWAY with ENHANCE_YOUR_CALM (0xb)
    and was then closed by the edge;
  - the agent's tunnel sessions survive: the edge logs no "session <id>
    closed" for them and the agent logs no session end or reconnect.
Printed: attack streams sent, attack requests that reached the service,
victim requests and failures, agent RSS before/after.
"""
import threading
import time

from attack_lib import (CANCEL, ENHANCE_YOUR_CALM, FLAG_END_HEADERS, FLAG_END_STREAM, HEADERS,
                        KeepAliveClient, RawH2, check, frame, hpack_block, log, request_fields,
                        rst_stream_frame, run, wait_until)

ATTACKERS = 3
PAIRS = 2000
ATTACK_SECONDS = 3.0
TAIL_SECONDS = 3.0
BATCH = 25


def attacker(port, result):
    conn = RawH2(port)
    result["conn"] = conn
    block = hpack_block(request_fields(path="/attack"))
    sent = 0
    stream_id = 1
    deadline = time.monotonic() + ATTACK_SECONDS
    while sent < PAIRS and time.monotonic() < deadline and conn.closed is None \
            and conn.goaway is None:
        batch = bytearray()
        for _ in range(min(BATCH, PAIRS - sent)):
            batch += frame(HEADERS, FLAG_END_STREAM | FLAG_END_HEADERS, stream_id, block)
            batch += rst_stream_frame(stream_id, CANCEL)
            stream_id += 2
        if not conn.send(bytes(batch), timeout=max(0.1, deadline - time.monotonic())):
            break
        sent += min(BATCH, PAIRS - sent)
        conn.pump(0)
    result["sent"] = sent
    result["stopped_sending"] = time.monotonic()
    conn.wait_closed(3.0)
    conn.close()


def victim(port, stop, results):
    client = KeepAliveClient(port)
    i = 0
    while not stop.is_set():
        i += 1
        try:
            response = client.get(f"/victim/{i}", timeout=5)
            results.append((time.monotonic(), response.status))
        except Exception as e:  # a timeout or a dropped connection is a failure
            results.append((time.monotonic(), f"{type(e).__name__}: {e}"))
            client.close()
    client.close()


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge()
    agent = ctx.start_agent(edge, service.port, connections=2)
    ctx.wait_ready(edge, sessions=2)
    agent_sessions = edge.sessions_opened()
    agent_log_before = agent.log_text()
    rss_before = agent.rss_kib()
    edge_rss_before = edge.proc.rss_kib()

    stop = threading.Event()
    victim_results = []
    victim_thread = threading.Thread(target=victim, args=(edge.public_port, stop, victim_results),
                                     daemon=True)
    victim_thread.start()
    check(wait_until(lambda: victim_results, 5), "the victim's first request took over 5 s")
    results = [{} for _ in range(ATTACKERS)]
    threads = [threading.Thread(target=attacker, args=(edge.public_port, r), daemon=True)
               for r in results]
    attack_started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(ATTACK_SECONDS + 8)
    attack_ended = time.monotonic()
    # The victim goes on for TAIL_SECONDS after the attack (a timed window
    # of the measurement, not a readiness wait).
    while time.monotonic() < attack_ended + TAIL_SECONDS:
        stop.wait(0.1)
    stop.set()
    victim_thread.join(10)
    check(not victim_thread.is_alive(), "victim thread did not finish")
    check(all(not t.is_alive() for t in threads), "an attacker thread did not finish")

    sent_total = sum(r.get("sent", 0) for r in results)
    reached = service.count("/attack")
    failures = [(round(t - attack_started, 2), s) for t, s in victim_results if s != 200]
    rss_after = agent.rss_kib()
    edge_rss_after = edge.proc.rss_kib()
    log(f"attack streams sent: {sent_total} ({[r.get('sent') for r in results]}) "
        f"in {attack_ended - attack_started:.2f} s")
    log(f"attack requests that reached the service: {reached}")
    log(f"victim requests: {len(victim_results)}, failures: {len(failures)} {failures[:5]}")
    log(f"agent RSS before/after: {rss_before} / {rss_after} KiB; "
        f"edge RSS before/after: {edge_rss_before} / {edge_rss_after} KiB")
    for i, r in enumerate(results):
        conn = r["conn"]
        log(f"attacker {i}: sent {r.get('sent')}, GOAWAY {conn.goaway}, closed {conn.closed}, "
            f"resets received {len(conn.resets)}, responses {len(conn.headers_streams)}")

    edge.proc.check_alive()
    agent.check_alive()
    check(victim_results, "the victim made no request")
    check(not failures, f"{len(failures)} of {len(victim_results)} victim requests failed "
                        f"(seconds since attack start, outcome): {failures[:5]}")
    check(reached < 0.01 * sent_total,
          f"{reached} of {sent_total} attack streams reached the local service (limit 1 %)")
    for i, r in enumerate(results):
        conn = r["conn"]
        check(conn.goaway is not None,
              f"attacker {i} got no GOAWAY (sent {r.get('sent')}, closed={conn.closed})")
        check(conn.goaway[1] == ENHANCE_YOUR_CALM,
              f"attacker {i} got GOAWAY with error {conn.goaway[1]:#x}, "
              f"expected ENHANCE_YOUR_CALM (0xb)")
        check(conn.closed is not None, f"attacker {i}: the edge did not close the connection "
                                       f"within 3 s of its GOAWAY")
    closed = edge.session_closed_lines(agent_sessions)
    check(not closed, f"agent sessions closed at the edge: {closed[:3]}")
    agent_new = agent.log_text()[len(agent_log_before):]
    ended = [line for line in agent_new.splitlines() if "ended:" in line or "reconnecting" in line]
    check(not ended, f"the agent lost a session: {ended[:3]}")


if __name__ == "__main__":
    run(main, "rapid_reset", deadline=50)
