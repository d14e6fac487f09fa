#!/usr/bin/python3
"""A local service for the system tests (public_h3_test.sh, poll_test.sh).

  file_sha_service.py PORT DIR
      GET /<name> answers the file DIR/<name> (404 when there is none);
      POST /<anything> answers "<sha256 hex> <length>" of the request body,
      which may come with Content-Length or chunked.
"""
import hashlib
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    directory = "."

    def do_GET(self):
        path = os.path.join(self.directory, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.answer(404, b"not found\n")
            return
        with open(path, "rb") as f:
            self.answer(200, f.read())

    def do_POST(self):
        digest = hashlib.sha256()
        length = 0
        for piece in self.body():
            digest.update(piece)
            length += len(piece)
        self.answer(200, b"%s %d" % (digest.hexdigest().encode(), length))

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                piece = self.rfile.read(min(remaining, 65536))
                if not piece:
                    return
                remaining -= len(piece)
                yield piece

    def answer(self, status, payload):
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Handler.directory = sys.argv[2]
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
