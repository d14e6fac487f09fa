#include "tunnel/stream_bridge.hpp"

#include "tunnel/stream_pump.hpp"

namespace dialback {

StreamBridge::StreamBridge(IncomingStream& client, TunnelStream& server,
                           asio::any_io_executor executor, std::uint64_t body_limit, Logger logger)
    : client_(client),
      server_(server),
      body_limit_(body_limit),
      upload_(std::move(executor), std::move(logger), "stream bridge upload") {
  client_.on_abort([server = &server_] { server->reset(Error::cancelled); });
  if (client_.has_body()) upload_.spawn(relay_request(this));
}

Task<void> StreamBridge::relay_request(StreamBridge* self) {
  auto relayed = co_await pump_stream_body(self->client_, self->server_, self->body_limit_);
  if (!relayed) {
    self->body_too_large_ = relayed.error() == Error::limit_exceeded;
    self->server_.reset(Error::cancelled);
  }
}

Task<Result<ResponseHead>> StreamBridge::read_response(
    std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto head = co_await server_.read_response(deadline);
    if (!head) {
      server_.reset(Error::cancelled);
      co_return head;
    }
    if (head->status >= 200 || head->status == 101) co_return head;
    client_.respond_informational(*head);  // a client that is gone fails the relay later
  }
}

Task<Result<std::uint64_t>> StreamBridge::relay_response(const ResponseHead& head) {
  Result<std::uint64_t> relayed = 0;
  // A head that ended the response stays one frame: gRPC reads a
  // trailers-only answer's status from it.
  const bool has_body = server_.response_has_body();
  auto responded = client_.respond(head, !has_body);
  if (!responded) {
    relayed = fail(responded.error());
  } else if (has_body) {
    relayed = co_await pump_stream_body(server_, client_);
  }
  if (!relayed) {
    server_.reset(Error::cancelled);
    client_.reset(Error::cancelled);
  }
  co_return relayed;
}

Task<void> StreamBridge::finish() { co_await upload_.join(); }

}  // namespace dialback
