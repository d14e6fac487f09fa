"""WebSocket peers for websocket_test.sh, on Debian's python3-websockets
(10.x: the asyncio API; websockets.sync arrived in 11).

  server --port P               echo server on 127.0.0.1:P (subprotocol "chat")
  client --port P --host H      through the edge at 127.0.0.1:P with Host H:
                                text, binary and 64 KiB round trips, then
                                --rounds timed 32-byte round trips (prints
                                "rtt_us p50=<n> p90=<n>"), then a clean
                                close; exit 0 only if all of it held
"""
import argparse
import asyncio
import socket
import sys
import time

import websockets


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def serve(port):
    async with websockets.serve(echo, "127.0.0.1", port, subprotocols=["chat"],
                                max_size=1 << 20):
        await asyncio.Future()


def pattern(n):
    return bytes((i * 131 + (i >> 8) * 7) & 0xFF for i in range(n))


async def client(port, host, rounds):
    # Connect to the edge, but name the tunnel's host in the handshake.
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setblocking(False)
    async with websockets.connect(f"ws://{host}/echo", sock=sock, subprotocols=["chat"],
                                  max_size=1 << 20) as ws:
        if ws.subprotocol != "chat":
            raise SystemExit(f"subprotocol not negotiated: {ws.subprotocol!r}")
        checks = [
            "hello through dialback",
            pattern(1000),
            pattern(64 * 1024),
        ]
        for message in checks:
            await ws.send(message)
            reply = await ws.recv()
            if reply != message:
                raise SystemExit(f"echo mismatch: sent {len(message)} "
                                 f"{type(message).__name__}, got {len(reply)} "
                                 f"{type(reply).__name__}")
        samples = []
        for i in range(rounds):
            message = f"{i:032d}"
            started = time.perf_counter()
            await ws.send(message)
            reply = await ws.recv()
            samples.append((time.perf_counter() - started) * 1e6)
            if reply != message:
                raise SystemExit(f"timed echo mismatch at {i}")
        if samples:
            samples.sort()
            print(f"rtt_us p50={samples[len(samples) // 2]:.0f} "
                  f"p90={samples[int(len(samples) * 0.9) - 1]:.0f}")
        await ws.close()
        if ws.close_code != 1000:
            raise SystemExit(f"close code {ws.close_code}")
    print("websocket client: 3 round trips and a clean close")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="app.test")
    parser.add_argument("--rounds", type=int, default=0)
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(serve(args.port))
    else:
        asyncio.run(asyncio.wait_for(client(args.port, args.host, args.rounds), 20))


if __name__ == "__main__":
    sys.exit(main())
