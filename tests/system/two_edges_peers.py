#!/usr/bin/python3
"""One agent on two edges, one of them killed under load, for the system tests.

  two_edges_peers.py service --port P --delay-ms D
      Local service (threaded): GET /<id> answers 200 "ok <id>" after D ms,
      so that requests overlap and some are in flight at any moment.
  two_edges_peers.py load --port-a PA --port-b PB --host H --kill-pid PID
                          --restart FILE --restarted FILE --out FILE
      Public clients: WORKERS threads send GETs (one connection each, with a
      timeout) alternating between edge A (PA) and edge B (PB) in phases:
        1. both edges for BEFORE s; then, once a request on A has been in
           flight for 10 ms, SIGKILL to PID (edge A);
        2. edge B only; DOWN s after the kill create FILE --restart (the test
           restarts edge A), wait for FILE --restarted, then probe A every
           100 ms until a request through it succeeds (at most 20 s);
        3. both edges again for AFTER s.
      Probes are not counted as load. Writes shell assignments to --out:
      per edge sent/ok/failed, the requests in flight on A at the kill, the
      failures on A that were in flight then, the successes on B while A was
      down and on A after it served again, the time from the restart to the
      first good probe; and one line per failure on stderr.
      Exits 0 when it could run the phases; the test judges the numbers.
"""
import argparse
import http.client
import http.server
import itertools
import os
import signal
import socketserver
import sys
import threading
import time

WORKERS = 8
TIMEOUT = 5.0
BEFORE = 3.0
DOWN = 1.5
AFTER = 2.0
REDIAL_DEADLINE = 20.0


def serve(args):
    delay = args.delay_ms / 1000.0

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            time.sleep(delay)
            body = f"ok {self.path[1:]}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, request, client_address):
            pass  # the agent closes connections of requests cut off at the kill

    Server(("127.0.0.1", args.port), Handler).serve_forever()


def request(port, host, rid):
    """One GET through the edge on PORT; None when it succeeded, else why not."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", f"/{rid}", headers={"Host": host, "Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return f"status {resp.status}: {body[:120]!r}"
        if body != f"ok {rid}".encode():
            return f"wrong body {body[:120]!r}"
        return None
    except Exception as e:  # a refused, reset or timed-out connection
        return f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def wait_file(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def load(args):
    ports = {"A": args.port_a, "B": args.port_b}
    lock = threading.Lock()
    stats = {e: {"sent": 0, "ok": 0, "failed": 0} for e in ports}
    in_flight = {}  # request id -> (edge, start)
    failures = []  # (edge, rid, start, end, why)
    oks = []  # (edge, start, end)
    ids = itertools.count()
    state = {"a_open": True, "stop": False, "kill_at": None, "killed_in_flight": 0}

    def worker(n):
        turn = n % 2  # half the workers start on A, half on B
        while True:
            with lock:
                if state["stop"]:
                    return
                edge = "AB"[turn % 2] if state["a_open"] else "B"
                turn += 1
                rid = next(ids)
                start = time.monotonic()
                in_flight[rid] = (edge, start)
                stats[edge]["sent"] += 1
            why = request(ports[edge], args.host, rid)
            end = time.monotonic()
            with lock:
                del in_flight[rid]
                if why is None:
                    stats[edge]["ok"] += 1
                    oks.append((edge, start, end))
                else:
                    stats[edge]["failed"] += 1
                    failures.append((edge, rid, start, end, why))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()

    # 1. Both edges; then kill A while a request on A has been in flight for
    # at least 10 ms (it has reached the edge, likely the service too).
    time.sleep(BEFORE)
    deadline = time.monotonic() + 5.0
    while True:
        with lock:
            now = time.monotonic()
            if any(e == "A" and now - s >= 0.010 for e, s in in_flight.values()) or now > deadline:
                state["a_open"] = False
                state["kill_at"] = now
                state["killed_in_flight"] = sum(1 for e, _ in in_flight.values() if e == "A")
                os.kill(args.kill_pid, signal.SIGKILL)
                break
        time.sleep(0.001)
    kill_at = state["kill_at"]

    # 2. B only while A is down; the test restarts it; probe A until it serves.
    time.sleep(DOWN)
    open(args.restart, "w").close()
    restarted_ok = wait_file(args.restarted, 20.0)
    restarted_at = time.monotonic()
    probes, served_after = 0, None
    last_probe = ""
    deadline = restarted_at + REDIAL_DEADLINE
    while restarted_ok and time.monotonic() < deadline:
        probes += 1
        last_probe = request(args.port_a, args.host, f"probe-{probes}") or ""
        if not last_probe:
            served_after = time.monotonic() - restarted_at
            break
        time.sleep(0.1)

    # 3. Both edges again (when A serves).
    if served_after is not None:
        with lock:
            state["a_open"] = True
        time.sleep(AFTER)
    with lock:
        state["stop"] = True
    for t in threads:
        t.join()

    a_ok_after = sum(1 for e, s, end in oks if e == "A" and s > kill_at)
    b_ok_down = sum(1 for e, s, end in oks if e == "B" and kill_at < s and end < restarted_at)
    a_failed_in_flight = sum(
        1 for e, _, s, end, _ in failures if e == "A" and s <= kill_at < end)
    for e, rid, s, end, why in failures:
        print(f"failed: edge {e} request {rid} started {s - kill_at:+.3f}s ended "
              f"{end - kill_at:+.3f}s from the kill: {why}", file=sys.stderr)
    out = {
        "A_SENT": stats["A"]["sent"], "A_OK": stats["A"]["ok"], "A_FAILED": stats["A"]["failed"],
        "B_SENT": stats["B"]["sent"], "B_OK": stats["B"]["ok"], "B_FAILED": stats["B"]["failed"],
        "KILLED_IN_FLIGHT": state["killed_in_flight"],
        "A_FAILED_IN_FLIGHT": a_failed_in_flight,
        "A_OK_AFTER": a_ok_after,
        "B_OK_DOWN": b_ok_down,
        "KILL_AFTER_S": f"{kill_at - t0:.2f}",
        "RESTARTED": int(restarted_ok),
        "PROBES": probes,
        "LAST_PROBE": repr(last_probe).replace("'", ""),
        "SERVED_AFTER_S": "" if served_after is None else f"{served_after:.2f}",
        "DOWN_S": f"{restarted_at - kill_at:.2f}",
    }
    with open(args.out, "w") as f:
        for k, v in out.items():
            f.write(f"{k}='{v}'\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("service")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--delay-ms", type=int, default=30)
    l = sub.add_parser("load")
    l.add_argument("--port-a", type=int, required=True)
    l.add_argument("--port-b", type=int, required=True)
    l.add_argument("--host", required=True)
    l.add_argument("--kill-pid", type=int, required=True)
    for name in ("restart", "restarted", "out"):
        l.add_argument(f"--{name}", required=True)
    args = p.parse_args()
    serve(args) if args.cmd == "service" else load(args)


if __name__ == "__main__":
    main()
