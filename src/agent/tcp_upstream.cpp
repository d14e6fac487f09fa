#include "agent/tcp_upstream.hpp"

#include "agent/error_response.hpp"
#include "agent/local_connect.hpp"
#include "agent/proxy_protocol_header.hpp"
#include "agent/upgrade_forwarder.hpp"
#include "tunnel/raw_tcp_head.hpp"
#include "tunnel/stream_relay.hpp"

namespace dialback::agent {

using Clock = std::chrono::steady_clock;

TcpUpstream::TcpUpstream(asio::any_io_executor executor, AgentTcpTarget target,
                         std::chrono::milliseconds connect_timeout, Logger logger)
    : executor_(std::move(executor)),
      target_(std::move(target)),
      connect_timeout_(connect_timeout),
      logger_(std::move(logger)),
      label_(to_string(target_.address)) {}

void TcpUpstream::abort() {
  error_code ignored;
  for (tcp::socket* socket : *active_) socket->close(ignored);
}

Task<void> TcpUpstream::serve(std::unique_ptr<IncomingStream> stream) {
  const RequestHead& head = stream->request();
  const std::string request_id(find_header(head.headers, "x-request-id").value_or("-"));
  const auto peers = raw_tcp_peers(head);
  const std::string client = peers ? endpoint_text(peers->client) : "-";
  const auto started = Clock::now();
  const auto active = active_;  // the frame may outlive this object

  const UpstreamUrl url{"tcp://" + label_, target_.address.host, target_.address.port, ""};
  auto connected = co_await connect_local(executor_, url, connect_timeout_);
  if (!connected) {
    logger_->warn("{} {} tcp: cannot connect to {}: {}", request_id, client, label_,
                  connected.error().message());
    co_await respond_error(
        *stream, 502,
        "dialback agent: cannot connect to the tcp target (" + connected.error().message() + ")");
    co_await await_request_end(*stream);
    co_return;
  }
  tcp::socket socket = std::move(*connected);
  const auto self = active->insert(active->end(), &socket);

  if (target_.proxy_protocol == ProxyProtocol::v2) {
    const std::string header = peers ? proxy_v2_header(peers->client, peers->listener)
                                     : proxy_v2_header(std::nullopt, std::nullopt);
    error_code ec;
    co_await asio::async_write(socket, asio::buffer(header), nothrow(ec));
    if (ec) {
      active->erase(self);
      co_await respond_error(
          *stream, 502,
          "dialback agent: the tcp target closed the connection (" + ec.message() + ")");
      co_await await_request_end(*stream);
      co_return;
    }
  }
  if (!stream->respond(ResponseHead{200, {}}, false)) {
    active->erase(self);
    co_return;
  }
  const RelayResult relayed = co_await relay_bytes(socket, *stream, {});
  active->erase(self);
  const double ms =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() /
      1000.0;
  logger_->info("{} {} tcp {}: {}B to the target, {}B back, {:.1f}ms{}{}", request_id, client,
                label_, relayed.to_socket, relayed.to_stream, ms, relayed.error ? ", ended: " : "",
                relayed.error ? relayed.error.message() : "");
}

}  // namespace dialback::agent
