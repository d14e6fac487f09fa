#!/usr/bin/python3
"""Shared helpers for the attack tests (tests/attack/*_attack.py).

Every attack test drives the real `dialback` binary (path in $DIALBACK) on
127.0.0.1 with Debian's /usr/bin/python3: python3-h2/hpack and raw sockets,
the standard library otherwise. Nothing here sleeps to wait for readiness:
conditions are polled with a deadline (wait_until). Listeners are bound to
port 0 and the edge's real ports are read from its "listening:" log line.

  run(main, name, deadline)   runs main(ctx) under a hard deadline (SIGALRM),
                              prints "FAIL: ..." and exits 1 on failure (a
                              check() stops the test; ctx.expect() and
                              ctx.part() record a failure and let later
                              parts run), kills
                              every process it started, removes its temp dir
                              (kept when ATTACK_KEEP=1).
  Context                     temp dir, processes, services, PKI, token;
                              start_edge() / start_agent() / wait_ready().
  CountingService             local HTTP service in threads that records
                              every request it receives.
  http1 helpers               raw requests, response parsing, close detection.
  h2 helpers                  frame building/parsing, tiny HPACK encoder,
                              h2c client on python3-h2.
  process helpers             cpu_seconds(pid), rss_kib(pid).
"""
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hpack

DIALBACK = os.environ.get("DIALBACK", "")


# --------------------------------------------------------------------------
# Failing, deadlines, polling

class TestFailure(Exception):
    """An asserted outcome did not hold; the message says what."""


def fail(message):
    raise TestFailure(message)


def check(condition, message):
    if not condition:
        fail(message)


def wait_until(predicate, seconds, interval=0.02):
    """Polls predicate() until it returns a truthy value (returned) or
    `seconds` pass (returns the last falsy value). Exceptions count as falsy."""
    deadline = time.monotonic() + seconds
    value = None
    while True:
        try:
            value = predicate()
        except (OSError, TestFailure, ValueError):
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def free_port():
    """A port that was free a moment ago (for peers that need a number up
    front; the edge itself binds port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message):
    print(message, flush=True)


def run(main, name, deadline=55):
    """Runs main(ctx); exit 0 on success, 1 with "FAIL: ..." otherwise."""
    if not DIALBACK or not os.access(DIALBACK, os.X_OK):
        print(f"FAIL: {name}: $DIALBACK ({DIALBACK!r}) is not an executable dialback binary",
              file=sys.stderr, flush=True)
        sys.exit(1)

    def on_alarm(signum, frame):
        raise TestFailure(f"test deadline of {deadline} s exceeded")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(deadline)
    ctx = Context(name)
    started = time.monotonic()
    code = 0
    try:
        main(ctx)
        if ctx.failures:
            code = 1
            ctx.dump_logs()
    except TestFailure as e:
        code = 1
        print(f"FAIL: {name}: {e}", file=sys.stderr, flush=True)
        ctx.dump_logs()
    except Exception as e:  # a bug in the test or an unexpected peer reaction
        code = 1
        traceback.print_exc()
        print(f"FAIL: {name}: unexpected {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        ctx.dump_logs()
    finally:
        signal.alarm(0)
        ctx.cleanup(keep=os.environ.get("ATTACK_KEEP") == "1")
    elapsed = time.monotonic() - started
    if code == 0:
        log(f"{name}: PASS ({elapsed:.1f} s)")
    else:
        log(f"{name}: failed after {elapsed:.1f} s")
    sys.exit(code)


# --------------------------------------------------------------------------
# Processes

def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    ticks = int(fields[11]) + int(fields[12])  # fields 14 (utime) and 15 (stime)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    """Resident set size in KiB (/proc/PID/status VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Proc:
    """A started process with its stderr in a log file."""

    def __init__(self, name, args, log_path, cwd, rlimit_nofile=None):
        self.name = name
        self.log_path = log_path
        self.args = args
        preexec = None
        if rlimit_nofile is not None:
            def preexec():
                resource.setrlimit(resource.RLIMIT_NOFILE, (rlimit_nofile, rlimit_nofile))
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      preexec_fn=preexec)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        return self.log_text().splitlines()

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def cpu_seconds(self):
        return cpu_seconds(self.pid)

    def rss_kib(self):
        return rss_kib(self.pid)

    def check_alive(self):
        if not self.alive():
            fail(f"{self.name} exited with status {self.popen.returncode}; log tail:\n"
                 + "\n".join(self.log_lines()[-15:]))

    def kill(self):
        if self.popen.poll() is None:
            try:
                self.popen.kill()
            except OSError:
                pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def run_cli(args, cwd, timeout=20):
    """Runs a short dialback subcommand; returns its stdout (stripped)."""
    done = subprocess.run([DIALBACK] + args, cwd=cwd, capture_output=True, timeout=timeout)
    if done.returncode != 0:
        fail(f"dialback {' '.join(args)} failed ({done.returncode}): "
             f"{done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode().strip()


# --------------------------------------------------------------------------
# The local service

class Record:
    def __init__(self, method, path, headers, body, client):
        self.method = method
        self.path = path
        self.headers = headers  # list of (name, value) as received
        self.body = body
        self.client = client
        self.at = time.monotonic()

    def header_values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name):
        values = self.header_values(name)
        return values[0] if values else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler that hangs on purpose must not block close()
    request_queue_size = 512
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients the edge aborted on purpose: broken pipes are expected


