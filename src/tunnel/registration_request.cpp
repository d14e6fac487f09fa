#include "tunnel/registration_request.hpp"

#include <algorithm>
#include <cctype>

#include "core/ascii.hpp"

namespace dialback {
namespace {

using Rejected = tl::unexpected<RegistrationRejection>;

Rejected reject(std::string message) {
  return Rejected(RegistrationRejection::bad_request(std::move(message)));
}

std::string invalid_identity(std::string_view header) {
  return std::string(header) + " must be 1-63 characters of [A-Za-z0-9._-]";
}

// True when any line of a comma-separated header lists `token`
// (case-insensitive, RFC 9110 list syntax).
bool has_token(const http::request<http::empty_body>& request, http::field name,
               std::string_view token) {
  const auto [first, last] = request.equal_range(name);
  return std::any_of(first, last, [&](const auto& field) {
    return http::token_list{field.value()}.exists(token);
  });
}

// True when an ALPN header is absent or offers h2 (protocol ids compare exactly).
bool alpn_offers_h2(const http::request<http::empty_body>& request) {
  const auto [first, last] = request.equal_range(kHeaderAlpn);
  if (first == last) return true;
  return std::any_of(first, last, [](const auto& field) {
    for (const auto token : http::token_list{field.value()}) {
      if (token == kRegistrationAlpn) return true;
    }
    return false;
  });
}

std::string_view trim(std::string_view s) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && ows(s.back())) s.remove_suffix(1);
  return s;
}

bool is_session_id(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isxdigit(c) != 0;
         });
}

// Appends the "k=v, k=v" entries of one Dialback-Labels line to `labels`.
// Empty list elements are ignored, as RFC 9110 §5.6.1 asks of recipients.
std::optional<std::string> parse_labels(std::string_view line,
                                        std::vector<std::pair<std::string, std::string>>& labels) {
  while (true) {
    const auto comma = line.find(',');
    const std::string_view item = trim(line.substr(0, comma));
    if (!item.empty()) {
      const auto eq = item.find('=');
      if (eq == std::string_view::npos) return "Dialback-Labels entries must be key=value";
      const std::string_view key = item.substr(0, eq);
      const std::string_view value = item.substr(eq + 1);
      if (!is_valid_identity(key) || !is_valid_identity(value)) {
        return "Dialback-Labels keys and values must be 1-63 characters of [A-Za-z0-9._-]";
      }
      const bool duplicate = std::any_of(labels.begin(), labels.end(),
                                         [&](const auto& label) { return label.first == key; });
      if (duplicate) return "Dialback-Labels has a duplicate key";
      if (labels.size() == kMaxLabels) {
        return "Dialback-Labels has more than " + std::to_string(kMaxLabels) + " entries";
      }
      labels.emplace_back(key, value);
    }
    if (comma == std::string_view::npos) return std::nullopt;
    line.remove_prefix(comma + 1);
  }
}

// The single value of an identity header, nullopt when absent; the rejection
// message when repeated or invalid.
tl::expected<std::optional<std::string>, std::string> identity_header(const http::fields& request,
                                                                      std::string_view name) {
  const auto count = request.count(name);
  if (count == 0) return std::nullopt;
  if (count > 1) return tl::unexpected("duplicate " + std::string(name) + " header");
  const std::string_view value = request[name];
  if (!is_valid_identity(value)) return tl::unexpected(invalid_identity(name));
  return std::string(value);
}

}  // namespace

void set_registration_fields(http::fields& out, const RegistrationRequest& request) {
  out.set(http::field::host, request.host);
  if (request.authorization) out.set(http::field::authorization, *request.authorization);
  out.set(kHeaderTunnel, request.tunnel);
  out.set(kHeaderNode, request.node);
  if (!request.cluster.empty()) out.set(kHeaderCluster, request.cluster);
  if (!request.tenant.empty()) out.set(kHeaderTenant, request.tenant);
  if (!request.labels.empty()) {
    std::string labels;
    for (const auto& [key, value] : request.labels) {
      if (!labels.empty()) labels += ", ";
      labels += key;
      labels += '=';
      labels += value;
    }
    out.set(kHeaderLabels, labels);
  }
  if (!request.session_id.empty()) out.set(kHeaderSession, request.session_id);
  if (!request.user_agent.empty()) out.set(http::field::user_agent, request.user_agent);
  if (const std::string port = port_request_text(request.allocation); !port.empty()) {
    out.set(kHeaderRequestPort, port);
  }
  if (const std::string host = host_request_text(request.allocation); !host.empty()) {
    out.set(kHeaderRequestHost, host);
  }
}

