#!/usr/bin/python3
"""Attack from the agent side: a python3-h2 "agent" that registers
correctly (TLS, the HTTP/1.1 registration with the tunnel's token, 101, then
reversed HTTP/2 as the server side) and then misbehaves, one sub-case at a
time, next to a well-behaved `dialback agent` session of the same tunnel
(balance: round_robin, so public requests alternate between the two):

  upper_case_header   response HEADERS with an upper-case field name
  missing_status      response HEADERS without :status
  connection_header   response HEADERS with connection: close
  oversized_headers   a ~100 KB response head (HEADERS + CONTINUATION), over
                      agents.max_response_header_bytes (64 KiB); the edge's
                      access-log line must say why ("response head"/"header")
  zero_window         SETTINGS_INITIAL_WINDOW_SIZE 0, never a WINDOW_UPDATE,
                      never an answer, for an upload (POST with a body)
  data_beyond_window  300 000 bytes of DATA against the edge's 65 535-byte
                      windows (agents.stream_window/connection_window)
  push_promise        PUSH_PROMISE on the request stream (push is disabled)
  server_stream       HEADERS on stream 2, a stream the agent may not open
  ping_flood          10 000 PINGs without reading the ACKs
  settings_flood      10 000 SETTINGS frames, then one with 2 000 entries,
                      without reading the ACKs

Asserted for each: the public request that reached the malicious session is
answered 502 (504 for zero_window, public.request_timeout: 2s; for
data_beyond_window a 502 or a response cut short) within
request_timeout + 2 s, never left hanging; requests that reached the good
session get 200; after the flood cases every public request is answered
(200 or 502) in time; once the malicious session is gone the good agent
serves 200s, its session is never closed, the edge stays up and its RSS
grows by less than 50 MB over all sub-cases.
"""
import secrets
import socket
import ssl
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from attack_lib import (CONTINUATION, DATA, FLAG_END_HEADERS, FLAG_END_STREAM, HEADERS,
                        PUSH_PROMISE, SETTINGS_INITIAL_WINDOW_SIZE, PeerClosed, check, frame,
                        hpack_block, http1_exchange, log, ping_frame, register, request_fields,
                        run, settings_frame, wait_until)

REQUEST_TIMEOUT = 2.0
CLIENT_TIMEOUT = REQUEST_TIMEOUT + 6.0
CASES = ["upper_case_header", "missing_status", "connection_header", "oversized_headers",
         "zero_window", "data_beyond_window", "push_promise", "server_stream", "ping_flood",
         "settings_flood"]
EXPECTED = {
    "upper_case_header": {"502"},
    "missing_status": {"502"},
    "connection_header": {"502"},
    "oversized_headers": {"502"},
    "zero_window": {"504"},
    "data_beyond_window": {"502", "truncated", "closed"},
    "push_promise": {"502"},
    "server_stream": {"502"},
}
FLOODS = {"ping_flood", "settings_flood"}
BIG_BODY = 300000


