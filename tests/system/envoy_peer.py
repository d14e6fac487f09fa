#!/usr/bin/python3
"""Scripted Envoy reverse-tunnel peers for the system tests, built on python3-h2.

No dialback code drives these peers; they follow the Envoy reverse-tunnel wire
(docs/protocol.md section 6) alone. The initiator (Envoy's downstream, our
agent's role) dials TLS offering ALPN http/1.1 and sends

    GET /reverse_connections/request HTTP/1.1
    Host, Content-Length: 0, x-envoy-reverse-tunnel-{node,cluster,tenant}-id
    (and, dialback's extension, Authorization: Bearer TOKEN)

The responder (our edge's role) answers 200 with Content-Length: 0. While it
keeps the socket unused it may write "RPING"; the initiator echoes each one
until the first other byte. Then the initiator is the HTTP/2 SERVER and the
responder the HTTP/2 CLIENT (it writes the client preface, odd stream ids).

  envoy_peer.py responder --port P --cert C --key K --ca CA --host H --path /x --rpings N
      Listens as an Envoy responder, takes one initiator, checks its
      handshake, answers 200, writes RPING N times (each echo read back),
      then sends GET H/x and prints
      "status=<code> body=<text> node=<n> cluster=<c> tenant=<t> rpings=<k>".
  envoy_peer.py initiator --port P --ca CA --node N --cluster C --tenant T
                [--token TOK] [--cert C --key K] --body TEXT
                [--method GET] [--path /reverse_connections/request]
                [--omit-node] [--expect-status S]
      Dials our edge as an Envoy initiator and prints "status=<code> ...".
      A refusal: exits 0 if it is --expect-status, else 1. On 200: echoes
      RPINGs, then answers every request with TEXT as the HTTP/2 server
      until the connection ends, or for 60 s.
"""
import argparse
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events

RPING = b"RPING"
HANDSHAKE_PATH = "/reverse_connections/request"
NODE = "x-envoy-reverse-tunnel-node-id"
CLUSTER = "x-envoy-reverse-tunnel-cluster-id"
TENANT = "x-envoy-reverse-tunnel-tenant-id"
RESPONDER_DEADLINE_SECONDS = 20
INITIATOR_DEADLINE_SECONDS = 60
QUIET_CHECK_SECONDS = 0.3
MAX_HEAD = 16 * 1024


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise SystemExit("deadline passed")
        return left

    def arm(self, sock):
        sock.settimeout(self.left())


def recv(sock, deadline, n=65536):
    deadline.arm(sock)
    try:
        return sock.recv(n)
    except socket.timeout:
        raise SystemExit("deadline passed waiting for the peer")


def read_exactly(sock, deadline, n, what):
    data = b""
    while len(data) < n:
        chunk = recv(sock, deadline, n - len(data))
        if not chunk:
            raise SystemExit(f"peer closed before {what} (got {data!r})")
        data += chunk
    return data


