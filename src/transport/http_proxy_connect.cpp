#include "transport/http_proxy_connect.hpp"

#include "auth/authorization_header.hpp"

namespace dialback {
namespace {

constexpr std::size_t kMaxResponseHead = 16 * 1024;

std::string authority(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

}  // namespace

Task<tl::expected<void, std::string>> http_proxy_connect(tcp::socket& socket, const ProxyUrl& proxy,
                                                         std::string_view host,
                                                         std::uint16_t port) {
  const std::string target = authority(host, port);
  const std::string name = "proxy " + proxy.display();
  http::request<http::empty_body> request(http::verb::connect, target, 11);
  request.set(http::field::host, target);
  request.set(http::field::user_agent, "dialback-agent");
  if (!proxy.user.empty()) {
    request.set(http::field::proxy_authorization, basic_authorization(proxy.user, proxy.password));
  }
  error_code ec;
  co_await http::async_write(socket, request, nothrow(ec));
  if (ec) co_return tl::unexpected(name + ": sending CONNECT failed: " + ec.message());

  beast::flat_buffer buffer(kMaxResponseHead);
  http::response_parser<http::empty_body> parser;
  parser.header_limit(kMaxResponseHead);
  parser.skip(true);  // a response to CONNECT has no body (RFC 9110 §9.3.6)
  co_await http::async_read_header(socket, buffer, parser, nothrow(ec));
  if (ec == http::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset) {
    co_return tl::unexpected(name + " closed the connection instead of answering CONNECT " +
                             target);
  }
  if (ec)
    co_return tl::unexpected(name + ": bad answer to CONNECT " + target + ": " + ec.message());
  const auto& response = parser.get();
  const unsigned status = response.result_int();
  const std::string answer = std::to_string(status) + " " + std::string(response.reason());
  if (status == 407 || status == 401) {  // tinyproxy answers 401 to wrong credentials
    co_return tl::unexpected(
        name + (proxy.user.empty()
                    ? " requires credentials (" + answer +
                          "): give them in the proxy URL, http://user:password@host:port"
                    : " refused the credentials of user " + proxy.user + " (" + answer + ")"));
  }
  if (status < 200 || status > 299) {
    co_return tl::unexpected(name + " refused CONNECT " + target + ": " + answer);
  }
  if (buffer.size() != 0) {
    co_return tl::unexpected(name + " sent data after its answer to CONNECT " + target +
                             ", before the edge could speak");
  }
  co_return tl::expected<void, std::string>{};
}

}  // namespace dialback
