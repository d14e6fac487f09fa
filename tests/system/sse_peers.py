#!/usr/bin/python3
"""Server-sent events through the tunnel, for the system tests.

  sse_peers.py server --port P --gate FILE
      Local service: GET /events answers text/event-stream (chunked) with
      event "one" at once, then waits until FILE exists (at most 20 s),
      then event "two" and the end of the stream.
  sse_peers.py client --port P --host H --gate FILE
      Public client: reads /events through the edge. Requires event "one" to
      arrive while the server still withholds "two" (nothing may buffer it),
      then creates FILE and reads "two". Prints the delay from the server
      writing each event to its arrival, in milliseconds.
"""
import argparse
import http.server
import os
import socket
import sys
import time

DEADLINE = 20.0


def event(name):
    payload = f"event: {name}\ndata: {time.time():.6f}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(event("one"))
        self.wfile.flush()
        deadline = time.time() + DEADLINE
        while not os.path.exists(self.server.gate) and time.time() < deadline:
            time.sleep(0.005)  # the service paces its stream; nothing waits on readiness
        self.wfile.write(event("two"))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, *args):
        pass


def serve(args):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.gate = args.gate
    server.serve_forever()


def read_until(sock, data, marker, deadline):
    while marker not in data:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise SystemExit(f"no {marker!r} before the deadline: the stream was held back")
        if not chunk:
            raise SystemExit(f"stream ended before {marker!r}")
        data += chunk
    return data


def sent_at(data, name):
    start = data.index(f"event: {name}\ndata: ".encode()) + len(f"event: {name}\ndata: ")
    return float(data[start:data.index(b"\n", start)])


def client(args):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=DEADLINE)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: {args.host}\r\nAccept: text/event-stream\r\n\r\n"
                 .encode())
    data = read_until(sock, b"", b"event: one\n", time.time() + 15)
    data = read_until(sock, data, b"\n\n", time.time() + 15)
    one_ms = (time.time() - sent_at(data, "one")) * 1000
    open(args.gate, "w").close()
    data = read_until(sock, data, b"event: two\n", time.time() + 15)
    data = read_until(sock, data, b"\n\n", time.time() + 15)
    two_ms = (time.time() - sent_at(data, "two")) * 1000
    print(f"sse first-event latency: {one_ms:.2f} ms; second-event latency: {two_ms:.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["server", "client"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="app.test")
    parser.add_argument("--gate", required=True)
    args = parser.parse_args()
    serve(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