class CountingService:
    """Local HTTP/1.1 service that records every request it receives.

    hook(handler, record) may answer itself and return True; otherwise the
    answer is 200 "ok\\n". Handlers run in threads (ThreadingHTTPServer)."""

    def __init__(self, hook=None):
        self.records = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _any(self):
                body = b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    if length:
                        body = self.rfile.read(length)
                record = Record(self.command, self.path, list(self.headers.items()), body,
                                self.client_address)
                with service.lock:
                    service.records.append(record)
                if hook is not None and hook(self, record):
                    return
                # One write for head and body (no Nagle/delayed-ACK stall).
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 b"Content-Length: 3\r\n\r\nok\n")

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_OPTIONS = _any

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def requests(self, path_prefix=None):
        with self.lock:
            return [r for r in self.records
                    if path_prefix is None or r.path.startswith(path_prefix)]

    def count(self, path_prefix=None):
        return len(self.requests(path_prefix))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# Context: temp dir, PKI, token, edge and agents

LISTENING = re.compile(r"listening: agents on (\S+), public http on (\S+), public https on (\S+)")


class Edge:
    def __init__(self, proc, agents_port, public_port, https_port):
        self.proc = proc
        self.agents_port = agents_port
        self.public_port = public_port
        self.https_port = https_port
        self.pid = proc.pid

    def sessions_opened(self, tunnel="web"):
        """Session ids the edge logged as opened for `tunnel`."""
        return re.findall(r"session (\S+) opened: tunnel=" + re.escape(tunnel) + r" ",
                          self.proc.log_text())

    def session_closed_lines(self, session_ids):
        return [line for line in self.proc.log_lines()
                if any(f"session {sid} closed" in line for sid in session_ids)]


def _port_of(text):
    return 0 if text == "-" else int(text.rsplit(":", 1)[1])


