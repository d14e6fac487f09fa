#!/usr/bin/python3
"""Echo servers and clients for the loss relay's system test.

  loss_relay_peers.py udp-echo --port P
      Sends every datagram back to where it came from. Prints "ready" once
      bound, as the echo servers do.
  loss_relay_peers.py tcp-echo --port P
      Sends every byte back on the connection it came on (a thread each).
  loss_relay_peers.py udp-client --port P --count N [--size S]
      Sends N numbered datagrams of S bytes to 127.0.0.1:P, in batches of
      200, each followed by a wait until 0.1 s pass without an echo (the
      batches keep every socket buffer far from full, so the kernel drops
      nothing and only the relay's decisions count), then prints
      "received=K ids=SHA" (SHA: sha256 of the sorted ids of the echoes).
  loss_relay_peers.py tcp-client --port P --bytes N
      Sends N pseudo-random bytes to 127.0.0.1:P while reading the echo,
      then prints "sent=SHA received=SHA bytes=M seconds=T", T from the
      connect to the last byte of the echo.
"""
import argparse
import hashlib
import socket
import struct
import sys
import threading
import time

BATCH = 200
QUIET = 0.1


def udp_echo(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(data, peer)


def echo_connection(conn):
    with conn:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                conn.shutdown(socket.SHUT_WR)
                return
            conn.sendall(data)


def tcp_echo(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=echo_connection, args=(conn,), daemon=True).start()


def udp_client(port, count, size):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.connect(("127.0.0.1", port))
    padding = bytes(size - 8)
    received = set()
    for start in range(0, count, BATCH):
        for i in range(start, min(start + BATCH, count)):
            sock.send(struct.pack(">Q", i) + padding)
        sock.settimeout(QUIET)
        while True:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            received.add(struct.unpack(">Q", data[:8])[0])
    ids = hashlib.sha256(b"".join(struct.pack(">Q", i) for i in sorted(received))).hexdigest()
    print(f"received={len(received)} ids={ids}")


def tcp_client(port, total):
    block = hashlib.shake_256(b"dialback loss relay test").digest(1 << 20)
    sock = socket.create_connection(("127.0.0.1", port))
    start = time.monotonic()
    sent = hashlib.sha256()

    def send():
        left = total
        while left > 0:
            chunk = block[:min(left, len(block))]
            sock.sendall(chunk)
            sent.update(chunk)
            left -= len(chunk)
        sock.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    received = hashlib.sha256()
    got = 0
    while True:
        data = sock.recv(1 << 16)
        if not data:
            break
        received.update(data)
        got += len(data)
    seconds = time.monotonic() - start
    sender.join()
    print(f"sent={sent.hexdigest()} received={received.hexdigest()} bytes={got} "
          f"seconds={seconds:.3f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["udp-echo", "tcp-echo", "udp-client", "tcp-client"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--bytes", type=int, default=8 << 20)
    args = parser.parse_args()
    if args.mode == "udp-echo":
        udp_echo(args.port)
    elif args.mode == "tcp-echo":
        tcp_echo(args.port)
    elif args.mode == "udp-client":
        udp_client(args.port, args.count, args.size)
    else:
        tcp_client(args.port, args.bytes)


if __name__ == "__main__":
    sys.exit(main())
