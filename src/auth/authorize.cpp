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

AuthOutcome authorize(const TunnelAuthPolicy& policy, const Credentials& credentials) {
  if (credentials.token && policy.tokens.matches(*credentials.token)) return AuthOutcome::allowed;
  for (const std::string& name : credentials.cert_names) {
    if (name_allowed(policy.client_names, name)) return AuthOutcome::allowed;
  }
  return credentials.cert_names.empty() ? AuthOutcome::unauthorized : AuthOutcome::forbidden;
}

}  // namespace dialback