class Context:
    def __init__(self, name):
        self.name = name
        self.work = tempfile.mkdtemp(prefix=f"dialback-{name}-")
        self.procs = []
        self.closers = []
        self.token = None
        self.token_hash = None
        self.pki_done = False
        self.failures = []

    def part(self, label, fn, *args):
        """Runs one independent part of a test: a failed check() in it is
        recorded (the test fails at the end) and the next part still runs."""
        try:
            return fn(*args)
        except TestFailure as e:
            self.expect(False, f"{label}: {e}")
            return None

    def expect(self, condition, message):
        """A check that lets the test go on (later parts still measure);
        the test fails at the end. Returns the condition."""
        if not condition:
            self.failures.append(message)
            print(f"FAIL: {self.name}: {message}", file=sys.stderr, flush=True)
        return condition

    def path(self, name):
        return os.path.join(self.work, name)

    # ----- lifecycle
    def spawn(self, name, args, rlimit_nofile=None):
        proc = Proc(name, args, self.path(name + ".log"), self.work, rlimit_nofile)
        self.procs.append(proc)
        return proc

    def service(self, hook=None):
        svc = CountingService(hook)
        self.closers.append(svc.close)
        return svc

    def on_cleanup(self, fn):
        self.closers.append(fn)

    def dump_logs(self, lines=25):
        for proc in self.procs:
            tail = proc.log_lines()[-lines:]
            if tail:
                print(f"--- last lines of {proc.name}.log ---", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr, flush=True)

    def cleanup(self, keep=False):
        for proc in self.procs:
            proc.kill()
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                pass
        if keep:
            print(f"(kept {self.work})", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # ----- credentials
    def make_pki(self, client_names=()):
        """pki/ca.crt, pki/edge.crt (localhost, app.test, 127.0.0.1) and one
        client certificate per name; a token (self.token) and its hash."""
        if not self.pki_done:
            run_cli(["pki", "init", "--dir", "pki"], self.work)
            run_cli(["pki", "issue", "--dir", "pki", "--name", "edge", "--dns", "localhost",
                     "--dns", "app.test", "--ip", "127.0.0.1", "--server"], self.work)
            self.token = run_cli(["token", "new"], self.work)
            self.token_hash = run_cli(["token", "hash", self.token], self.work)
            self.pki_done = True
        for name in client_names:
            run_cli(["pki", "issue", "--dir", "pki", "--name", name, "--client"], self.work)

    # ----- edge
    def start_edge(self, public_extra="", agents_extra="", tunnel_extra="", auth_extra="",
                   extra_tunnels="", https=False, rlimit_nofile=None, name="edge",
                   log_level="info", ready_seconds=15):
        """Writes edge.yaml (tunnel "web" for host app.test with the token,
        listeners on port 0) and starts the edge. The *_extra strings are
        added inside the flow mappings (e.g. public_extra="header_timeout: 2s").
        extra_tunnels: more lines under `tunnels:` (indented two spaces)."""
        self.make_pki()
        public = "http: 127.0.0.1:0"
        if https:
            public += ", https: {listen: 127.0.0.1:0, cert: pki/edge.crt, key: pki/edge.key}"
        if public_extra:
            public += ", " + public_extra
        agents = "listen: 127.0.0.1:0, cert: pki/edge.crt, key: pki/edge.key"
        if agents_extra:
            agents += ", " + agents_extra
        auth = f'tokens: ["{self.token_hash}"]'
        if auth_extra:
            auth += ", " + auth_extra
        tunnel = f"hosts: [app.test], auth: {{{auth}}}"
        if tunnel_extra:
            tunnel += ", " + tunnel_extra
        text = (f"edge: {{id: edge-attack}}\n"
                f"agents: {{{agents}}}\n"
                f"public: {{{public}}}\n"
                f"tunnels:\n"
                f"  web: {{{tunnel}}}\n")
        if extra_tunnels:
            text += extra_tunnels.rstrip("\n") + "\n"
        config = self.path(f"{name}.yaml")
        with open(config, "w") as f:
            f.write(text)
        proc = self.spawn(name, [DIALBACK, "edge", "--config", config, "--log-level", log_level],
                          rlimit_nofile=rlimit_nofile)

        def listening():
            if not proc.alive():
                return "exited"
            return LISTENING.search(proc.log_text())

        found = wait_until(listening, ready_seconds)
        if found == "exited" or not found:
            status = proc.popen.poll()
            fail(f"edge did not start (exit status {status}); config:\n{text}"
                 f"log:\n{proc.log_text().strip()[-2000:]}")
        return Edge(proc, _port_of(found.group(1)), _port_of(found.group(2)),
                    _port_of(found.group(3)))

    # ----- agent
    def start_agent(self, edge, service_port, extra_args=(), name="agent", connections=2,
                    tunnel="web"):
        args = [DIALBACK, "agent", "--edge", f"127.0.0.1:{edge.agents_port}", "--tunnel", tunnel,
                "--token", self.token, "--ca", "pki/ca.crt", "--server-name", "localhost",
                "--connections", str(connections)] + list(extra_args) + \
               [f"http://127.0.0.1:{service_port}"]
        return self.spawn(name, args)

    def wait_ready(self, edge, seconds=20, path="/__ready", sessions=None):
        """Polls GET app.test<path> until 200 (and, when given, until the edge
        logged `sessions` sessions opened for tunnel web)."""
        agents = [p for p in self.procs if p.name.startswith("agent")]

        def ready():
            if not edge.proc.alive() or not all(p.alive() for p in agents):
                return "exited"
            if sessions is not None and len(edge.sessions_opened()) < sessions:
                return False
            return http_get(edge.public_port, path=path, timeout=2).status == 200
        outcome = wait_until(ready, seconds, interval=0.05)
        if outcome == "exited":
            edge.proc.check_alive()
            for agent in agents:
                agent.check_alive()
        if not outcome:
            fail(f"tunnel not ready within {seconds} s (GET {path} through the edge)")


# --------------------------------------------------------------------------
# HTTP/1.1

class HttpResponse:
    def __init__(self, status, reason, headers, body, version=b"HTTP/1.1"):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) str
        self.body = body
        self.version = version
        self.complete = True

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<HttpResponse {self.status} {len(self.body)}B>"


