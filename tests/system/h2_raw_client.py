#!/usr/bin/python3
"""Sends one HTTP/2 request with exactly the header fields given, over h2c,
with Debian's python3-h2 and every outbound check switched off, and prints
"status <code>" or "reset <error code>".

  h2_raw_client.py PORT AUTHORITY PATH [NAME=VALUE ...]
"""
import socket
import sys

import h2.config
import h2.connection
import h2.events

port, authority, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
extra = [tuple(arg.split("=", 1)) for arg in sys.argv[4:]]
config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                   normalize_outbound_headers=False,
                                   validate_inbound_headers=False)
connection = h2.connection.H2Connection(config)
connection.initiate_connection()
connection.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", authority),
                            (":path", path)] + extra, end_stream=True)
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
sock.sendall(connection.data_to_send())
while True:
    data = sock.recv(65536)
    if not data:
        print("closed")
        sys.exit(1)
    for event in connection.receive_data(data):
        if isinstance(event, h2.events.ResponseReceived):
            print("status " + dict(event.headers)[b":status"].decode())
            sys.exit(0)
        if isinstance(event, h2.events.StreamReset):
            print("reset %d" % event.error_code)
            sys.exit(0)
    sock.sendall(connection.data_to_send())
