#include "auth/authorize.hpp"

#include <algorithm>
#include <string_view>

#include "core/ascii.hpp"

namespace dialback {
namespace {

bool name_allowed(const std::vector<std::string>& allowed, std::string_view name) {
  if (name.empty()) return false;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return iequals(entry, name); });
}

}  // namespace

Credentials credentials_from(std::string_view authorization, std::vector<std::string> cert_names) {
  Credentials credentials;
  credentials.cert_names = std::move(cert_names);
  if (authorization.empty()) return credentials;
  credentials.authorization = std::string(authorization);
  credentials.token = token_from_authorization(authorization);
  credentials.basic = basic_from_authorization(authorization);
  return credentials;
}

AuthOutcome authorize(const TunnelAuthPolicy& policy, const Credentials& credentials) {
  // Both checks run whatever the first found.
  const bool token_ok = credentials.token && policy.tokens.matches(*credentials.token);
  const bool basic_ok = credentials.basic &&
                        policy.basic.matches(credentials.basic->user, credentials.basic->password);
  if (token_ok || basic_ok) return AuthOutcome::allowed;
  for (const std::string& name : credentials.cert_names) {
    if (name_allowed(policy.client_names, name)) return AuthOutcome::allowed;
  }
  return credentials.cert_names.empty() ? AuthOutcome::unauthorized : AuthOutcome::forbidden;
}

}  // namespace dialback
