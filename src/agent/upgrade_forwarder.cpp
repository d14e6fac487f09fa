#include "agent/upgrade_forwarder.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "http1/body_pump.hpp"
#include "http1/header_translation.hpp"
#include "http1/upgrade.hpp"
#include "tunnel/stream_relay.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 6455 §4.1: base64 of 16 random bytes.
std::string new_websocket_key() {
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  unsigned char encoded[32];
  const int n = EVP_EncodeBlock(encoded, nonce, sizeof nonce);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count() / 1000.0).substr(0, 4) + "s";
}

}  // namespace

Task<std::optional<UpgradeFailure>> forward_upgrade(beast::tcp_stream& connection,
                                                    beast::flat_buffer& buffer,
                                                    IncomingStream& stream, UpgradeTarget target,
                                                    Logger logger) {
  const RequestHead& head = stream.request();
  const std::string request_id(find_header(head.headers, "x-request-id").value_or("-"));
  const auto started = Clock::now();

  http::request<http::empty_body> request;
  request.version(11);
  http1::apply_upgrade_request(head, target.base_path, request.base());
  http1::apply_host_rewrite(head, target.host_rewrite, request.base());
  if (head.protocol == "websocket" && request.count(http::field::sec_websocket_key) == 0) {
    request.set(http::field::sec_websocket_key, new_websocket_key());
  }
  error_code ec;
  connection.expires_after(target.response_timeout);
  co_await http::async_write(connection, request, nothrow(ec));
  if (ec) {
    logger->warn("{} local service {} closed the connection before the {} upgrade: {}", request_id,
                 target.label, head.protocol, ec.message());
    co_return UpgradeFailure{
        502, "dialback agent: the local service closed the connection (" + ec.message() + ")"};
  }

  // 1xx interim answers other than 101 are skipped, as for plain requests.
  std::optional<http::response_parser<http::buffer_body>> parsing;
  do {
    parsing.emplace();
    parsing->body_limit(http1::kNoBodyLimit);
    co_await http::async_read_header(connection, buffer, *parsing, nothrow(ec));
  } while (!ec && parsing->get().result_int() / 100 == 1 && parsing->get().result_int() != 101);
  connection.expires_never();
  if (ec) {
    const bool timed_out = ec == beast::error::timeout;
    logger->warn("{} local service {} {} the {} upgrade: {}", request_id, target.label,
                 timed_out ? "did not answer" : "failed", head.protocol, ec.message());
    if (timed_out) {
      co_return UpgradeFailure{504, "dialback agent: the local service did not answer within " +
                                        seconds_text(target.response_timeout)};
    }
    co_return UpgradeFailure{
        502, "dialback agent: the local service sent no valid response (" + ec.message() + ")"};
  }
  auto& parser = *parsing;
  const int status = static_cast<int>(parser.get().result_int());

  if (status != 101) {  // declined: a plain response, streamed like any other
    ResponseHead response = http1::tunnel_decline_from(parser.get());
    const bool end_stream = parser.is_done() || http1::response_has_no_body("GET", status);
    if (!stream.respond(response, end_stream)) co_return std::nullopt;
    if (!end_stream) {
      auto pumped = co_await http1::pump_body_to_tunnel(connection, buffer, parser, stream);
      if (!pumped) stream.reset(Error::upstream_protocol);
    }
    logger->info("{} \"{} {}\" {} upgrade declined", request_id, "GET", head.path, status);
    co_return std::nullopt;
  }

  if (!stream.respond(http1::tunnel_accept_from(parser.get()), false)) co_return std::nullopt;
  // Bytes the service sent right behind its 101 belong to the relay.
  std::string pending = beast::buffers_to_string(buffer.data());
  buffer.consume(buffer.size());
  const RelayResult relayed = co_await relay_bytes(connection, stream, std::move(pending));
  const double ms =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count() /
      1000.0;
  if (relayed.error) {
    logger->info("{} \"GET {}\" 101 {} relay ended: {} ({}B to the service, {}B back, {:.1f}ms)",
                 request_id, head.path, head.protocol, relayed.error.message(), relayed.to_socket,
                 relayed.to_stream, ms);
  } else {
    logger->info("{} \"GET {}\" 101 {} ({}B to the service, {}B back, {:.1f}ms)", request_id,
                 head.path, head.protocol, relayed.to_socket, relayed.to_stream, ms);
  }
  co_return std::nullopt;
}

Task<void> await_request_end(IncomingStream& stream) {
  std::size_t discarded = 0;
  for (;;) {
    auto chunk = co_await stream.read_body();
    if (!chunk || !chunk->has_value()) co_return;
    discarded += (*chunk)->size();
    if (discarded > kRelayChunk) {
      stream.reset(Error::protocol_error);
      co_return;
    }
  }
}

}  // namespace dialback::agent
