#!/usr/bin/python3
"""Attack: registration flood / credential guessing on the agent listener,
and its false-positive twin, a legitimate fleet registering at once.

1. Flood (edge with the default agents.limits): 300 registrations with a
   wrong token from 127.0.0.1, each on a fresh TLS connection, speaking the
   agent's registration request (GET /.well-known/dialback/v1/tunnel,
   Upgrade: ptth, Authorization: Bearer wrong, ...).
   Asserted: the first answers are 401; once the per-IP failure budget
   (agents.limits.failures_per_ip default {rate: 1, burst: 20}) is spent the
   answers are 429 with a Retry-After header (at most burst + elapsed
   seconds + 2 answers are 401; every answer is 401 or 429); the edge logs
   fewer than 50 lines for the 300 attempts (aggregated refusals); a
   correct registration from another address (127.0.0.2) still gets 101.
2. Fleet (a fresh edge): 1000 registrations with the right token from
   127.0.0.1 sent at once on 1000 concurrent TLS connections (a fleet of
   1000 agents behind one address reconnecting after an edge restart):
   every one is answered 101, none 429.
3. The limits are configuration (docs/configuration.md: agents.limits.
   handshakes_per_ip / handshakes / failures_per_ip, each {rate, burst} or
   off): with failures_per_ip: off (the others at their defaults, written
   out) the edge starts and 40 wrong tokens all get 401.
"""
import threading
import time
from collections import Counter

from attack_lib import check, log, register, run

FLOOD = 300
FLEET = 1000
BURST = 20
RATE = 1.0


def flood(ctx, edge, attempts, token="wrong"):
    statuses = []
    retry_after_missing = 0
    for i in range(attempts):
        try:
            response, sock, _ = register(ctx, edge, token=token, node=f"guess-{i}", timeout=5)
            sock.close()
            statuses.append(response.status)
            if response.status == 429 and not response.header("Retry-After"):
                retry_after_missing += 1
        except Exception as e:  # no HTTP answer at all
            statuses.append(f"{type(e).__name__}")
    return statuses, retry_after_missing


def flood_part(ctx):
    edge = ctx.start_edge()
    lines_before = len(edge.proc.log_lines())
    started = time.monotonic()
    statuses, retry_after_missing = flood(ctx, edge, FLOOD)
    elapsed = time.monotonic() - started
    # An aggregated log line may come at the end of its interval: the count
    # covers one more second after the flood (a measurement window).
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        time.sleep(0.1)
    new_lines = edge.proc.log_lines()[lines_before:]
    counts = dict(Counter(map(str, statuses)))
    first_429 = next((i for i, s in enumerate(statuses) if s == 429), None)
    log(f"flood: {FLOOD} wrong-token registrations in {elapsed:.2f} s: {counts}; first 429 at "
        f"attempt {first_429}; 429 without Retry-After: {retry_after_missing}; "
        f"edge log lines: {len(new_lines)}")
    for line in new_lines[:3]:
        log(f"  edge log: {line}")

    edge.proc.check_alive()
    other = [s for s in statuses if s not in (401, 429)]
    check(not other, f"answers other than 401/429: {sorted(set(map(str, other)))} "
                     f"({len(other)} of {FLOOD})")
    check(statuses[0] == 401, f"the first wrong-token registration got {statuses[0]}, not 401")
    max_401 = BURST + int(elapsed * RATE) + 2
    check(statuses.count(401) <= max_401,
          f"{statuses.count(401)} answers were 401 (budget {BURST} + {RATE}/s over "
          f"{elapsed:.1f} s allows at most {max_401}): no per-IP failure limit")
    check(retry_after_missing == 0, f"{retry_after_missing} 429 answers had no Retry-After")
    check(len(new_lines) < 50, f"the edge logged {len(new_lines)} lines for {FLOOD} refused "
                               f"registrations (limit 50)")
    response, sock, _ = register(ctx, edge, token=ctx.token, node="other-ip", source="127.0.0.2")
    sock.close()
    check(response.status == 101,
          f"a correct registration from 127.0.0.2 after the flood got {response.status}")


def fleet_part(ctx):
    fleet_edge = ctx.start_edge(name="edge-fleet")
    barrier = threading.Barrier(FLEET, timeout=60)
    results = [None] * FLEET
    socks = []
    lock = threading.Lock()

    def one(i):
        try:
            barrier.wait()
            response, sock, _ = register(ctx, fleet_edge, token=ctx.token, node=f"fleet-{i}",
                                         timeout=30)
            with lock:
                socks.append(sock)
            results[i] = response.status
        except Exception as e:
            results[i] = f"{type(e).__name__}: {e}"

    ctx.on_cleanup(lambda: [s.close() for s in socks])
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(FLEET)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, started + 60 - time.monotonic()))
    elapsed = time.monotonic() - started
    for s in socks:
        s.close()
    counts = dict(Counter(map(str, results)))
    log(f"fleet: {FLEET} concurrent correct registrations in {elapsed:.2f} s: {counts}")
    check(all(not t.is_alive() for t in threads), "fleet registrations did not finish in 60 s")
    check(results.count(429) == 0, f"{results.count(429)} of {FLEET} legitimate registrations "
                                   f"got 429")
    check(results.count(101) == FLEET, f"only {results.count(101)} of {FLEET} legitimate "
                                       f"registrations got 101: {counts}")


def config_part(ctx):
    open_edge = ctx.start_edge(
        name="edge-nolimit",
        agents_extra="limits: {failures_per_ip: off, "
                     "handshakes_per_ip: {rate: 100, burst: 2000}, "
                     "handshakes: {rate: 1000, burst: 10000}}")
    statuses, _ = flood(ctx, open_edge, 40)
    log(f"failure limit disabled: 40 wrong tokens -> {dict(Counter(map(str, statuses)))}")
    check(statuses.count(401) == 40, f"with agents.limits.failures_per_ip: off, answers were "
                                     f"{dict(Counter(map(str, statuses)))}")


def main(ctx):
    ctx.part("flood", flood_part, ctx)
    ctx.part("fleet", fleet_part, ctx)
    ctx.part("limits config", config_part, ctx)


if __name__ == "__main__":
    run(main, "registration_flood", deadline=110)
