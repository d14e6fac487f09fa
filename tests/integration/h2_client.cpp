#include "h2_client.hpp"

#include <stdexcept>

#include "core/byte_stream.hpp"
#include "tls/tls_context.hpp"

namespace dialback::test {

namespace {

using TlsSocket = asio::ssl::stream<tcp::socket>;

H2Result failed(std::error_code error) {
  H2Result result;
  result.error = error;
  return result;
}

}  // namespace

Task<std::unique_ptr<H2Client>> H2Client::connect(asio::any_io_executor executor,
                                                  tcp::endpoint endpoint, std::string ca_pem) {
  std::unique_ptr<H2Client> client(new H2Client());
  tcp::socket socket(executor);
  error_code ec;
  co_await socket.async_connect(endpoint, nothrow(ec));
  if (ec) throw std::runtime_error("h2 client connect: " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  std::unique_ptr<ByteStream> io;
  if (ca_pem.empty()) {
    io = std::make_unique<SocketByteStream<tcp::socket>>(std::move(socket));
  } else {
    auto context = make_client_context(ClientTlsPem{ca_pem, std::nullopt, std::nullopt},
                                       AlpnSet::rhttp_client);  // offers exactly "h2"
    if (!context) throw std::runtime_error("h2 client TLS: " + context.error().message());
    client->tls_ = std::make_unique<asio::ssl::context>(std::move(*context));
    TlsSocket tls(std::move(socket), *client->tls_);
    if (!prepare_client_stream(tls, "localhost")) throw std::runtime_error("h2 client SNI");
    co_await tls.async_handshake(asio::ssl::stream_base::client, nothrow(ec));
    if (ec) throw std::runtime_error("h2 client TLS handshake: " + ec.message());
    io = std::make_unique<SocketByteStream<TlsSocket>>(std::move(tls));
  }
  h2::H2Connection::Options options;
  options.role = h2::Role::client;
  options.preface = h2::PrefaceMode::standard;
  client->connection_ = std::make_unique<h2::H2Connection>(
      std::move(io), options, SessionIdentity{}, make_null_logger("h2-client"));
  client->run_ = std::make_shared<RunState>(executor);
  auto* connection = client->connection_.get();
  asio::co_spawn(executor, connection->run(),
                 [run = client->run_](std::exception_ptr, std::error_code) {
                   run->done = true;
                   run->ended.notify();
                 });
  co_return client;
}

H2Client::~H2Client() {
  if (connection_ && run_ && !run_->done) connection_->close(Error::cancelled);
}

Result<std::unique_ptr<TunnelStream>> H2Client::open(const RequestHead& head, bool end_stream) {
  return connection_->start_stream(head, end_stream);
}

Task<H2Result> H2Client::read_all(TunnelStream& stream) {
  H2Result result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto head = co_await stream.read_response(deadline);
  while (head && head->status < 200) {
    result.informational.push_back(head->status);
    head = co_await stream.read_response(deadline);
  }
  if (!head) {
    result.error = head.error();
    co_return result;
  }
  result.status = head->status;
  result.headers = std::move(head->headers);
  for (;;) {
    auto chunk = co_await stream.read_body();
    if (!chunk) {
      result.error = chunk.error();
      co_return result;
    }
    if (!chunk->has_value()) break;
    result.body += **chunk;
  }
  result.trailers = stream.trailers();
  co_return result;
}

Task<H2Result> H2Client::request(RequestHead head, std::string body, HeaderList trailers) {
  const bool end_stream = body.empty() && trailers.empty();
  auto stream = open(head, end_stream);
  if (!stream) co_return failed(stream.error());
  if (!end_stream) {
    constexpr std::size_t kChunk = 64u << 10;
    for (std::size_t offset = 0; offset < body.size(); offset += kChunk) {
      auto written = co_await (*stream)->write_body(
          std::string_view(body).substr(offset, kChunk));
      if (!written) co_return failed(written.error());
    }
    auto ended = (*stream)->end_body(std::move(trailers));
    if (!ended) co_return failed(ended.error());
  }
  co_return co_await read_all(**stream);
}

Task<void> H2Client::close() {
  if (!run_->done) connection_->close(Error::cancelled);
  while (!run_->done) co_await run_->ended.wait();
}

RequestHead h2_request(std::string method, std::string path, std::string authority,
                       HeaderList headers) {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "https";
  head.authority = std::move(authority);
  head.path = std::move(path);
  head.headers = std::move(headers);
  return head;
}

}  // namespace dialback::test