def read_head(sock, deadline, what):
    """An HTTP/1.1 head: (start line, [(name lower-cased, value)], bytes after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise SystemExit(f"{what} head over {MAX_HEAD} bytes")
        chunk = recv(sock, deadline)
        if not chunk:
            raise SystemExit(f"peer closed before the end of the {what} head (got {data!r})")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise SystemExit(f"malformed {what} header line {line!r}")
        fields.append((name.strip().lower(), value.strip()))
    return lines[0], fields, rest


def only(fields, name):
    values = [v for n, v in fields if n == name]
    return values[0] if len(values) == 1 else None


# ---------------------------------------------------------------- responder

def run_responder(args):
    deadline = Deadline(RESPONDER_DEADLINE_SECONDS)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.load_verify_locations(args.ca)
    context.verify_mode = ssl.CERT_OPTIONAL  # mTLS is optional on this wire
    context.set_alpn_protocols(["http/1.1"])
    listener = socket.create_server(("127.0.0.1", args.port))
    deadline.arm(listener)
    print("listening", flush=True)
    try:
        raw, _ = listener.accept()
    except socket.timeout:
        raise SystemExit("no initiator connected before the deadline")
    deadline.arm(raw)
    sock = context.wrap_socket(raw, server_side=True)
    alpn = sock.selected_alpn_protocol()
    cert = sock.getpeercert()
    subject = dict(x[0] for x in cert["subject"]).get("commonName") if cert else None
    print(f"tls alpn={alpn} client_cert={subject}", flush=True)
    if alpn != "http/1.1":
        raise SystemExit(f"initiator did not negotiate ALPN http/1.1 (got {alpn})")

    start, fields, rest = read_head(sock, deadline, "handshake request")
    print(f"request: {start}", flush=True)
    for name, value in fields:
        print(f"  {name}: {value}", flush=True)
    parts = start.split(" ")
    if len(parts) != 3 or parts[0] != "GET" or parts[1] != HANDSHAKE_PATH or parts[2] != "HTTP/1.1":
        raise SystemExit(f"not GET {HANDSHAKE_PATH} HTTP/1.1: {start!r}")
    if not only(fields, "host"):
        raise SystemExit("no single non-empty Host header")
    if only(fields, "content-length") != "0":
        raise SystemExit("no single Content-Length: 0")
    identity = {}
    for header in (NODE, CLUSTER, TENANT):
        value = only(fields, header)
        if not value:
            raise SystemExit(f"no single non-empty {header} header")
        identity[header] = value
    if rest:
        raise SystemExit(f"initiator wrote before the handshake response: {rest!r}")
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    # The keepalive phase: each RPING must come back as exactly RPING, and
    # nothing else (the initiator's HTTP/2 output waits for our first byte).
    echoed = 0
    for _ in range(args.rpings):
        sock.sendall(RPING)
        echo = read_exactly(sock, deadline, len(RPING), "echoing RPING")
        if echo != RPING:
            raise SystemExit(f"initiator answered RPING with {echo!r}")
        echoed += 1
    sock.settimeout(QUIET_CHECK_SECONDS)
    try:
        early = sock.recv(1)
    except socket.timeout:
        early = None
    if early is not None:
        raise SystemExit(f"initiator wrote {early!r} before the responder's first HTTP/2 byte")

    # HTTP/2 with the roles reversed: we are the client and write the preface.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [(":method", "GET"), (":scheme", "https"),
                                  (":authority", args.host), (":path", args.path),
                                  ("user-agent", "envoy-peer")],
                      end_stream=True)
    sock.sendall(conn.data_to_send())
    status, body = None, b""
    while True:
        data = recv(sock, deadline)
        if not data:
            raise SystemExit("initiator closed the connection mid-stream")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers)[b":status"].decode()
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                print(f"status={status} body={body.decode().strip()} "
                      f"node={identity[NODE]} cluster={identity[CLUSTER]} "
                      f"tenant={identity[TENANT]} rpings={echoed}", flush=True)
                conn.close_connection()
                sock.sendall(conn.data_to_send())
                return 0
            elif isinstance(event, h2.events.StreamReset):
                raise SystemExit(f"initiator reset the stream ({event.error_code})")
            elif isinstance(event, h2.events.ConnectionTerminated):
                raise SystemExit(f"initiator sent GOAWAY ({event.error_code})")
        sock.sendall(conn.data_to_send())


# ---------------------------------------------------------------- initiator

def run_initiator(args):
    deadline = Deadline(INITIATOR_DEADLINE_SECONDS)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(args.ca)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["http/1.1"])
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=deadline.left())
    sock = context.wrap_socket(raw, server_hostname=args.server_name)

    lines = [f"{args.method} {args.path} HTTP/1.1", f"Host: {args.server_name}",
             "Content-Length: 0"]
    if not args.omit_node:
        lines.append(f"{NODE}: {args.node}")
    lines.append(f"{CLUSTER}: {args.cluster}")
    lines.append(f"{TENANT}: {args.tenant}")
    if args.token:
        lines.append(f"Authorization: Bearer {args.token}")
    lines.append("User-Agent: envoy-peer")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    start, fields, rest = read_head(sock, deadline, "handshake response")
    parts = start.split(" ", 2)
    if len(parts) < 2 or parts[0] != "HTTP/1.1" or not parts[1].isdigit():
        raise SystemExit(f"not an HTTP/1.1 status line: {start!r}")
    status = int(parts[1])
    length = only(fields, "content-length")
    if length is None or not length.isdigit():
        raise SystemExit(f"response without a single Content-Length: {start!r} {fields}")
    length = int(length)
    while len(rest) < length:
        chunk = recv(sock, deadline)
        if not chunk:
            raise SystemExit("responder closed before the end of the response body")
        rest += chunk
    body, rest = rest[:length], rest[length:]
    retry = only(fields, "retry-after")
    print(f"status={status} body={body.decode(errors='replace').strip()}"
          + (f" retry-after={retry}" if retry is not None else ""), flush=True)
    if args.expect_status is not None and status != args.expect_status:
        print(f"expected status {args.expect_status}", file=sys.stderr, flush=True)
        return 1
    if status != 200:
        return 0 if args.expect_status is not None else 1
    if length != 0:
        raise SystemExit(f"200 with a body of {length} bytes")

    # Keepalive phase: echo RPINGs until the first other byte.
    echoed = 0
    while True:
        while rest.startswith(RPING):
            sock.sendall(RPING)
            rest = rest[len(RPING):]
            echoed += 1
        if rest and not RPING.startswith(rest[:len(RPING)]):
            break
        chunk = recv(sock, deadline)
        if not chunk:
            print(f"responder closed during the keepalive phase (rpings={echoed})", flush=True)
            return 1
        rest += chunk
    print(f"connected rpings={echoed}", flush=True)

    # HTTP/2 with the roles reversed: we are the server; the responder's
    # first bytes are the client preface, which h2 reads itself.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    data = rest
    while True:
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                headers = {k.decode(): v.decode() for k, v in event.headers}
                print(f"request {headers.get(':method')} {headers.get(':authority')}"
                      f"{headers.get(':path')}", flush=True)
                reply = args.body.encode() + b"\n"
                conn.send_headers(event.stream_id, [(":status", "200"),
                                                    ("content-length", str(len(reply))),
                                                    ("content-type", "text/plain")])
                conn.send_data(event.stream_id, reply, end_stream=True)
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                sock.sendall(conn.data_to_send())
                print(f"goaway {event.error_code}", flush=True)
                return 0
        sock.sendall(conn.data_to_send())
        left = deadline.end - time.monotonic()
        if left <= 0:
            return 0  # served until the deadline
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return 0
        if not data:
            return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["responder", "initiator"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    # responder
    parser.add_argument("--host", default="app.test")
    parser.add_argument("--path", default=None)
    parser.add_argument("--rpings", type=int, default=3)
    # initiator
    parser.add_argument("--server-name", default="localhost")
    parser.add_argument("--node", default="envoy-node")
    parser.add_argument("--cluster", default="web")
    parser.add_argument("--tenant", default="default")
    parser.add_argument("--token")
    parser.add_argument("--omit-node", action="store_true")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="hello from a scripted envoy initiator")
    parser.add_argument("--expect-status", type=int)
    args = parser.parse_args()
    if args.mode == "responder":
        if not args.cert or not args.key:
            parser.error("responder needs --cert and --key")
        args.path = args.path or "/"
        return run_responder(args)
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    args.path = args.path or HANDSHAKE_PATH
    return run_initiator(args)


if __name__ == "__main__":
    sys.exit(main())
