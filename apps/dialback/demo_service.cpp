#include "demo_service.hpp"

namespace dialback::cli {
namespace {

constexpr std::string_view kPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>dialback demo</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>It works.</h1>
<p>This page comes from a local service on a private port. Your request went to the
dialback <b>edge</b>, through a reversed HTTP/2 tunnel that the <b>agent</b> dialed out,
to this service, and back.</p>
<p>Try <a href="/echo">/echo</a> to see the request as the service received it,
with the <code>X-Forwarded-*</code>, <code>Forwarded</code> and <code>X-Request-Id</code>
headers the edge added.</p>
</body></html>
)";

http::response<http::string_body> answer(const http::request<http::string_body>& request) {
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.keep_alive(request.keep_alive());
  if (request.target() == "/" || request.target() == "/index.html") {
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.body() = std::string(kPage);
  } else if (request.target().starts_with("/echo")) {
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    std::string& body = response.body();
    body += std::string(request.method_string()) + " " + std::string(request.target()) + "\n";
    for (const auto& field : request) {
      body += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
    }
    body += "\n" + request.body();
  } else {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "not found\n";
  }
  response.prepare_payload();
  return response;
}

}  // namespace

DemoService::DemoService(asio::any_io_executor executor)
    : executor_(executor), acceptor_(executor) {}

Result<tcp::endpoint> DemoService::start() {
  error_code ec;
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  asio::co_spawn(executor_, accept_loop(), asio::detached);
  return acceptor_.local_endpoint();
}

void DemoService::stop() {
  error_code ec;
  acceptor_.close(ec);
}

Task<void> DemoService::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(nothrow(ec));
    if (ec) co_return;
    asio::co_spawn(executor_, serve(std::move(socket)), asio::detached);
  }
}

Task<void> DemoService::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1u << 20);
    error_code ec;
    stream.expires_after(std::chrono::seconds(60));
    co_await http::async_read(stream, buffer, parser, nothrow(ec));
    if (ec) break;
    auto response = answer(parser.get());
    co_await http::async_write(stream, response, nothrow(ec));
    if (ec || !response.keep_alive()) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace dialback::cli
