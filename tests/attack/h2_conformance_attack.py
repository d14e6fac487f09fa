#!/usr/bin/python3
"""Conformance: the h2spec 2.0.0 cases the edge's public HTTP/2 listeners
used to fail, replayed with raw frames (h2spec itself is not available in
CI) against both the plain h2c listener (prior knowledge) and the TLS
listener (ALPN h2, certificate not verified). Every case runs on a fresh
connection; after h2spec's handshake (preface + SETTINGS, wait for the
server's SETTINGS and for the ACK of ours) each wait has a 3 s deadline
(h2spec waits about 2 s). Requests carry :authority app.test, the tunnel's
host, so they route to the local service (reaching it is fine).

Cases and what passes (a connection close, EOF or reset, always passes, as
in h2spec; "silence" until the deadline always fails):
  http2/3.5/2    "INVALID CONNECTION PREFACE\\r\\n\\r\\n" instead of the
                 preface -> GOAWAY(PROTOCOL_ERROR) or close; an HTTP/1.1
                 response is a failure. (Run on both listeners.)
  http2/5.1/8    HEADERS (no END_STREAM) on stream 1, RST_STREAM(CANCEL),
                 then DATA on it -> GOAWAY(STREAM_CLOSED) or
                 RST_STREAM(STREAM_CLOSED).
  http2/5.1/9    same, HEADERS instead of DATA after the RST_STREAM.
  http2/5.1/11   HEADERS (END_STREAM) on stream 1, the whole response read
                 up to END_STREAM, then DATA on it -> GOAWAY(STREAM_CLOSED)
                 or RST_STREAM(STREAM_CLOSED).
  http2/5.1/12   same with HEADERS -> GOAWAY(STREAM_CLOSED).
  http2/5.1.1/2  HEADERS (END_STREAM) on stream 5, then on stream 3 ->
                 GOAWAY(PROTOCOL_ERROR); any response on stream 3 fails.
One line per case and listener is printed (PASS/FAIL and the frames
received after the trigger); the script fails if any case fails.

Command line (for checking the checks against another server):
  h2_conformance_attack.py                      the normal test: starts an
                                                edge ($DIALBACK) and agent
  h2_conformance_attack.py --target HOST:PORT [--tls]
      runs the same cases against an already running HTTP/2 server instead
      (h2c with prior knowledge, or TLS with ALPN h2 when --tls is given);
      $DIALBACK is not needed. Exit status 1 when a case fails. Example:
      `nghttpd --no-tls -d /tmp/www 8080` and `--target 127.0.0.1:8080`
      (nghttpd does not implement 5.1.1/2, so that case fails there).
An edge from before the fixes (DIALBACK pointing at such a build) fails 11
of the 12 (all but TLS 3.5/2), as h2spec did.
"""
import collections
import socket
import ssl
import struct
import sys
import time

import hpack

from attack_lib import (CANCEL, DATA, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_NAMES,
                        GOAWAY, HEADERS, NO_ERROR, PING, PREFACE, PROTOCOL_ERROR, RST_STREAM,
                        SETTINGS, SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_UPDATE, FrameReader, check,
                        frame, hpack_block, log, ping_frame, rst_stream_frame, run,
                        settings_frame)

STREAM_CLOSED = 0x5
SECONDS = 3.0  # deadline of each wait (handshake, response, verdict)
GRACE = 0.5    # after a passing frame: read on this long for a close or a failure
ERROR_NAMES = {0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR",
               0x3: "FLOW_CONTROL_ERROR", 0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED",
               0x6: "FRAME_SIZE_ERROR", 0x7: "REFUSED_STREAM", 0x8: "CANCEL",
               0x9: "COMPRESSION_ERROR", 0xa: "CONNECT_ERROR", 0xb: "ENHANCE_YOUR_CALM",
               0xc: "INADEQUATE_SECURITY", 0xd: "HTTP_1_1_REQUIRED"}


class CaseError(Exception):
    """The case could not get to its trigger (connect, TLS, handshake)."""


class Target:
    def __init__(self, label, host, port, tls, authority="app.test"):
        self.label = label
        self.host = host
        self.port = port
        self.tls = tls
        self.authority = authority
        self.scheme = "https" if tls else "http"

    def fields(self, path):
        return [(":method", "GET"), (":scheme", self.scheme), (":path", path),
                (":authority", self.authority)]


