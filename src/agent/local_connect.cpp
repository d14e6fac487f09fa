#include "agent/local_connect.hpp"

#include <vector>

#include "core/watchdog.hpp"

namespace dialback::agent {

Task<Result<tcp::socket>> connect_local(asio::any_io_executor executor, const UpstreamUrl& target,
                                        std::chrono::milliseconds timeout) {
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  // Name lookups can hang too: one deadline for both steps.
  Watchdog deadline(executor, timeout, [&resolver, &socket] {
    resolver.cancel();
    error_code ignored;
    socket.close(ignored);
  });
  error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const auto literal = asio::ip::make_address(target.host, ec);
  if (!ec) {
    // No lookup for an IP literal: Asio's resolver runs getaddrinfo on a
    // thread of its own, started on first use and kept for the process.
    endpoints.emplace_back(literal, target.port);
  } else {
    const std::string port = std::to_string(target.port);
    auto resolved = co_await resolver.async_resolve(target.host, port, nothrow(ec));
    if (deadline.fired()) co_return fail(std::make_error_code(std::errc::timed_out));
    if (ec) co_return fail(ec);
    for (const auto& entry : resolved) endpoints.push_back(entry.endpoint());
  }
  co_await asio::async_connect(socket, endpoints, nothrow(ec));
  if (deadline.fired()) co_return fail(std::make_error_code(std::errc::timed_out));
  if (ec) co_return fail(ec);
  socket.set_option(tcp::no_delay(true), ec);
  co_return std::move(socket);
}

}  // namespace dialback::agent
