#!/usr/bin/python3
"""Attack from behind the tunnel: a (compromised or buggy) local service.
1. It answers with ~100 KB of response headers (200 fields of 500 bytes).
   Asserted: the public client gets 502 (the response is refused, not
   relayed) and the log of the hop that refused it says why: the agent,
   whose HTTP/1.1 parser toward the local service has the same 64 KiB head
   limit, logs "header limit"; the edge's own refusal of an agent's
   oversized HTTP/2 head is malicious_agent_attack.py's oversized_headers.
2. It sends a head with Content-Length: 2147483648 and then goes silent.
   With public.first_byte_timeout: 2s the public client's connection ends
   (EOF or reset) within 4.5 s of the request.
"""
import threading
import time

from attack_lib import (check, connect, get_request, http_get, log, read_until_closed, run,
                        wait_until)

FIELDS = 200
FIELD_BYTES = 500


def main(ctx):
    release = threading.Event()
    ctx.on_cleanup(release.set)

    def hook(handler, record):
        if record.path.startswith("/fat-response"):
            handler.send_response(200)
            for i in range(FIELDS):
                name = f"X-Big-{i:03d}"
                handler.send_header(name, "a" * (FIELD_BYTES - len(name) - 4))
            handler.send_header("Content-Length", "3")
            handler.end_headers()
            handler.wfile.write(b"ok\n")
            return True
        if record.path.startswith("/silent"):
            handler.send_response(200)
            handler.send_header("Content-Length", "2147483648")
            handler.end_headers()
            handler.wfile.flush()
            release.wait(30)  # silent until the test ends (bounded)
            handler.close_connection = True
            return True
        return False

    service = ctx.service(hook)

    ctx.part("oversized response head", fat_head, ctx, service)
    ctx.part("silent after Content-Length", silent_body, ctx, service)


def fat_head(ctx, service):
    edge = ctx.start_edge()
    agent = ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)
    response = http_get(edge.public_port, path="/fat-response", timeout=10)
    log(f"~{FIELDS * FIELD_BYTES // 1000} KB of response headers: public client got "
        f"{response.status} with {len(response.headers)} header fields")
    check(response.status == 502, f"oversized response head: public client got "
                                  f"{response.status}, expected 502")
    # The access-log line is written once the exchange ends: poll for it.
    access = wait_until(lambda: [line for line in edge.proc.log_lines()
                                 if "/fat-response" in line], 3) or []
    agent_lines = [line for line in agent.log_lines() if "local service" in line]
    log(f"edge access log: {access}")
    log(f"agent log: {agent_lines}")
    check(access, "no edge access-log line for /fat-response")
    check(any("header limit" in line for line in agent_lines),
          f"the agent's log does not say why the response was refused: {agent_lines}")
    check(response.header("X-Big-000") is None, "the oversized head reached the public client")


def silent_body(ctx, service):
    timed = ctx.start_edge(name="edge-fbt", public_extra="first_byte_timeout: 2s")
    ctx.start_agent(timed, service.port, name="agent-fbt")
    ctx.wait_ready(timed)
    with connect(timed.public_port) as sock:
        started = time.monotonic()
        sock.sendall(get_request(path="/silent"))
        data, outcome, elapsed = read_until_closed(sock, 8.0)
    head = data.split(b"\r\n", 1)[0]
    log(f"silent service after Content-Length: 2147483648: client saw {head!r}, "
        f"{len(data)} bytes, connection {outcome} after {elapsed:.2f} s")
    check(outcome in ("eof", "reset") and elapsed <= 4.5,
          f"the public connection did not end within 4.5 s (outcome {outcome} after "
          f"{time.monotonic() - started:.1f} s)")
    timed.proc.check_alive()


if __name__ == "__main__":
    run(main, "oversized_response_headers", deadline=45)
