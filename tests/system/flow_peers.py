#!/usr/bin/python3
"""Large transfers through the tunnel, for the flow-control system test.

  flow_peers.py gen --bytes N
      Writes the test stream of N bytes to stdout: 1 MiB blocks of fixed
      pseudo-random bytes, each starting with its 8-byte block number, so a
      lost, repeated or reordered block changes the checksum.
  flow_peers.py server --port P --read-rate BYTES_PER_SECOND
      Local service (HTTP/1.1, one thread per connection):
        GET /ready            200 "ok"
        GET /blob?bytes=N     200, Content-Length N, the test stream, written
                              as fast as the connection takes it
        PUT|POST /sink        reads the body (Content-Length or chunked) at
                              most at the read rate, then answers 200
                              "<sha256 hex> <bytes>"
"""
import argparse
import hashlib
import http.server
import sys
import time
import urllib.parse

BLOCK = 1 << 20
BASE = hashlib.shake_256(b"dialback flow-control test stream").digest(BLOCK)


def stream(total):
    """Yields the test stream of `total` bytes in blocks."""
    sent = 0
    index = 0
    while sent < total:
        block = index.to_bytes(8, "big") + BASE[8:]
        block = block[:total - sent]
        yield block
        sent += len(block)
        index += 1


class Pacer:
    """Sleeps so that reading goes no faster than `rate` bytes per second."""

    def __init__(self, rate):
        self.rate = rate
        self.start = time.monotonic()
        self.total = 0

    def took(self, n):
        self.total += n
        if self.rate <= 0:
            return
        ahead = self.start + self.total / self.rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/ready":
            return self.reply(200, b"ok")
        if url.path != "/blob":
            return self.reply(404, b"no such path\n")
        total = int(urllib.parse.parse_qs(url.query)["bytes"][0])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        for block in stream(total):
            self.wfile.write(block)

    def read_paced(self, n, pacer, digest):
        while n > 0:
            data = self.rfile.read(min(n, 64 * 1024))
            if not data:
                raise ConnectionError("request body ended early")
            digest.update(data)
            pacer.took(len(data))
            n -= len(data)

    def do_PUT(self):
        if urllib.parse.urlsplit(self.path).path != "/sink":
            return self.reply(404, b"no such path\n")
        digest = hashlib.sha256()
        pacer = Pacer(self.server.read_rate)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                self.read_paced(size, pacer, digest)
                self.rfile.readline()  # CRLF after the chunk data
        else:
            self.read_paced(int(self.headers.get("Content-Length", "0")), pacer, digest)
        self.reply(200, f"{digest.hexdigest()} {pacer.total}".encode())

    do_POST = do_PUT

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["gen", "server"])
    parser.add_argument("--bytes", type=int, default=0)
    parser.add_argument("--port", type=int)
    parser.add_argument("--read-rate", type=float, default=0)
    args = parser.parse_args()
    if args.mode == "gen":
        out = sys.stdout.buffer
        for block in stream(args.bytes):
            out.write(block)
        out.flush()
        return 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.read_rate = args.read_rate
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
