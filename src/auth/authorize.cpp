#include "auth/authorize.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace dialback {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

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
