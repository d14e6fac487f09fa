#include "tls/openssl_error.hpp"

#include <openssl/err.h>

#include "core/asio.hpp"

namespace dialback {

std::error_code take_openssl_error() {
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (error == 0) return std::make_error_code(std::errc::protocol_error);
  return boost::system::error_code(static_cast<int>(error), asio::error::get_ssl_category());
}

}  // namespace dialback
