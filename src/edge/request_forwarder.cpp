#include "edge/request_forwarder.hpp"

#include <openssl/rand.h>

#include <array>
#include <charconv>

#include "http1/header_translation.hpp"

namespace dialback::edge {

RequestForwarder::RequestForwarder(const EdgeConfig& config, const TunnelTable& tunnels,
                                   SessionRegistry& registry, EdgeCounters& counters,
                                   Logger access_log)
    : config_(config),
      tunnels_(tunnels),
      registry_(registry),
      counters_(counters),
      access_log_(std::move(access_log)) {
  unsigned char random[6];
  RAND_bytes(random, sizeof random);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char byte : random) {
    request_id_prefix_ += kHex[byte >> 4];
    request_id_prefix_ += kHex[byte & 15];
  }
}

std::string RequestForwarder::next_request_id() {
  std::array<char, 24> digits;
  const auto end =
      std::to_chars(digits.data(), digits.data() + digits.size(), ++request_counter_).ptr;
  std::string id;
  id.reserve(request_id_prefix_.size() + 1 + (end - digits.data()));
  id += request_id_prefix_;
  id += '-';
  id.append(digits.data(), end);
  return id;
}

std::string RequestForwarder::add_forwarding(RequestHead& head, const std::string& client_ip,
                                             std::string scheme, std::string edge_request_id) {
  return http1::add_forwarding_headers(
      head, {client_ip, std::move(scheme), std::move(edge_request_id), &traceparents_});
}

tl::expected<OpenedStream, ForwardRefusal> RequestForwarder::open(const RequestHead& head,
                                                                  bool end_stream) {
  const auto tunnel = tunnels_.route(head.authority);
  if (!tunnel) {
    ++counters_.requests_no_route;
    return tl::unexpected(ForwardRefusal{
        http::status::not_found, "dialback edge: no tunnel serves host '" + head.authority + "'",
        std::nullopt, "no-route"});
  }
  const std::string& tunnel_name = tunnels_[*tunnel].name;
  TunnelSession* session = registry_.pick(*tunnel);
  Result<std::unique_ptr<TunnelStream>> opened = fail(Error::no_session);
  if (session != nullptr) opened = session->open_stream(head, end_stream);
  if (!opened && session != nullptr) {  // the session just began draining: try another once
    session = registry_.pick(*tunnel);
    if (session != nullptr) opened = session->open_stream(head, end_stream);
  }
  if (!opened) {
    ++counters_.requests_no_session;
    return tl::unexpected(ForwardRefusal{
        http::status::service_unavailable,
        "dialback edge: tunnel '" + tunnel_name + "' has no connected agent", 5,
        "tunnel=" + tunnel_name + " no-session"});
  }
  // Only for the access log: not built when it is off (every request pays it).
  std::string via;
  if (access_log_->should_log(spdlog::level::info)) {
    via = "tunnel=" + tunnel_name + " session=" + session->identity().session_id;
  }
  return OpenedStream{std::move(*opened), std::move(via)};
}

void RequestForwarder::log(const AccessEntry& entry, int status, std::uint64_t bytes,
                           std::string_view outcome) {
  const auto elapsed = std::chrono::steady_clock::now() - entry.started;
  const double ms =
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 1000.0;
  access_log_->info("{} {} \"{} {}{}\" {} {}B {:.1f}ms {}", entry.request_id, entry.client_ip,
                    entry.method, entry.authority, entry.path, status, bytes, ms, outcome);
}

void RequestForwarder::log_rejected(const std::string& request_id, const std::string& client_ip,
                                    int status, std::string_view reason) {
  access_log_->info("{} {} \"-\" {} 0B rejected: {}", request_id, client_ip, status, reason);
}

}  // namespace dialback::edge