class PeerClosed(Exception):
    """The peer closed before a complete response."""


def _recv_more(sock, buf, deadline):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("deadline")
    sock.settimeout(remaining)
    chunk = sock.recv(65536)
    if not chunk:
        raise PeerClosed("connection closed")
    buf += chunk


def read_http1_response(sock, buf, deadline, skip_informational=True, head_only=False):
    """Reads one response from sock (bytes already read are in `buf`, a
    bytearray; what follows the response is left there). Raises PeerClosed,
    socket.timeout or ConnectionError."""
    while True:
        while b"\r\n\r\n" not in buf:
            _recv_more(sock, buf, deadline)
        end = buf.index(b"\r\n\r\n")
        head = bytes(buf[:end]).decode("latin-1")
        del buf[:end + 4]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        response = HttpResponse(status, reason, headers, b"", parts[0].encode())
        if 100 <= status < 200 and status != 101 and skip_informational:
            continue
        if status < 200 or status in (204, 304) or head_only:
            return response
        length = response.header("content-length")
        chunked = "chunked" in (response.header("transfer-encoding") or "").lower()
        if chunked:
            body = bytearray()
            while True:
                while b"\r\n" not in buf:
                    _recv_more(sock, buf, deadline)
                line_end = buf.index(b"\r\n")
                size = int(bytes(buf[:line_end]).split(b";")[0], 16)
                del buf[:line_end + 2]
                if size == 0:
                    while True:  # trailers up to the blank line
                        while b"\r\n" not in buf:
                            _recv_more(sock, buf, deadline)
                        line_end = buf.index(b"\r\n")
                        line = buf[:line_end]
                        del buf[:line_end + 2]
                        if not line:
                            break
                    break
                while len(buf) < size + 2:
                    _recv_more(sock, buf, deadline)
                body += buf[:size]
                del buf[:size + 2]
            response.body = bytes(body)
        elif length is not None:
            n = int(length)
            try:
                while len(buf) < n:
                    _recv_more(sock, buf, deadline)
            except PeerClosed:
                response.body = bytes(buf)
                response.complete = False
                del buf[:]
                return response
            response.body = bytes(buf[:n])
            del buf[:n]
        else:  # delimited by close
            try:
                while True:
                    _recv_more(sock, buf, deadline)
            except PeerClosed:
                pass
            response.body = bytes(buf)
            del buf[:]
        return response


