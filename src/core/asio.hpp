// The one header that includes Boost.Asio and Beast for the whole project.
// Boost 1.74's awaitable.hpp needs <utility> before it on g++ 12.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace dialback {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

template <class T = void>
using Task = asio::awaitable<T>;

using error_code = boost::system::error_code;

// Completion token for coroutines that stores the error in `ec` instead of throwing:
//     co_await socket.async_read_some(buf, nothrow(ec));
inline auto nothrow(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// The TCP socket under `stream`: tcp::socket itself, beast::tcp_stream, or a
// layered stream (ssl::stream<tcp::socket>, ssl::stream<beast::tcp_stream>).
template <class Stream>
tcp::socket& lowest_socket(Stream& stream) {
  auto& lowest = beast::get_lowest_layer(stream);
  if constexpr (requires { lowest.socket(); }) {
    return lowest.socket();
  } else {
    return lowest;
  }
}

}  // namespace dialback
