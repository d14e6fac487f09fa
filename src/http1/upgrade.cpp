#include "http1/upgrade.hpp"

#include <boost/beast/http/rfc7230.hpp>

#include "http1/header_translation.hpp"
#include "http1/hop_by_hop.hpp"

namespace dialback::http1 {
namespace {

constexpr std::string_view kWebSocket = "websocket";

// True when some `field` header lists `token` (case-insensitive).
bool lists_token(const http::fields& fields, http::field field, std::string_view token) {
  auto [begin, end] = fields.equal_range(field);
  for (auto it = begin; it != end; ++it) {
    for (auto item : http::token_list(it->value())) {
      if (beast::iequals(item, token)) return true;
    }
  }
  return false;
}

bool is_framing(std::string_view lower_name) {
  return lower_name == "content-length" || is_hop_by_hop(lower_name);
}

}  // namespace

std::optional<std::string> requested_upgrade(const http::request_header<>& request) {
  if (request.method() != http::verb::get || request.version() < 11) return std::nullopt;
  if (!lists_token(request, http::field::connection, "upgrade")) return std::nullopt;
  if (!lists_token(request, http::field::upgrade, kWebSocket)) return std::nullopt;
  return std::string(kWebSocket);
}

RequestHead extended_connect(RequestHead head, std::string protocol) {
  head.method = "CONNECT";
  head.protocol = std::move(protocol);
  return head;
}

void apply_switching_protocols(const ResponseHead& head, std::string_view protocol,
                               http::response_header<>& response) {
  response.result(http::status::switching_protocols);
  for (const auto& field : head.headers) {
    if (is_framing(field.name)) continue;
    response.insert(field.name, field.value);
  }
  response.set(http::field::connection, "Upgrade");
  response.set(http::field::upgrade, protocol);
}

void apply_upgrade_request(const RequestHead& head, const std::string& base_path,
                           http::request_header<>& request) {
  apply_request_head(head, base_path, request);
  request.method(http::verb::get);
  request.erase(http::field::content_length);
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::upgrade, head.protocol);
}

bool upgrade_accepted(ResponseHead& head) {
  const auto removed = std::erase_if(
      head.headers, [](const HeaderField& field) { return field.name == kUpgradeMarker; });
  return head.status / 100 == 2 && removed == 0;
}

ResponseHead tunnel_decline_from(const http::response_header<>& response) {
  ResponseHead head = tunnel_response_from(response);
  std::erase_if(head.headers,
                [](const HeaderField& field) { return field.name == kUpgradeMarker; });
  if (head.status / 100 == 2) {
    head.headers.push_back({std::string(kUpgradeMarker), std::string(kUpgradeDeclined)});
  }
  return head;
}

ResponseHead tunnel_accept_from(const http::response_header<>& response) {
  ResponseHead head = tunnel_response_from(response);
  head.status = 200;
  std::erase_if(head.headers, [](const HeaderField& field) {
    return is_framing(field.name) || field.name == kUpgradeMarker;
  });
  return head;
}

}  // namespace dialback::http1
