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

std::optional<BasicCredential> split_basic(std::string_view credential) {
  std::optional<std::string> decoded = base64_decode(credential);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  std::optional<BasicCredential> pair;
  if (colon != std::string::npos && decoded->size() > 1) {
    pair = BasicCredential{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return pair;
}

std::optional<std::string> token_from_basic(std::string_view credential) {
  std::optional<BasicCredential> pair = split_basic(credential);
  if (!pair) return std::nullopt;
  return pair->password.empty() ? std::move(pair->user) : std::move(pair->password);
}

// The credential of `header_value` when its scheme is `scheme`; nullopt
// when the scheme differs or the credential is empty, too long or not
// visible ASCII.
std::optional<std::string_view> credential_of(std::string_view header_value,
                                              std::string_view scheme) {
  const std::string_view value = trim(header_value);
  std::size_t space = 0;
  while (space < value.size() && !is_ows(value[space])) ++space;
  const std::string_view credential = trim(value.substr(space));
  if (!iequals(value.substr(0, space), scheme) || credential.empty() ||
      credential.size() > kMaxCredential || !is_visible(credential)) {
    return std::nullopt;
  }
  return credential;
}

}  // namespace

std::optional<std::string> token_from_authorization(std::string_view header_value) {
  if (const auto bearer = credential_of(header_value, "Bearer")) return std::string(*bearer);
  if (const auto basic = credential_of(header_value, "Basic")) return token_from_basic(*basic);
  return std::nullopt;
}

std::optional<BasicCredential> basic_from_authorization(std::string_view header_value) {
  const auto basic = credential_of(header_value, "Basic");
  if (!basic) return std::nullopt;
  return split_basic(*basic);
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string pair;
  pair.reserve(user.size() + 1 + password.size());
  pair.append(user).append(1, ':').append(password);
  // EVP_EncodeBlock writes 4 characters per 3 bytes (padded) and a NUL.
  std::vector<unsigned char> encoded(4 * ((pair.size() + 2) / 3) + 1);
  const int length =
      EVP_EncodeBlock(encoded.data(), reinterpret_cast<const unsigned char*>(pair.data()),
                      static_cast<int>(pair.size()));
  std::string value = "Basic ";
  value.append(reinterpret_cast<const char*>(encoded.data()),
               static_cast<std::size_t>(length < 0 ? 0 : length));
  OPENSSL_cleanse(pair.data(), pair.size());
  OPENSSL_cleanse(encoded.data(), encoded.size());
  return value;
}

std::string bearer_authorization(std::string_view token) { return "Bearer " + std::string(token); }

}  // namespace dialback
