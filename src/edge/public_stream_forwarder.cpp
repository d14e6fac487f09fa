#include "edge/public_stream_forwarder.hpp"

#include <charconv>

#include "core/ascii.hpp"
#include "core/error.hpp"
#include "edge/error_page.hpp"
#include "edge/idle_timeout_stream.hpp"
#include "http1/upgrade.hpp"
#include "tunnel/stream_bridge.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

// RFC 9113 §8.3.1 / §8.2.3 on top of what nghttp2 checks: one authority
// (from :authority, else Host; both must agree), Host removed (the tunnel
// carries the authority), cookie crumbs joined for HTTP/1.1 local services.
// Returns the reason to answer 400, or an empty string.
std::string normalize_request(RequestHead& head) {
  std::string cookie;
  std::optional<std::string> host;
  HeaderList kept;
  kept.reserve(head.headers.size());
  for (auto& field : head.headers) {
    if (field.name == "host") {
      if (host && *host != field.value) return "more than one Host header";
      host = std::move(field.value);
    } else if (field.name == "cookie") {
      if (!cookie.empty()) cookie += "; ";
      cookie += field.value;
    } else {
      kept.push_back(std::move(field));
    }
  }
  if (!cookie.empty()) kept.push_back({"cookie", std::move(cookie)});
  head.headers = std::move(kept);
  if (head.authority.empty()) {
    if (!host || host->empty()) return "request without :authority or Host";
    head.authority = std::move(*host);
  } else if (host && !iequals(*host, head.authority)) {
    return ":authority '" + head.authority + "' disagrees with Host '" + *host + "'";
  }
  return {};
}

std::optional<std::uint64_t> declared_length(const RequestHead& head) {
  auto value = find_header(head.headers, "content-length");
  if (!value) return std::nullopt;
  std::uint64_t length = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), length);
  if (ec != std::errc{} || ptr != value->data() + value->size()) return std::nullopt;
  return length;
}

}  // namespace

PublicStreamForwarder::PublicStreamForwarder(RequestForwarder& forwarder, PublicPeer peer,
                                             std::string scheme, std::string alt_svc,
                                             asio::any_io_executor executor, Logger logger)
    : forwarder_(forwarder),
      peer_(std::move(peer)),
      scheme_(std::move(scheme)),
      alt_svc_(std::move(alt_svc)),
      executor_(std::move(executor)),
      logger_(std::move(logger)) {}

void PublicStreamForwarder::advertise(ResponseHead& head) const {
  if (alt_svc_.empty() || find_header(head.headers, "alt-svc")) return;
  head.headers.push_back({"alt-svc", alt_svc_});
}

Task<void> PublicStreamForwarder::respond_error(IncomingStream& public_stream,
                                                const AccessEntry& entry, http::status status,
                                                std::string message, std::string_view outcome,
                                                std::optional<int> retry_after) {
  ErrorResponse page = error_response(status, entry.request_id, std::move(message), retry_after);
  advertise(page.head);
  forwarder_.log(entry, static_cast<int>(status), 0, outcome);
  if (!public_stream.respond(page.head, false)) co_return;
  auto written = co_await public_stream.write_body(page.body);
  if (written) public_stream.end_body({});
}

Task<void> PublicStreamForwarder::forward(std::unique_ptr<IncomingStream> public_stream) {
  const auto& config = forwarder_.config().public_;
  auto& counters = forwarder_.counters();
  ++counters.requests;
  RequestHead head = public_stream->request();
  AccessEntry entry{forwarder_.next_request_id(), peer_.ip, head.method, head.authority, head.path};

  std::string invalid = normalize_request(head);
  if (invalid.empty() && head.method == "CONNECT" && head.protocol.empty()) {
    invalid = "plain CONNECT is not served";  // only RFC 8441 extended CONNECT
  }
  if (!invalid.empty()) {
    ++counters.requests_rejected;
    const auto status = head.method == "CONNECT" && head.protocol.empty()
                            ? http::status::not_implemented
                            : http::status::bad_request;
    co_await respond_error(*public_stream, entry, status, "dialback edge: " + invalid,
                           "rejected: " + invalid);
    co_return;
  }
  entry.authority = head.authority;
  const auto length = declared_length(head);
  if (config.max_body_bytes > 0 && length && *length > config.max_body_bytes) {
    ++counters.requests_rejected;
    TunnelFailure failure = describe_tunnel_failure(Error::limit_exceeded);
    co_await respond_error(*public_stream, entry, failure.status, std::move(failure.page),
                           failure.reason);
    co_return;
  }

  entry.request_id = forwarder_.add_forwarding(head, peer_, scheme_, entry.request_id);
  const bool has_body = public_stream->has_body();
  auto opened = co_await forwarder_.open(head, !has_body, peer_);
  if (!opened) {
    ForwardRefusal refusal = std::move(opened.error());
    co_await respond_error(*public_stream, entry, refusal.status, std::move(refusal.message),
                           refusal.via, refusal.retry_after);
    co_return;
  }
  IncomingStream* client = public_stream.get();
  auto tunnel = std::make_unique<IdleTimeoutStream>(
      std::move(opened->stream), executor_, config.stream_idle_timeout, config.first_byte_timeout,
      [client](bool response_started) {
        if (response_started) client->reset(Error::timeout);
      });
  const std::string via = std::move(opened->via);
  StreamBridge bridge(*public_stream, *tunnel, executor_, config.max_body_bytes, logger_);

  auto response = co_await bridge.read_response(Clock::now() + config.request_timeout);
  if (!response) {
    ++counters.requests_failed;
    // The upload going over the limit reset the tunnel stream: that is the failure.
    TunnelFailure failure = describe_tunnel_failure(
        bridge.body_too_large() ? make_error_code(Error::limit_exceeded) : response.error());
    co_await respond_error(*public_stream, entry, failure.status, std::move(failure.page),
                           via + " error=" + failure.reason);
    // A body the client is still sending has nowhere to go: nghttp2 resets
    // the client's half of the stream after our END_STREAM.
    co_await bridge.finish();
    co_return;
  }

  // Extended CONNECT (RFC 8441): a 2xx means the tunnel is open. The local
  // service ignoring the upgrade with a plain 2xx (marked by the agent) must
  // not look like one, and the marker never leaves the edge.
  if (!head.protocol.empty() && !http1::upgrade_accepted(*response) &&
      response->status / 100 == 2) {
    ++counters.requests_failed;
    tunnel->reset(Error::cancelled);
    co_await respond_error(
        *public_stream, entry, http::status::bad_gateway,
        "dialback edge: the service did not accept the " + head.protocol + " upgrade",
        via + " error=upgrade-declined");
    co_await bridge.finish();
    co_return;
  }
  advertise(*response);
  auto relayed = co_await bridge.relay_response(*response);
  co_await bridge.finish();
  if (!relayed) ++counters.requests_failed;
  std::string outcome = via;
  if (!relayed) outcome += " error=" + relay_failure_reason(relayed.error());
  if (!head.protocol.empty()) outcome += " protocol=" + head.protocol;
  forwarder_.log(entry, response->status, relayed ? *relayed : 0, outcome);
}

}  // namespace dialback::edge
