#!/usr/bin/python3
"""Attack: file-descriptor exhaustion. The edge runs with RLIMIT_NOFILE 64;
the attacker opens 300 idle public connections, so that the edge's accept()
fails (EMFILE) while connections wait in the listen backlog, and holds them
for 3 s.

Asserted: over the 3 s window the edge uses less than 50 % of one core
(utime+stime from /proc/PID/stat) and its log grows by less than 1 MB (no
accept-failure busy loop, no log flood); after the attacker closes its
sockets a normal request gets 200 within 1 s (polled).
"""
import time

from attack_lib import check, connect, http_get, log, open_fds, run, wait_until

NOFILE = 64
SOCKETS = 300
HOLD = 3.0


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge(rlimit_nofile=NOFILE)
    ctx.start_agent(edge, service.port, connections=1)
    ctx.wait_ready(edge)
    fds_idle = open_fds(edge.pid)

    socks = []
    ctx.on_cleanup(lambda: [s.close() for s in socks])
    exhausted_at = None
    for i in range(SOCKETS):
        try:
            socks.append(connect(edge.public_port, timeout=2))
        except OSError as e:
            log(f"connect {i} failed: {e}")
            break
        if exhausted_at is None and open_fds(edge.pid) >= NOFILE - 1:
            exhausted_at = i + 1
    # Let the edge see the queue: its fd table is full once accept fails.
    full = wait_until(lambda: open_fds(edge.pid) >= NOFILE - 2, 3.0)
    log(f"edge fds idle {fds_idle}, now {open_fds(edge.pid)} of {NOFILE}; attacker holds "
        f"{len(socks)} connections (fd table full after {exhausted_at} connects)")
    check(full, f"the edge's fd table never filled ({open_fds(edge.pid)} of {NOFILE}); "
                "the attack did not take effect")

    cpu_before = edge.proc.cpu_seconds()
    log_before = edge.proc.log_size()
    window_start = time.monotonic()
    samples = []
    while time.monotonic() - window_start < HOLD:  # the measurement window itself
        time.sleep(0.5)
        samples.append(round(edge.proc.cpu_seconds() - cpu_before, 2))
        edge.proc.check_alive()
    window = time.monotonic() - window_start
    cpu = edge.proc.cpu_seconds() - cpu_before
    growth = edge.proc.log_size() - log_before
    log(f"over {window:.2f} s: edge CPU {cpu:.2f} s ({100 * cpu / window:.0f} % of a core; "
        f"cumulative samples {samples}), log growth {growth} bytes")

    for s in socks:
        s.close()
    socks.clear()
    closed_at = time.monotonic()
    recovered = wait_until(lambda: http_get(edge.public_port, path="/after", timeout=0.5)
                           .status == 200, 1.0, interval=0.05)
    recovery = time.monotonic() - closed_at
    log(f"after closing the sockets: normal request {'got 200' if recovered else 'failed'} "
        f"after {recovery:.2f} s")

    check(cpu / window < 0.5, f"edge CPU {100 * cpu / window:.0f} % of a core while its fds were "
                              f"exhausted (limit 50 %)")
    check(growth < 1_000_000, f"edge log grew by {growth} bytes in {window:.1f} s (limit 1 MB)")
    check(recovered, "no 200 within 1 s after the attacker closed its connections")
    edge.proc.check_alive()


if __name__ == "__main__":
    run(main, "fd_exhaustion", deadline=45)
