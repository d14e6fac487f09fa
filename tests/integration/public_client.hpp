// PublicClient: an HTTP/1.1 client (Beast) playing the public user of the
// edge. One object is one keep-alive connection.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/asio.hpp"

namespace dialback::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  error_code ec;  // transport error; response is meaningless when set
  http::response<http::string_body> response;
  std::chrono::milliseconds elapsed{0};

  int status() const { return static_cast<int>(response.result_int()); }
  std::string header(std::string_view name) const { return std::string(response[name]); }
};

class PublicClient {
 public:
  explicit PublicClient(asio::any_io_executor executor,
                        std::chrono::milliseconds io_timeout = std::chrono::seconds(10));

  Task<error_code> connect(tcp::endpoint endpoint);

  // Sends `request` (payload prepared here unless it is chunked or already
  // has a Content-Length) and reads the response; HEAD responses are read
  // without a body.
  Task<HttpResult> request(http::request<http::string_body> request);
  // Sends `bytes` as they are and reads one response.
  Task<HttpResult> raw(std::string bytes, bool head_request = false);
  // Reads the next response on the connection (after a 1xx, a pipelined one).
  Task<HttpResult> read_next(bool head_request = false) {
    return read_response(head_request, std::chrono::steady_clock::now());
  }

  // True while the server has not closed the connection (no EOF pending).
  bool server_kept_open();
  void close();

 private:
  Task<HttpResult> read_response(bool head_request, std::chrono::steady_clock::time_point started);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::chrono::milliseconds io_timeout_;
};

// A request for the edge's public listener.
http::request<http::string_body> make_request(http::verb method, std::string target,
                                              std::string host = "app.test",
                                              std::string body = {}, Headers headers = {});

// One request on a fresh connection.
Task<HttpResult> fetch(tcp::endpoint edge, http::request<http::string_body> request);
Task<HttpResult> fetch_get(tcp::endpoint edge, std::string target, std::string host = "app.test");

}  // namespace dialback::test