http::request<http::empty_body> build_registration_request(const RegistrationRequest& request) {
  http::request<http::empty_body> out{http::verb::get, kRegistrationPath, 11};
  set_registration_fields(out, request);
  out.set(http::field::connection, "Upgrade");
  out.set(http::field::upgrade, kUpgradeToken);
  out.set(kHeaderAlpn, kRegistrationAlpn);
  return out;
}

tl::expected<RegistrationRequest, RegistrationRejection> parse_registration_request(
    const http::request<http::empty_body>& request) {
  const std::string_view target = request.target();
  if (target.substr(0, target.find('?')) != kRegistrationPath) {
    return Rejected(RegistrationRejection{
        404, "not_found", "registration is GET " + std::string(kRegistrationPath), std::nullopt});
  }
  if (request.method() != http::verb::get) return reject("registration method must be GET");
  if (request.version() != 11) return reject("registration requires HTTP/1.1");
  if (!has_token(request, http::field::upgrade, kUpgradeToken)) {
    return reject("Upgrade header must offer ptth");
  }
  if (!has_token(request, http::field::connection, "upgrade")) {
    return reject("Connection header must contain upgrade");
  }
  if (!alpn_offers_h2(request)) return reject("ALPN header must offer h2");
  return parse_registration_fields(request);
}

tl::expected<RegistrationRequest, RegistrationRejection> parse_registration_fields(
    const http::fields& request) {
  if (request.count(http::field::host) != 1 || request[http::field::host].empty()) {
    return reject("exactly one non-empty Host header is required");
  }
  RegistrationRequest out;
  out.host = std::string(request[http::field::host]);

  auto tunnel = identity_header(request, kHeaderTunnel);
  if (!tunnel) return reject(tunnel.error());
  if (!*tunnel) return reject("Dialback-Tunnel header is required");
  out.tunnel = std::move(**tunnel);

  auto node = identity_header(request, kHeaderNode);
  if (!node) return reject(node.error());
  if (!*node) return reject("Dialback-Node header is required");
  out.node = std::move(**node);

  auto cluster = identity_header(request, kHeaderCluster);
  if (!cluster) return reject(cluster.error());
  out.cluster = *cluster ? std::move(**cluster) : out.tunnel;

  auto tenant = identity_header(request, kHeaderTenant);
  if (!tenant) return reject(tenant.error());
  out.tenant = *tenant ? std::move(**tenant) : std::string(kDefaultTenant);

  const auto [labels_first, labels_last] = request.equal_range(kHeaderLabels);
  for (auto it = labels_first; it != labels_last; ++it) {
    if (auto label_error = parse_labels(it->value(), out.labels)) return reject(*label_error);
  }

  const auto sessions = request.count(kHeaderSession);
  if (sessions == 0) return reject("Dialback-Session header is required");
  if (sessions > 1) return reject("duplicate Dialback-Session header");
  const std::string_view session = request[kHeaderSession];
  if (!is_session_id(session)) return reject("Dialback-Session must be 32 hex characters");
  out.session_id = to_lower_ascii(session);

  const auto authorizations = request.count(http::field::authorization);
  if (authorizations > 1) return reject("duplicate Authorization header");
  if (authorizations == 1) out.authorization = std::string(request[http::field::authorization]);

  out.user_agent = std::string(request[http::field::user_agent]);

  if (const auto ports = request.count(kHeaderRequestPort); ports > 1) {
    return reject("duplicate Dialback-Request-Port header");
  } else if (ports == 1) {
    auto kind = parse_port_request(request[kHeaderRequestPort], out.allocation.port);
    if (!kind) return reject("Dialback-Request-Port must be auto or a port 1-65535");
    out.allocation.port_kind = *kind;
  }
  if (const auto hosts = request.count(kHeaderRequestHost); hosts > 1) {
    return reject("duplicate Dialback-Request-Host header");
  } else if (hosts == 1) {
    auto kind = parse_host_request(request[kHeaderRequestHost], out.allocation.label);
    if (!kind) {
      return reject(
          "Dialback-Request-Host must be auto or a DNS label (1-63 of a-z, 0-9 and '-', "
          "not first or last)");
    }
    out.allocation.host_kind = *kind;
  }
  return out;
}

}  // namespace dialback