def error_name(code):
    return ERROR_NAMES.get(code, f"{code:#x}")


def describe(event):
    """A short text for an event: a frame tuple or a string."""
    if isinstance(event, str):
        return event
    ftype, flags, sid, payload = event
    name = FRAME_NAMES.get(ftype, f"type{ftype}")
    if ftype == GOAWAY and len(payload) >= 8:
        last, code = struct.unpack(">II", payload[:8])
        return f"GOAWAY(last={last & 0x7fffffff}, {error_name(code)})"
    if ftype == RST_STREAM and len(payload) >= 4:
        return f"RST_STREAM(s{sid}, {error_name(struct.unpack('>I', payload[:4])[0])})"
    if ftype == WINDOW_UPDATE and len(payload) >= 4:
        return f"WINDOW_UPDATE(s{sid}, +{struct.unpack('>I', payload[:4])[0] & 0x7fffffff})"
    if ftype in (SETTINGS, PING):
        return f"{name}{'(ACK)' if flags & FLAG_ACK else ''}"
    marks = ", END_STREAM" if ftype in (DATA, HEADERS) and flags & FLAG_END_STREAM else ""
    if ftype == DATA:
        return f"DATA(s{sid}, {len(payload)} B{marks})"
    return f"{name}(s{sid}{marks})"


class Conn:
    """One client connection speaking raw frames. Incoming SETTINGS and PING
    are acknowledged; every frame and the close are returned by event()."""

    def __init__(self, target):
        self.target = target
        raw = socket.create_connection((target.host, target.port), timeout=SECONDS)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            try:
                self.sock = context.wrap_socket(raw, server_hostname=target.authority)
            except BaseException:
                raw.close()
                raise
            if self.sock.selected_alpn_protocol() != "h2":
                self.sock.close()
                raise CaseError(f"TLS listener negotiated ALPN "
                                f"{self.sock.selected_alpn_protocol()!r}, not h2")
        else:
            self.sock = raw
        self.reader = FrameReader()
        self.pending = collections.deque()
        self.closed = None  # "EOF" or "reset (...)"
        self.received = 0
        self.decoder = hpack.Decoder()
        self.statuses = {}  # stream id -> :status of its first response block

    def send(self, data):
        """Sends; a peer that is gone is not an error here (its close is
        read by event())."""
        self.sock.settimeout(SECONDS)
        try:
            self.sock.sendall(data)
        except OSError:
            pass

    def event(self, deadline):
        """The next frame (ftype, flags, sid, payload), or "EOF", "reset
        (...)", "timeout", or "HTTP/1.x response ..." for an answer that is
        not HTTP/2 at all."""
        while not self.pending:
            if self.closed:
                return self.closed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return "timeout"
            except OSError as e:  # ECONNRESET, TLS alerts and the like
                self.closed = f"reset ({type(e).__name__})"
                continue
            if not data:
                self.closed = "EOF"
                continue
            if self.received == 0 and data.startswith(b"HTTP/"):
                self.closed = "HTTP/1.x response " + repr(data.split(b"\r\n", 1)[0][:60])
                return self.closed
            self.received += len(data)
            replies = bytearray()
            for f in self.reader.feed(data):
                ftype, flags, sid, payload = f
                if ftype == SETTINGS and not flags & FLAG_ACK:
                    replies += settings_frame(ack=True)
                elif ftype == PING and not flags & FLAG_ACK:
                    replies += ping_frame(payload[:8], ack=True)
                elif ftype == HEADERS and flags & FLAG_END_HEADERS:
                    self._note_status(flags, sid, payload)
                self.pending.append(f)
            if replies:
                self.send(bytes(replies))
        return self.pending.popleft()

    def _note_status(self, flags, sid, block):
        if flags & 0x8:  # PADDED
            block = block[1:len(block) - block[0]]
        if flags & 0x20:  # PRIORITY
            block = block[5:]
        try:
            for name, value in self.decoder.decode(bytes(block)):
                if name in (":status", b":status"):
                    self.statuses.setdefault(sid, value if isinstance(value, str)
                                             else value.decode())
        except Exception:
            self.statuses.setdefault(sid, "undecodable")

    def handshake(self):
        """h2spec's handshake: preface and SETTINGS, then wait for the
        server's SETTINGS and for the ACK of ours."""
        self.send(PREFACE + settings_frame([(SETTINGS_INITIAL_WINDOW_SIZE, 65535)]))
        deadline = time.monotonic() + SECONDS
        got_settings = got_ack = False
        seen = []
        while not (got_settings and got_ack):
            ev = self.event(deadline)
            seen.append(describe(ev))
            if isinstance(ev, str):
                raise CaseError(f"handshake did not complete: {', '.join(seen)}")
            if ev[0] == SETTINGS:
                if ev[1] & FLAG_ACK:
                    got_ack = True
                else:
                    got_settings = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def verify(conn, passes, fails=None):
    """Reads until a passing frame (passes(frame) true), a close (passes
    too, as in h2spec), or the deadline (fails). fails(frame) returns a
    reason when a frame makes the case fail whatever follows. After a
    passing frame it reads on for GRACE seconds (or up to the close) so a
    failing frame right behind it is still seen. Returns (ok, received,
    reason)."""
    deadline = time.monotonic() + SECONDS
    received = []
    passed_by = None
    failed_by = None
    while True:
        ev = conn.event(deadline)
        if ev == "timeout":
            if passed_by is None:
                received.append(f"nothing more within {SECONDS:g} s")
            break
        received.append(describe(ev))
        if isinstance(ev, str):
            if ev.startswith("HTTP/"):
                failed_by = failed_by or "answered with HTTP/1.x"
            elif passed_by is None:
                passed_by = "connection closed"
            break
        if fails is not None and failed_by is None:
            failed_by = fails(ev)
        if passed_by is None and passes(ev):
            passed_by = describe(ev)
            deadline = min(deadline, time.monotonic() + GRACE)
    if failed_by:
        return False, received, failed_by
    if passed_by is None:
        return False, received, "no GOAWAY/RST_STREAM with the expected code and no close"
    return True, received, passed_by


