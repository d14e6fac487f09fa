#!/usr/bin/python3
"""A TCP relay whose target can be switched, for the system tests.

  switch_relay.py LISTEN_PORT TARGET_FILE
      Listens on 127.0.0.1:LISTEN_PORT and relays each accepted connection
      to the HOST:PORT that TARGET_FILE holds when the connection arrives
      (read again for every connection; connections already relayed stay
      where they are). Prints "listening" once it accepts connections.
"""
import asyncio
import sys


async def copy(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def relay(client_reader, client_writer, target_file):
    try:
        with open(target_file) as f:
            host, port = f.read().strip().rsplit(":", 1)
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
    except (ConnectionError, OSError, ValueError):
        client_writer.close()
        return
    await asyncio.gather(copy(client_reader, server_writer), copy(server_reader, client_writer))


async def main():
    port, target_file = int(sys.argv[1]), sys.argv[2]
    server = await asyncio.start_server(
        lambda r, w: relay(r, w, target_file), "127.0.0.1", port)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
