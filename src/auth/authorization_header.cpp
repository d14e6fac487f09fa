#include "auth/authorization_header.hpp"

#include <cctype>
#include <memory>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/ascii.hpp"

namespace dialback {
namespace {

constexpr std::size_t kMaxCredential = 8192;

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Visible ASCII only: no spaces, no control characters.
bool is_visible(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

bool is_base64_text(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/' && c != '=') {
      return false;
    }
  }
  return true;
}

// Standard base64 (with padding) decoded by OpenSSL; nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view text) {
  if (!is_base64_text(text)) return std::nullopt;
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                       &EVP_ENCODE_CTX_free);
  if (!ctx) return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3 + 3);
  int written = 0;
  int final_written = 0;
  EVP_DecodeInit(ctx.get());
  if (EVP_DecodeUpdate(ctx.get(), out.data(), &written,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) < 0 ||
      EVP_DecodeFinal(ctx.get(), out.data() + written, &final_written) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  std::string decoded(reinterpret_cast<const char*>(out.data()),
                      static_cast<std::size_t>(written + final_written));
  OPENSSL_cleanse(out.data(), out.size());
  return decoded;
}

std::optional<std::string> token_from_basic(std::string_view credential) {
  const std::optional<std::string> decoded = base64_decode(credential);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string user = decoded->substr(0, colon);
  std::string pass = decoded->substr(colon + 1);
  if (!pass.empty()) return pass;
  if (!user.empty()) return user;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> token_from_authorization(std::string_view header_value) {
  const std::string_view value = trim(header_value);
  std::size_t space = 0;
  while (space < value.size() && !is_ows(value[space])) ++space;
  const std::string_view scheme = value.substr(0, space);
  const std::string_view credential = trim(value.substr(space));
  if (credential.empty() || credential.size() > kMaxCredential || !is_visible(credential)) {
    return std::nullopt;
  }
  if (iequals(scheme, "Bearer")) return std::string(credential);
  if (iequals(scheme, "Basic")) return token_from_basic(credential);
  return std::nullopt;
}

}  // namespace dialback
