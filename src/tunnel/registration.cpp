#include "tunnel/registration.hpp"

#include <array>
#include <random>

#include <openssl/rand.h>

#include "core/error.hpp"

namespace dialback {

RegistrationRejection RegistrationRejection::bad_request(std::string message) {
  return {400, "bad_request", std::move(message), std::nullopt};
}

RegistrationRejection RegistrationRejection::unauthorized(std::string message) {
  return {401, "unauthorized", std::move(message), std::nullopt};
}

RegistrationRejection RegistrationRejection::forbidden(std::string message) {
  return {403, "forbidden", std::move(message), std::nullopt};
}

RegistrationRejection RegistrationRejection::unknown_tunnel(std::string message) {
  return {404, "unknown_tunnel", std::move(message), std::nullopt};
}

RegistrationRejection RegistrationRejection::too_many_sessions(
    std::string message, std::optional<int> retry_after_seconds) {
  return {429, "too_many_sessions", std::move(message), retry_after_seconds};
}

RegistrationRejection RegistrationRejection::draining(std::string message,
                                                      std::optional<int> retry_after_seconds) {
  return {503, "draining", std::move(message), retry_after_seconds};
}

RegistrationRejection RegistrationRejection::rate_limited(int retry_after_seconds) {
  return {429, "rate_limited", "too many failed registrations from this address",
          retry_after_seconds};
}

std::error_code RegistrationRejection::error() const {
  switch (status) {
    case 400: return Error::bad_request;
    case 401: return Error::unauthorized;
    case 403: return Error::forbidden;
    case 404: return Error::unknown_tunnel;
    case 429: return Error::too_many_sessions;
    case 503: return Error::draining;
    default: return Error::protocol_error;
  }
}

bool RegistrationRejection::retryable() const { return status == 429 || status >= 500; }

std::string generate_session_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // The id names a session in logs; it is not a secret. If OpenSSL's RNG is
    // unavailable, the OS source behind random_device is good enough.
    std::random_device device;
    for (auto& b : bytes) b = static_cast<unsigned char>(device());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

}  // namespace dialback
