#!/usr/bin/python3
"""Local service of quic_migration_test.sh.

  quic_migration_peers.py service --port P --file PATH
      GET /big.bin answers PATH (Content-Length known); GET /stream answers
      a chunked stream of the lines "tick 0" .. "tick 199", one every 50 ms
      (10 s: still in flight at the rebind even in a sanitizer build), then
      "end"; GET /ready answers 200 "ok". Anything else
      is 404.

The stream is slow on purpose: it is still under way when the test moves
the agent's QUIC session to a new port, so a response that is being
written at that moment must arrive whole.
"""
import argparse
import http.server
import os
import shutil
import time

TICKS = 200
TICK_SECONDS = 0.05


def chunk(payload):
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/big.bin":
            self.send_file()
        elif self.path == "/stream":
            self.send_stream()
        elif self.path == "/ready":
            self.send_body(200, b"ok\n")
        else:
            self.send_body(404, b"not found\n")

    def send_body(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_file(self):
        path = self.server.file
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(os.path.getsize(path)))
        self.end_headers()
        with open(path, "rb") as source:
            shutil.copyfileobj(source, self.wfile, 256 * 1024)

    def send_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(TICKS):
            self.wfile.write(chunk(b"tick %d\n" % i))
            self.wfile.flush()
            time.sleep(TICK_SECONDS)  # the pace of the stream, not a wait for readiness
        self.wfile.write(chunk(b"end\n"))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["service"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.file = args.file
    server.serve_forever()


if __name__ == "__main__":
    main()
