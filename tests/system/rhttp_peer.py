#!/usr/bin/python3
"""Scripted HAProxy-style rhttp peers for the system tests, built on python3-h2.

No dialback code drives these peers; they follow docs/protocol.md section 5 alone:
the worker (agent) dials TLS with ALPN h2 and a client certificate, writes the
HTTP/2 connection preface, and then answers odd-numbered streams that the edge
opens; the edge writes SETTINGS but no preface.

  rhttp_peer.py edge   --port P --cert C --key K --ca CA --host H --path /x
      Listens as an rhttp edge, waits for one worker, sends GET H/x through it
      and prints "status=<code> body=<text>".
  rhttp_peer.py worker --port P --ca CA --cert C --key K --body TEXT
      Dials our edge as an rhttp worker and answers every request with TEXT.
"""
import argparse
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DEADLINE_SECONDS = 20


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("peer closed before sending the HTTP/2 preface")
        data += chunk
    return data


def run_edge(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.load_verify_locations(args.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    listener = socket.create_server(("127.0.0.1", args.port))
    listener.settimeout(DEADLINE_SECONDS)
    print("listening", flush=True)
    raw, _ = listener.accept()
    raw.settimeout(DEADLINE_SECONDS)
    sock = context.wrap_socket(raw, server_side=True)
    if sock.selected_alpn_protocol() != "h2":
        raise SystemExit("worker did not negotiate ALPN h2")
    # The worker speaks first with the client preface (reversed roles).
    if read_exactly(sock, len(PREFACE)) != PREFACE:
        raise SystemExit("worker did not send the HTTP/2 preface")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    out = conn.data_to_send()
    assert out.startswith(PREFACE)
    sock.sendall(out[len(PREFACE):])  # an rhttp edge sends SETTINGS only
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [(":method", "GET"), (":scheme", "http"),
                                  (":authority", args.host), (":path", args.path)],
                      end_stream=True)
    sock.sendall(conn.data_to_send())
    status, body = None, b""
    while True:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("worker closed the connection mid-stream")
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers)[b":status"].decode()
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                print(f"status={status} body={body.decode().strip()}", flush=True)
                conn.close_connection()
                sock.sendall(conn.data_to_send())
                return
            elif isinstance(event, h2.events.StreamReset):
                raise SystemExit("worker reset the stream")
        sock.sendall(conn.data_to_send())


def run_worker(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(args.ca)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=DEADLINE_SECONDS)
    sock = context.wrap_socket(raw, server_hostname="localhost")
    if sock.selected_alpn_protocol() != "h2":
        raise SystemExit("edge did not negotiate ALPN h2")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    sock.sendall(PREFACE + conn.data_to_send())  # the worker writes the preface
    print("connected", flush=True)
    first = True
    while True:
        data = sock.recv(65536)
        if not data:
            return
        if first:  # a server-side h2 state machine expects to read the preface itself
            data = PREFACE + data
            first = False
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                body = args.body.encode() + b"\n"
                conn.send_headers(event.stream_id, [(":status", "200"),
                                                    ("content-length", str(len(body))),
                                                    ("content-type", "text/plain")])
                conn.send_data(event.stream_id, body, end_stream=True)
            elif isinstance(event, h2.events.ConnectionTerminated):
                sock.sendall(conn.data_to_send())
                return
        sock.sendall(conn.data_to_send())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["edge", "worker"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--host", default="app.test")
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", default="hello from a scripted rhttp worker")
    args = parser.parse_args()
    run_edge(args) if args.mode == "edge" else run_worker(args)


if __name__ == "__main__":
    sys.exit(main())