def goaway_with(*codes):
    def check_frame(f):
        return f[0] == GOAWAY and len(f[3]) >= 8 and struct.unpack(">I", f[3][4:8])[0] in codes
    return check_frame


def rst_or_goaway_with(stream_id, code):
    goaway = goaway_with(code)

    def check_frame(f):
        if f[0] == RST_STREAM and f[2] == stream_id and len(f[3]) >= 4:
            return struct.unpack(">I", f[3][:4])[0] == code
        return goaway(f)
    return check_frame


def wait_stream_closed(conn, stream_id):
    """h2spec's VerifyStreamClose: END_STREAM on a HEADERS or DATA frame of
    the stream, or RST_STREAM(NO_ERROR). Raises CaseError otherwise."""
    deadline = time.monotonic() + SECONDS
    seen = []
    while True:
        ev = conn.event(deadline)
        seen.append(describe(ev))
        if isinstance(ev, str):
            raise CaseError(f"no complete response on stream {stream_id}: {', '.join(seen)}")
        ftype, flags, sid, payload = ev
        if sid != stream_id:
            continue
        if ftype in (HEADERS, DATA) and flags & FLAG_END_STREAM:
            return conn.statuses.get(stream_id)
        if ftype == RST_STREAM and struct.unpack(">I", payload[:4])[0] == NO_ERROR:
            return "RST_STREAM(NO_ERROR)"


def headers(stream_id, block, end_stream):
    return frame(HEADERS, FLAG_END_HEADERS | (FLAG_END_STREAM if end_stream else 0), stream_id,
                 block)


def data(stream_id, payload=b"test"):
    return frame(DATA, FLAG_END_STREAM, stream_id, payload)


# Each case: (conn, target) -> (ok, received, reason[, note]). The frames go
# out in separate writes, as h2spec's framer sends them.

def case_invalid_preface(conn, target):
    conn.send(b"INVALID CONNECTION PREFACE\r\n\r\n")
    return verify(conn, goaway_with(PROTOCOL_ERROR))


