#include "tunnel/registration_response.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

namespace dialback {
namespace {

constexpr std::size_t kMaxMessage = 200;

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// At most kMaxMessage bytes, not cutting a UTF-8 sequence in half.
std::string truncate_text(std::string_view s) {
  if (s.size() <= kMaxMessage) return std::string(s);
  std::size_t cut = kMaxMessage;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut));
}

// Delay-seconds form of Retry-After (RFC 9110 §10.2.3).
std::optional<int> parse_retry_after(std::string_view value) {
  value = trim(value);
  int seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty() || seconds < 0 ||
      value.front() == '-') {
    return std::nullopt;
  }
  return seconds;
}

bool upgrade_is_ptth(const http::response<http::string_body>& response) {
  const auto [first, last] = response.equal_range(http::field::upgrade);
  for (auto it = first; it != last; ++it) {
    if (http::token_list{it->value()}.exists(kUpgradeToken)) return true;
  }
  return false;
}

bool alpn_is_h2(const http::response<http::string_body>& response) {
  const auto [first, last] = response.equal_range(kHeaderAlpn);
  if (first == last) return true;
  for (auto it = first; it != last; ++it) {
    for (const auto token : http::token_list{it->value()}) {
      if (token == kRegistrationAlpn) return true;
    }
  }
  return false;
}

RegistrationRejection rejection_from(const http::response<http::string_body>& response) {
  RegistrationRejection out;
  out.status = response.result_int();
  out.code = "http_error";

  const auto json = nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
  if (json.is_object()) {
    if (const auto it = json.find("error"); it != json.end() && it->is_string()) {
      out.code = truncate_text(it->get<std::string>());
    }
    if (const auto it = json.find("message"); it != json.end() && it->is_string()) {
      out.message = truncate_text(it->get<std::string>());
    }
  }
  if (out.message.empty() && !json.is_object()) out.message = truncate_text(trim(response.body()));
  if (out.message.empty()) {
    const std::string_view reason = response.reason();
    out.message = std::string(reason.empty() ? http::obsolete_reason(response.result()) : reason);
  }

  if (const auto it = response.find(http::field::retry_after); it != response.end()) {
    out.retry_after_seconds = parse_retry_after(it->value());
  }
  return out;
}

}  // namespace

http::response<http::empty_body> build_registration_accept(std::string_view edge_id,
                                                           std::string_view routes) {
  http::response<http::empty_body> out{http::status::switching_protocols, 11};
  out.set(http::field::connection, "Upgrade");
  out.set(http::field::upgrade, kUpgradeToken);
  out.set(kHeaderAlpn, kRegistrationAlpn);
  out.set(kHeaderEdge, edge_id);
  if (!routes.empty()) out.set(kHeaderRoutes, routes);
  return out;
}

http::response<http::string_body> build_registration_reject(
    const RegistrationRejection& rejection) {
  const bool valid_status = rejection.status >= 400 && rejection.status <= 599;
  http::response<http::string_body> out;
  out.version(11);
  out.result(static_cast<unsigned>(valid_status ? rejection.status : 500));
  out.set(http::field::content_type, "application/json");
  out.set(http::field::connection, "close");
  if (rejection.status == 401) out.set(http::field::www_authenticate, R"(Bearer realm="dialback")");
  if ((rejection.status == 429 || rejection.status == 503) && rejection.retry_after_seconds) {
    out.set(http::field::retry_after, std::to_string(std::max(0, *rejection.retry_after_seconds)));
  }
  const nlohmann::json body = {{"error", rejection.code}, {"message", rejection.message}};
  // Replace invalid UTF-8 instead of throwing: messages may quote peer input.
  out.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.prepare_payload();
  return out;
}

tl::expected<RegistrationAccepted, RegistrationRejection> parse_registration_response(
    const http::response<http::string_body>& response) {
  if (response.result() != http::status::switching_protocols) {
    return tl::unexpected(rejection_from(response));
  }
  if (!upgrade_is_ptth(response)) {
    return tl::unexpected(RegistrationRejection{
        0, "protocol_error", "101 response without Upgrade: ptth", std::nullopt});
  }
  if (!alpn_is_h2(response)) {
    return tl::unexpected(
        RegistrationRejection{0, "protocol_error", "101 response with an ALPN other than h2",
                              std::nullopt});
  }
  return RegistrationAccepted{std::string(response[kHeaderEdge]),
                              std::string(response[kHeaderRoutes])};
}

}  // namespace dialback
