// H2Client: an HTTP/2 client playing the public user of the edge, over h2c
// (prior knowledge) or TLS with ALPN h2. It is nghttp2 in the client role
// (the project's H2Connection with the standard preface), the same library
// curl and nghttpx use. One object is one connection; requests may overlap.
#pragma once

#include <memory>
#include <string>

#include "core/asio.hpp"
#include "core/async_event.hpp"
#include "transport/h2/h2_connection.hpp"

namespace dialback::test {

struct H2Result {
  std::error_code error;  // set when the stream failed (reset, connection lost)
  std::vector<int> informational;  // 1xx statuses before the final one
  int status = 0;
  HeaderList headers;
  std::string body;
  HeaderList trailers;

  std::string header(std::string_view name) const {
    auto value = find_header(headers, name);
    return value ? std::string(*value) : std::string();
  }
};

class H2Client {
 public:
  // Connects to `endpoint`; with `ca_pem` over TLS (ALPN h2, server name
  // localhost), else h2c. Throws on failure.
  static Task<std::unique_ptr<H2Client>> connect(asio::any_io_executor executor,
                                                 tcp::endpoint endpoint,
                                                 std::string ca_pem = {});
  ~H2Client();

  // One exchange: `body` is sent (then `trailers`), the whole response read.
  Task<H2Result> request(RequestHead head, std::string body = {}, HeaderList trailers = {});
  // Opens a stream and leaves it to the caller (streaming, resets).
  Result<std::unique_ptr<TunnelStream>> open(const RequestHead& head, bool end_stream);
  // Reads a whole response from a stream opened with open().
  static Task<H2Result> read_all(TunnelStream& stream);

  h2::H2Connection& connection() { return *connection_; }
  // Closes the connection and waits until it has ended.
  Task<void> close();

 private:
  H2Client() = default;
  struct RunState {
    explicit RunState(asio::any_io_executor executor) : ended(std::move(executor)) {}
    bool done = false;
    AsyncEvent ended;
  };
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<h2::H2Connection> connection_;
  std::shared_ptr<RunState> run_;
};

// A GET (or other method) for host app.test.
RequestHead h2_request(std::string method, std::string path, std::string authority = "app.test",
                       HeaderList headers = {});

}  // namespace dialback::test
