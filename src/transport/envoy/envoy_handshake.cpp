#include "transport/envoy/envoy_handshake.hpp"

#include <algorithm>
#include <charconv>

#include "core/identity.hpp"

namespace dialback::envoy {
namespace {

constexpr std::size_t kMaxMethod = 16;
constexpr std::size_t kMaxBodyText = 200;

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
         c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
}

}  // namespace

std::optional<bool> is_handshake_request(std::string_view first_bytes) {
  const std::size_t space = first_bytes.find(' ');
  const std::string_view method = first_bytes.substr(0, space);
  if (method.size() > kMaxMethod || !std::all_of(method.begin(), method.end(), is_token_char)) {
    return false;
  }
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view target = first_bytes.substr(space + 1);
  const std::size_t n = std::min(target.size(), kRequestPath.size());
  if (target.substr(0, n) != kRequestPath.substr(0, n)) return false;
  if (target.size() <= kRequestPath.size()) return std::nullopt;  // the path may go on
  const char after = target[kRequestPath.size()];
  return after == ' ' || after == '?';
}

http::request<http::empty_body> build_handshake_request(std::string_view host,
                                                        const SessionIdentity& identity,
                                                        std::string_view authorization) {
  http::request<http::empty_body> request{http::verb::get, std::string(kRequestPath), 11};
  request.set(http::field::host, host);
  request.set(http::field::content_length, "0");
  request.set(kNodeHeader, identity.node);
  request.set(kClusterHeader, identity.cluster);
  request.set(kTenantHeader, identity.tenant);
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  request.set(http::field::user_agent, "dialback-agent/0.1");
  return request;
}

tl::expected<SessionIdentity, RegistrationRejection> parse_handshake_request(
    const http::request<http::empty_body>& request) {
  const std::string_view target = request.target();
  if (request.method() != http::verb::get || target.substr(0, target.find('?')) != kRequestPath) {
    return tl::unexpected(
        RegistrationRejection{404, "not_found", "Not a reverse tunnel request", std::nullopt});
  }
  SessionIdentity identity;
  const struct {
    std::string_view header;
    std::string* value;
  } fields[] = {{kNodeHeader, &identity.node},
                {kClusterHeader, &identity.cluster},
                {kTenantHeader, &identity.tenant}};
  for (const auto& field : fields) {
    if (request.count(field.header) != 1) {
      return tl::unexpected(RegistrationRejection::bad_request(
          "exactly one " + std::string(field.header) + " header is required"));
    }
    const std::string_view value = request[field.header];
    if (!is_valid_identity(value)) {
      return tl::unexpected(RegistrationRejection::bad_request(
          std::string(field.header) + " must be 1-63 characters of [A-Za-z0-9._-]"));
    }
    *field.value = std::string(value);
  }
  return identity;
}

http::response<http::empty_body> build_handshake_accept() {
  http::response<http::empty_body> response{http::status::ok, 11};
  response.set(http::field::content_length, "0");
  return response;
}

http::response<http::string_body> build_handshake_reject(const RegistrationRejection& rejection) {
  const int status = rejection.status >= 400 && rejection.status <= 599 ? rejection.status : 500;
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::connection, "close");
  if (status == 401) response.set(http::field::www_authenticate, "Bearer realm=\"dialback\"");
  if (rejection.retry_after_seconds) {
    response.set(http::field::retry_after, std::to_string(*rejection.retry_after_seconds));
  }
  response.body() = rejection.message + "\n";
  response.prepare_payload();
  return response;
}

std::optional<RegistrationRejection> parse_handshake_response(
    const http::response<http::string_body>& response) {
  const int status = response.result_int();
  if (status == 200) return std::nullopt;
  RegistrationRejection rejection;
  rejection.status = status;
  rejection.code = "http_error";
  std::string text = response.body().substr(0, kMaxBodyText);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  rejection.message = text.empty() ? std::string(response.reason()) : text;
  const std::string_view retry = response[http::field::retry_after];
  int seconds = 0;
  const auto [ptr, ec] = std::from_chars(retry.data(), retry.data() + retry.size(), seconds);
  if (!retry.empty() && ec == std::errc{} && ptr == retry.data() + retry.size() && seconds >= 0) {
    rejection.retry_after_seconds = seconds;
  }
  return rejection;
}

}  // namespace dialback::envoy
