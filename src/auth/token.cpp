#include "auth/token.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace dialback {
namespace {

constexpr int kTokenBytes = 32;

}  // namespace

std::string generate_token() {
  std::array<unsigned char, kTokenBytes> raw{};
  if (RAND_bytes(raw.data(), kTokenBytes) != 1) return {};

  // EVP_EncodeBlock writes standard base64 with padding and a trailing NUL.
  std::array<unsigned char, 4 * ((kTokenBytes + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), raw.data(), kTokenBytes);
  OPENSSL_cleanse(raw.data(), raw.size());

  std::string token = "dbt_";
  token.reserve(token.size() + static_cast<std::size_t>(length));
  for (int i = 0; i < length; ++i) {
    const char c = static_cast<char>(encoded[static_cast<std::size_t>(i)]);
    if (c == '=') break;  // base64url: no padding
    token.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  OPENSSL_cleanse(encoded.data(), encoded.size());
  return token;
}

std::string hash_token(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  if (EVP_Digest(token.data(), token.size(), digest.data(), &digest_length, EVP_sha256(),
                 nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  out.reserve(out.size() + 2 * digest_length);
  for (unsigned int i = 0; i < digest_length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dialback
