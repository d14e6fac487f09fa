#!/usr/bin/python3
"""gRPC peers for grpc_test.sh, written with Debian's python3-grpcio.

No .proto: the service uses raw bytes (no serializers), which is what gRPC
puts on the wire anyway.

  grpc_peers.py server PORT
      Serves dialback.test.Echo on 127.0.0.1:PORT (h2c):
        Unary  -> the request reversed; trailing metadata x-trailer: done
        Chat   -> bidirectional: each message back as b"echo:" + message
        Fail   -> status NOT_FOUND, details "nothing here"
  grpc_peers.py client TARGET AUTHORITY [CA_FILE] [ROUNDS]
      Calls all three through TARGET (host:port) with :authority AUTHORITY,
      over TLS when CA_FILE is given (certificate for localhost), else h2c.
      Checks every answer, then times ROUNDS unary calls and prints
      "unary_rtt_us p50=<n> p90=<n>" and "chat_rtt_us p50=<n>". Exit 0 when
      everything matched.
"""
import statistics
import sys
import time
from concurrent import futures

import grpc

SERVICE = "dialback.test.Echo"


def serve(port):
    def unary(request, context):
        context.set_trailing_metadata((("x-trailer", "done"),))
        return request[::-1]

    def chat(requests, context):
        for message in requests:
            yield b"echo:" + message

    def failing(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "nothing here")

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Fail": grpc.unary_unary_rpc_method_handler(failing),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


def check(condition, what):
    if not condition:
        print("MISMATCH: " + what, file=sys.stderr)
        sys.exit(1)


def client(target, authority, ca_file, rounds):
    options = [("grpc.default_authority", authority)]
    if ca_file:
        with open(ca_file, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        options.append(("grpc.ssl_target_name_override", "localhost"))
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    grpc.channel_ready_future(channel).result(timeout=10)
    unary = channel.unary_unary("/%s/Unary" % SERVICE)
    chat = channel.stream_stream("/%s/Chat" % SERVICE)
    failing = channel.unary_unary("/%s/Fail" % SERVICE)

    answer, call = unary.with_call(b"hello grpc", timeout=10)
    check(answer == b"cprg olleh", "unary answer %r" % answer)
    trailers = dict(call.trailing_metadata())
    check(trailers.get("x-trailer") == "done", "trailers %r" % trailers)
    check(call.code() == grpc.StatusCode.OK, "unary status %s" % call.code())

    big = bytes(range(256)) * 4096  # 1 MiB: flow control inside one message
    answer = unary(big, timeout=20)
    check(answer == big[::-1], "1 MiB unary answer")

    messages = [b"m%d" % i for i in range(20)]
    replies = list(chat(iter(messages), timeout=10))
    check(replies == [b"echo:" + m for m in messages], "chat replies %r" % replies[:3])

    try:
        failing(b"x", timeout=10)
        check(False, "Fail returned normally")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.NOT_FOUND, "Fail code %s" % error.code())
        check(error.details() == "nothing here", "Fail details %r" % error.details())

    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        unary(b"ping", timeout=10)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    print("unary_rtt_us p50=%d p90=%d" % (statistics.median(samples),
                                          samples[int(len(samples) * 0.9) - 1]))

    # One long-lived bidirectional call: time each message's round trip.
    import queue
    outbox = queue.Queue()

    def feed():
        while True:
            item = outbox.get()
            if item is None:
                return
            yield item

    replies = chat(feed(), timeout=30)
    chat_samples = []
    for i in range(rounds):
        started = time.perf_counter()
        outbox.put(b"c%d" % i)
        reply = next(replies)
        chat_samples.append((time.perf_counter() - started) * 1e6)
        check(reply == b"echo:c%d" % i, "chat reply %r" % reply)
    outbox.put(None)
    print("chat_rtt_us p50=%d" % statistics.median(chat_samples))
    channel.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    else:
        client(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None,
               int(sys.argv[5]) if len(sys.argv) > 5 else 50)