class MaliciousAgent:
    """One registered session that misbehaves as `case` says (own thread)."""

    def __init__(self, ctx, edge, case):
        self.ctx, self.edge, self.case = ctx, edge, case
        self.session_id = secrets.token_hex(16)
        self.requests = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error = None
        self.ended = None  # how the edge ended the session, when it did
        self.flood_sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        if not self.ready.wait(10):
            check(False, f"{self.case}: the malicious agent did not get ready in 10 s")
        check(self.error is None, f"{self.case}: malicious agent: {self.error}")

    def close(self):
        self.stop.set()
        self.thread.join(5)

    # ----- the session
    def _run(self):
        try:
            response, sock, leftover = register(self.ctx, self.edge, token=self.ctx.token,
                                                node=f"evil-{self.case.replace('_', '-')}",
                                                session_id=self.session_id)
        except Exception as e:
            self.error = f"registration failed: {type(e).__name__}: {e}"
            self.ready.set()
            return
        if response.status != 101:
            self.error = f"registration answered {response.status}: {response.body!r}"
            self.ready.set()
            sock.close()
            return
        self.sock = sock
        try:
            self._session(leftover)
        except Exception as e:
            if self.ended is None:
                self.ended = f"agent error {type(e).__name__}: {e}"
        finally:
            self.ready.set()
            sock.close()

    def _send(self, data, timeout=3.0):
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def _session(self, leftover):
        config = h2.config.H2Configuration(client_side=False, validate_outbound_headers=False,
                                           normalize_outbound_headers=False,
                                           validate_inbound_headers=False)
        conn = h2.connection.H2Connection(config)
        if self.case == "zero_window":
            conn.local_settings = h2.settings.Settings(
                client=False, initial_values={SETTINGS_INITIAL_WINDOW_SIZE: 0,
                                              h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
        conn.initiate_connection()
        self._send(conn.data_to_send())
        pending = [leftover] if leftover else []
        if self.case in FLOODS:
            self._flood()
        self.ready.set()
        while not self.stop.is_set():
            if pending:
                data = pending.pop()
            else:
                self.sock.settimeout(0.1)
                try:
                    data = self.sock.recv(65536)
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
                except (ConnectionError, ssl.SSLError) as e:
                    self.ended = self.ended or f"reset ({type(e).__name__})"
                    return
                if not data:
                    self.ended = self.ended or "eof"
                    return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                self.ended = self.ended or f"h2 error in what the edge sent: {e}"
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    headers = dict((k.decode() if isinstance(k, bytes) else k,
                                    v.decode() if isinstance(v, bytes) else v)
                                   for k, v in event.headers)
                    self.requests.append(headers.get(":path"))
                    self._send(conn.data_to_send())
                    self._respond(conn, event.stream_id)
                elif isinstance(event, h2.events.DataReceived) and self.case != "zero_window":
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self.ended = f"GOAWAY error {event.error_code}"
            out = conn.data_to_send()
            if out:
                self._send(out)

    def _flood(self):
        if self.case == "ping_flood":
            frames = [ping_frame(i.to_bytes(8, "big")) for i in range(10000)]
        else:
            frames = [settings_frame([(SETTINGS_INITIAL_WINDOW_SIZE, 65535)])
                      for _ in range(10000)]
            frames.append(settings_frame([(SETTINGS_INITIAL_WINDOW_SIZE, 65535)] * 2000))
        for i in range(0, len(frames), 500):
            try:
                self._send(b"".join(frames[i:i + 500]), timeout=3.0)
            except (socket.timeout, OSError):
                break  # the edge stopped reading or closed: the flood is over
            self.flood_sent = min(len(frames), i + 500)

    def _respond(self, conn, stream_id):
        end = FLAG_END_HEADERS | FLAG_END_STREAM
        case = self.case
        if case == "upper_case_header":
            self._send(frame(HEADERS, end, stream_id, hpack_block(
                [(":status", "200"), ("X-Upper", "1"), ("content-length", "0")])))
        elif case == "missing_status":
            self._send(frame(HEADERS, end, stream_id, hpack_block(
                [("content-type", "text/plain"), ("content-length", "0")])))
        elif case == "connection_header":
            self._send(frame(HEADERS, end, stream_id, hpack_block(
                [(":status", "200"), ("connection", "close"), ("content-length", "0")])))
        elif case == "oversized_headers":
            block = hpack_block([(":status", "200"), ("content-length", "0")] +
                                [(f"x-big-{i:03d}", "a" * 490) for i in range(200)])
            chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
            out = bytearray()
            for i, chunk in enumerate(chunks):
                flags = FLAG_END_HEADERS if i == len(chunks) - 1 else 0
                if i == 0:
                    out += frame(HEADERS, flags | FLAG_END_STREAM, stream_id, chunk)
                else:
                    out += frame(CONTINUATION, flags, stream_id, chunk)
            self._send(bytes(out))
        elif case == "zero_window":
            pass  # never answers, never opens the window
        elif case == "data_beyond_window":
            out = bytearray(frame(HEADERS, FLAG_END_HEADERS, stream_id, hpack_block(
                [(":status", "200"), ("content-length", str(BIG_BODY))])))
            left = BIG_BODY
            while left > 0:
                n = min(16384, left)
                left -= n
                out += frame(DATA, FLAG_END_STREAM if left == 0 else 0, stream_id, b"x" * n)
            try:
                self._send(bytes(out), timeout=3.0)
            except (socket.timeout, OSError):
                pass
        elif case == "push_promise":
            promised = (2).to_bytes(4, "big")
            self._send(frame(PUSH_PROMISE, FLAG_END_HEADERS, stream_id,
                             promised + hpack_block(request_fields(path="/pushed"))))
        elif case == "server_stream":
            self._send(frame(HEADERS, end, 2, hpack_block(request_fields(path="/from-agent"))))
        else:  # after a flood: a proper answer
            body = b"evil-ok\n"
            conn.send_headers(stream_id, [(":status", "200"),
                                          ("content-length", str(len(body)))])
            conn.send_data(stream_id, body, end_stream=True)


def public_request(port, path, upload):
    """One public HTTP/1.1 request; returns (outcome, seconds): outcome is
    the status as a string, "truncated", "closed" or "timeout"."""
    if upload:
        body = b"u" * 65536
        raw = (f"POST {path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    else:
        raw = f"GET {path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n".encode()
    started = time.monotonic()
    try:
        response = http1_exchange(port, raw, timeout=CLIENT_TIMEOUT)
    except PeerClosed:
        return "closed", time.monotonic() - started
    except ConnectionError:
        return "closed", time.monotonic() - started
    except socket.timeout:
        return "timeout", time.monotonic() - started
    outcome = str(response.status) if response.complete else "truncated"
    return outcome, time.monotonic() - started


def run_case(ctx, edge, service, case, summary):
    evil = MaliciousAgent(ctx, edge, case)
    try:
        evil.start()
        check(wait_until(lambda: evil.session_id in edge.sessions_opened(), 5),
              "the edge did not log the malicious session as opened")
        outcomes = []
        for n in range(4):
            path = f"/mal/{case}/{n}"
            outcome, seconds = public_request(edge.public_port, path, case == "zero_window")
            where = "evil" if path in evil.requests else \
                "good" if service.count(path) else "none"
            outcomes.append((where, outcome, round(seconds, 2)))
            check(seconds <= REQUEST_TIMEOUT + 2.0,
                  f"public request {path} took {seconds:.1f} s ({outcome}, session {where}): "
                  f"longer than request_timeout + 2 s")
            if where == "good":
                check(outcome == "200", f"request served by the good agent got {outcome}")
            elif case in FLOODS:
                check(outcome in ("200", "502"),
                      f"request after the flood got {outcome} (session {where})")
            else:
                check(outcome in EXPECTED[case],
                      f"the request that reached the malicious session got {outcome}, "
                      f"expected {sorted(EXPECTED[case])} (all: {outcomes})")
            if where == "evil" and case not in FLOODS:
                break
        if case not in FLOODS:
            check(any(w == "evil" for w, _, _ in outcomes),
                  f"no public request reached the malicious session in 4 tries: {outcomes}")
        if case == "oversized_headers":
            path = next(f"/mal/{case}/{n}" for n in range(4)
                        if f"/mal/{case}/{n}" in evil.requests)
            access = wait_until(lambda: [line for line in edge.proc.log_lines()
                                         if path + '"' in line], 3) or []
            reasons = [line.split(path, 1)[1].lower() for line in access]
            check(any("response head" in r or "header" in r for r in reasons),
                  f"the edge access-log line does not say why the response was refused: "
                  f"{access}")
        edge_closed_it = bool(edge.session_closed_lines([evil.session_id]))
    finally:
        evil.close()
    check(wait_until(lambda: edge.session_closed_lines([evil.session_id]), 5),
          "the edge did not drop the malicious session within 5 s of its close")
    edge.proc.check_alive()
    for n in range(2):
        outcome, _ = public_request(edge.public_port, f"/after/{case}/{n}", False)
        check(outcome == "200", f"the good agent's request afterwards got {outcome}")
    flood = f"flood frames sent {evil.flood_sent}; " if case in FLOODS else ""
    line = (f"{case}: public outcomes {outcomes}; edge closed the session itself: "
            f"{edge_closed_it}; malicious side saw: {evil.ended}; {flood}"
            f"edge RSS {edge.proc.rss_kib()} KiB")
    summary.append(line)
    log(line)


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge(public_extra=f"request_timeout: {int(REQUEST_TIMEOUT)}s",
                          tunnel_extra="balance: round_robin",
                          agents_extra="stream_window: 65535, connection_window: 65535")
    good = ctx.start_agent(edge, service.port, connections=1, name="agent-good")
    ctx.wait_ready(edge, sessions=1)
    good_sessions = edge.sessions_opened()
    rss_start = edge.proc.rss_kib()
    rss_max = rss_start
    summary = []
    for case in CASES:
        ctx.part(case, run_case, ctx, edge, service, case, summary)
        edge.proc.check_alive()
        rss_max = max(rss_max, edge.proc.rss_kib())

    log(f"edge RSS start {rss_start} KiB, max {rss_max} KiB")
    closed = edge.session_closed_lines(good_sessions)
    check(not closed, f"the good agent's session was closed: {closed}")
    good.check_alive()
    check(rss_max - rss_start < 50 * 1024,
          f"edge RSS grew by {(rss_max - rss_start) / 1024:.1f} MiB (limit 50)")


if __name__ == "__main__":
    run(main, "malicious_agent", deadline=58)