def case_after_rst(second):
    def run_case(conn, target):
        conn.handshake()
        block = hpack_block(target.fields("/h2spec/5.1-after-rst"))
        conn.send(headers(1, block, end_stream=False))
        conn.send(rst_stream_frame(1, CANCEL))
        conn.send(data(1) if second == "DATA" else headers(1, block, end_stream=True))
        return verify(conn, rst_or_goaway_with(1, STREAM_CLOSED))
    return run_case


def case_after_close(second):
    def run_case(conn, target):
        conn.handshake()
        block = hpack_block(target.fields("/h2spec/5.1-closed"))
        conn.send(headers(1, block, end_stream=True))
        status = wait_stream_closed(conn, 1)
        if second == "DATA":
            conn.send(data(1))
            passes = rst_or_goaway_with(1, STREAM_CLOSED)
        else:
            conn.send(headers(1, block, end_stream=True))
            passes = goaway_with(STREAM_CLOSED)
        return verify(conn, passes) + (f"stream 1 closed first (response {status})",)
    return run_case


def case_smaller_stream_id(conn, target):
    conn.handshake()
    conn.send(headers(5, hpack_block(target.fields("/h2spec/5.1.1-stream5")), end_stream=True))
    conn.send(headers(3, hpack_block(target.fields("/h2spec/5.1.1-stream3")), end_stream=True))

    def answered_3(f):
        if f[2] == 3 and f[0] in (HEADERS, DATA):
            return f"the request on stream 3 was answered ({describe(f)})"
        return None
    return verify(conn, goaway_with(PROTOCOL_ERROR), fails=answered_3)


CASES = [
    ("http2/3.5/2", "invalid connection preface", case_invalid_preface),
    ("http2/5.1/8", "DATA after RST_STREAM", case_after_rst("DATA")),
    ("http2/5.1/9", "HEADERS after RST_STREAM", case_after_rst("HEADERS")),
    ("http2/5.1/11", "DATA on a closed stream", case_after_close("DATA")),
    ("http2/5.1/12", "HEADERS on a closed stream", case_after_close("HEADERS")),
    ("http2/5.1.1/2", "stream id smaller than the previous", case_smaller_stream_id),
]


def run_cases(targets):
    """Runs every case on every target; prints one line each. Returns the
    failed (label, case id) pairs."""
    failed = []
    for target in targets:
        for case_id, title, fn in CASES:
            started = time.monotonic()
            note = ""
            try:
                conn = Conn(target)
            except (OSError, CaseError) as e:
                ok, received, reason = False, [], f"could not connect: {e}"
            else:
                try:
                    result = fn(conn, target)
                    ok, received, reason = result[:3]
                    note = f"; {result[3]}" if len(result) > 3 else ""
                except CaseError as e:
                    ok, received, reason = False, [], str(e)
                finally:
                    conn.close()
            shown = received if len(received) <= 10 else received[:9] + ["...", received[-1]]
            log(f"{target.label:4} {case_id:14} {'PASS' if ok else 'FAIL'} "
                f"({time.monotonic() - started:.2f} s) {title}: {reason}{note}; "
                f"received: {', '.join(shown) or '-'}")
            if not ok:
                failed.append((target.label, case_id))
    return failed


def main(ctx):
    service = ctx.service()
    edge = ctx.start_edge(https=True)
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)
    failed = run_cases([Target("h2c", "127.0.0.1", edge.public_port, tls=False),
                        Target("tls", "127.0.0.1", edge.https_port, tls=True)])
    edge.proc.check_alive()
    log(f"requests that reached the local service: {service.count('/h2spec')}")
    check(not failed, f"{len(failed)} of {2 * len(CASES)} cases failed: "
                      + ", ".join(f"{label} {case_id}" for label, case_id in failed))


def main_external(argv):
    tls = "--tls" in argv
    spec = argv[argv.index("--target") + 1]
    host, _, port = spec.rpartition(":")
    started = time.monotonic()
    failed = run_cases([Target("tls" if tls else "h2c", host or "127.0.0.1", int(port), tls)])
    log(f"{len(failed)} of {len(CASES)} cases failed against {spec} "
        f"({time.monotonic() - started:.1f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if "--target" in sys.argv[1:]:
        main_external(sys.argv[1:])
    else:
        run(main, "h2_conformance", deadline=55)