def connect(port, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def http1_exchange(port, raw, timeout=5.0):
    """Sends `raw` on a new connection and reads one response."""
    with connect(port, timeout) as sock:
        sock.sendall(raw)
        return read_http1_response(sock, bytearray(), time.monotonic() + timeout)


def get_request(host="app.test", path="/", headers=(), keep_alive=True):
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_get(port, host="app.test", path="/", headers=(), timeout=5.0):
    return http1_exchange(port, get_request(host, path, headers, keep_alive=False), timeout)


class KeepAliveClient:
    """HTTP/1.1 GETs over one connection; a new connection after the edge
    answered Connection: close or after a failure (no silent retry: a
    failed request raises)."""

    def __init__(self, port, host="app.test"):
        self.port = port
        self.host = host
        self.sock = None
        self.buf = bytearray()
        self.connections = 0

    def get(self, path, timeout=5.0):
        if self.sock is None:
            self.sock = connect(self.port, timeout)
            self.buf = bytearray()
            self.connections += 1
        try:
            self.sock.sendall(get_request(self.host, path))
            response = read_http1_response(self.sock, self.buf, time.monotonic() + timeout)
        except BaseException:
            self.close()
            raise
        if (response.header("connection") or "").lower() == "close":
            self.close()
        return response

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def read_until_closed(sock, seconds):
    """Reads until EOF, a reset or `seconds`; returns (data, outcome, elapsed)
    with outcome "eof", "reset" or "timeout"."""
    started = time.monotonic()
    deadline = started + seconds
    data = bytearray()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(data), "timeout", time.monotonic() - started
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout", time.monotonic() - started
        except ConnectionError:
            return bytes(data), "reset", time.monotonic() - started
        if not chunk:
            return bytes(data), "eof", time.monotonic() - started
        data += chunk


def parse_status(data):
    """Status code of the first response in raw bytes, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------
# HTTP/2 frames and HPACK

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xb
FRAME_NAMES = {DATA: "DATA", HEADERS: "HEADERS", PRIORITY: "PRIORITY", RST_STREAM: "RST_STREAM",
               SETTINGS: "SETTINGS", PUSH_PROMISE: "PUSH_PROMISE", PING: "PING",
               GOAWAY: "GOAWAY", WINDOW_UPDATE: "WINDOW_UPDATE", CONTINUATION: "CONTINUATION"}
SETTINGS_HEADER_TABLE_SIZE, SETTINGS_ENABLE_PUSH, SETTINGS_MAX_CONCURRENT_STREAMS, \
    SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE, SETTINGS_MAX_HEADER_LIST_SIZE = \
    range(1, 7)


def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream_id & 0x7fffffff) + payload


def settings_frame(entries=(), ack=False):
    payload = b"".join(struct.pack(">HI", k, v) for k, v in entries)
    return frame(SETTINGS, FLAG_ACK if ack else 0, 0, payload)


def rst_stream_frame(stream_id, code):
    return frame(RST_STREAM, 0, stream_id, struct.pack(">I", code))


def window_update_frame(stream_id, increment):
    return frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


def ping_frame(opaque=b"\0" * 8, ack=False):
    return frame(PING, FLAG_ACK if ack else 0, 0, opaque)


def goaway_frame(last_stream_id, code):
    return frame(GOAWAY, 0, 0, struct.pack(">II", last_stream_id, code))


def hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(text):
    data = text.encode("latin-1") if isinstance(text, str) else text
    return hpack_int(len(data), 7) + data


def hpack_literal(name, value, indexing=False):
    """One field as a literal with a literal name: without indexing (the
    decoder's dynamic table is untouched), or with incremental indexing."""
    return (b"\x40" if indexing else b"\x00") + hpack_string(name) + hpack_string(value)


def hpack_indexed(index):
    return hpack_int(index, 7, 0x80)


def hpack_block(fields):
    """A header block of literals without indexing: no HPACK state needed."""
    return b"".join(hpack_literal(n, v) for n, v in fields)


def request_fields(authority="app.test", path="/", method="GET", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", authority),
            (":path", path)] + list(extra)


class FrameReader:
    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        frames = []
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + length:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7fffffff
            payload = bytes(self.buf[9:9 + length])
            del self.buf[:9 + length]
            frames.append((ftype, flags, sid, payload))
        return frames


class RawH2:
    """A raw h2c client connection: preface and SETTINGS sent; incoming
    SETTINGS and PINGs are acknowledged; GOAWAY, RST_STREAM and HEADERS are
    recorded. Nothing is validated on the way out."""

    def __init__(self, port, settings=(), timeout=5.0):
        self.sock = connect(port, timeout)
        self.reader = FrameReader()
        self.goaway = None          # (last_stream_id, error_code) of the first GOAWAY
        self.goaway_at = None
        self.closed = None          # "eof" or "reset"
        self.closed_at = None
        self.resets = {}            # stream id -> error code
        self.headers_streams = set()  # streams that got a HEADERS (response) frame
        self.responses = {}         # stream id -> list of decoded header blocks
        self.bodies = {}            # stream id -> DATA received
        self.ended = set()          # streams the edge ended (END_STREAM)
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 20
        self._block = None
        self.frames_in = 0
        self.send_error = None
        self.sock.sendall(PREFACE + settings_frame(settings))

    def send(self, data, timeout=5.0):
        """Sends; returns False (and records the error) when the peer is gone
        or did not read for `timeout` seconds."""
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
            return True
        except socket.timeout as e:
            self.send_error = e
            return False
        except OSError as e:
            # The peer is gone; what it sent before (a GOAWAY) may still be
            # in the receive queue: pump()/wait_closed() read it and then see
            # the EOF or reset.
            self.send_error = e
            return False

    def _handle(self, frames):
        replies = bytearray()
        for ftype, flags, sid, payload in frames:
            self.frames_in += 1
            if ftype == SETTINGS and not flags & FLAG_ACK:
                replies += settings_frame(ack=True)
            elif ftype == PING and not flags & FLAG_ACK:
                replies += ping_frame(payload, ack=True)
            elif ftype == GOAWAY and self.goaway is None:
                self.goaway = struct.unpack(">II", payload[:8])
                self.goaway_at = time.monotonic()
            elif ftype == DATA:
                body = payload[1:len(payload) - payload[0]] if flags & 0x8 else payload
                self.bodies[sid] = self.bodies.get(sid, b"") + body
                if flags & FLAG_END_STREAM:
                    self.ended.add(sid)
            elif ftype == RST_STREAM:
                self.resets[sid] = struct.unpack(">I", payload[:4])[0]
            elif ftype == HEADERS:
                self.headers_streams.add(sid)
                block = payload
                if flags & 0x8:  # PADDED
                    block = block[1:len(block) - block[0]]
                if flags & 0x20:  # PRIORITY
                    block = block[5:]
                self._block = (sid, bytearray(block))
                if flags & FLAG_END_STREAM:
                    self.ended.add(sid)
                if flags & FLAG_END_HEADERS:
                    self._decode_block()
            elif ftype == CONTINUATION and self._block is not None:
                self._block[1].extend(payload)
                if flags & FLAG_END_HEADERS:
                    self._decode_block()
        if replies and self.closed is None:
            self.send(bytes(replies))

    def _decode_block(self):
        sid, block = self._block
        self._block = None
        try:
            fields = [(k.decode() if isinstance(k, bytes) else k,
                       v.decode() if isinstance(v, bytes) else v)
                      for k, v in self.decoder.decode(bytes(block))]
        except Exception as e:  # a block we cannot decode is recorded as such
            fields = [("x-attack-decode-error", str(e))]
        self.responses.setdefault(sid, []).append(fields)

    def status(self, stream_id):
        """:status of the first header block received on the stream, or None."""
        for fields in self.responses.get(stream_id, []):
            for name, value in fields:
                if name == ":status":
                    return int(value)
        return None

    def pump(self, seconds=0.0):
        """Reads what arrives within `seconds` (0: only what is there now).
        Returns False once the connection is closed."""
        deadline = time.monotonic() + seconds
        while self.closed is None:
            remaining = max(0.0, deadline - time.monotonic())
            self.sock.settimeout(remaining if remaining > 0 else 0.0)
            try:
                data = self.sock.recv(262144)
            except (BlockingIOError, socket.timeout):
                return True
            except ConnectionError:
                self.closed, self.closed_at = "reset", time.monotonic()
                return False
            if not data:
                self.closed, self.closed_at = "eof", time.monotonic()
                return False
            self._handle(self.reader.feed(data))
            if seconds == 0.0:
                continue
        return False

    def wait_closed(self, seconds):
        deadline = time.monotonic() + seconds
        while self.closed is None and time.monotonic() < deadline:
            self.pump(min(0.2, max(0.0, deadline - time.monotonic())))
        return self.closed is not None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def h2c_request(port, fields, body=None, timeout=5.0):
    """One request over a new h2c connection with python3-h2 (outbound
    checks off). Returns ("status", code, headers, body) or ("reset", code,
    None, b"") or ("closed", None, None, b"")."""
    import h2.config
    import h2.connection
    import h2.events
    config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                       normalize_outbound_headers=False,
                                       validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config)
    conn.initiate_connection()
    conn.send_headers(1, fields, end_stream=body is None)
    if body is not None:
        conn.send_data(1, body, end_stream=True)
    deadline = time.monotonic() + timeout
    with connect(port, timeout) as sock:
        sock.sendall(conn.data_to_send())
        status, headers, data = None, None, b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("h2c request deadline")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except ConnectionError:
                return ("closed", None, None, data)
            if not chunk:
                return ("closed", None, None, data)
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    headers = [(k.decode(), v.decode()) for k, v in event.headers]
                    status = int(dict(headers)[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    return ("status", status, headers, data)
                elif isinstance(event, h2.events.StreamReset):
                    return ("reset", event.error_code, None, data)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    return ("closed", event.error_code, None, data)
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)


# --------------------------------------------------------------------------
# The agent side of the registration handshake (docs/protocol.md §2)

REGISTRATION_PATH = "/.well-known/dialback/v1/tunnel"


def registration_request(tunnel="web", token=None, node="attack-node", session_id=None,
                         authorization=None, extra=()):
    session_id = session_id or secrets.token_hex(16)
    lines = [f"GET {REGISTRATION_PATH} HTTP/1.1", "Host: localhost", "Connection: Upgrade",
             "Upgrade: ptth", "ALPN: h2"]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    elif token is not None:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"Dialback-Tunnel: {tunnel}", f"Dialback-Node: {node}",
              f"Dialback-Session: {session_id}", "User-Agent: dialback-attack/1"]
    lines += [f"{k}: {v}" for k, v in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def agent_tls_context(ctx, cert=None, alpn=("http/1.1",)):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ctx.path("pki/ca.crt"))
    if cert:
        context.load_cert_chain(ctx.path(f"pki/{cert}.crt"), ctx.path(f"pki/{cert}.key"))
    context.set_alpn_protocols(list(alpn))
    return context


def register(ctx, edge, tls_context=None, timeout=5.0, source=None, **request_args):
    """Dials the agent listener (from `source`, e.g. "127.0.0.2", when
    given), sends a registration request, reads the answer. Returns
    (response, ssl socket, leftover bytes); the caller closes the socket."""
    context = tls_context or agent_tls_context(ctx)
    raw = socket.create_connection(("127.0.0.1", edge.agents_port), timeout=timeout,
                                   source_address=(source, 0) if source else None)
    sock = context.wrap_socket(raw, server_hostname="localhost")
    try:
        sock.sendall(registration_request(**request_args))
        buf = bytearray()
        response = read_http1_response(sock, buf, time.monotonic() + timeout,
                                       skip_informational=False)
    except BaseException:
        sock.close()
        raise
    return response, sock, bytes(buf)
