#!/usr/bin/env python3
"""Peers for the raw TCP system test: a sink that hashes what it receives
and a sender of a generated stream that checks the sink's answer.

  tcp_peers.py sink PORT            per connection: read to EOF, answer
                                    "<bytes> <sha256>\n", close
  tcp_peers.py send PORT SIZE       send SIZE bytes, shut the sending side
                                    down, read the answer to EOF; exit 0
                                    when it names what was sent
"""
import hashlib
import socket
import sys
import threading

BLOCK = bytes((i * 7 + i // 251) & 0xFF for i in range(1 << 20))


def sink(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)

    def serve(conn):
        digest, total = hashlib.sha256(), 0
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            digest.update(data)
            total += len(data)
        conn.sendall(f"{total} {digest.hexdigest()}\n".encode())
        conn.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def send(port, size):
    conn = socket.create_connection(("127.0.0.1", port), timeout=120)
    digest, left, counter = hashlib.sha256(), size, 0
    while left > 0:
        # Each MiB differs from the last (a counter in front), so that a
        # repeated or dropped block changes the hash.
        block = counter.to_bytes(8, "big") + BLOCK[8:]
        block = block[:left]
        conn.sendall(block)
        digest.update(block)
        left -= len(block)
        counter += 1
    conn.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        data = conn.recv(4096)
        if not data:
            break
        answer += data
    expected = f"{size} {digest.hexdigest()}\n".encode()
    print(answer.decode(errors="replace").strip())
    return 0 if answer == expected else 1


if __name__ == "__main__":
    if sys.argv[1] == "sink":
        sink(int(sys.argv[2]))
    elif sys.argv[1] == "send":
        sys.exit(send(int(sys.argv[2]), int(sys.argv[3])))
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
