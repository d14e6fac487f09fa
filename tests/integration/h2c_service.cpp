#include "h2c_service.hpp"

#include <stdexcept>

#include "core/byte_stream.hpp"

namespace dialback::test {

H2cService::H2cService(asio::any_io_executor executor)
    : executor_(executor), listener_(executor, "h2c service", make_null_logger()) {}

H2cService::~H2cService() { stop(); }

tcp::endpoint H2cService::start() {
  auto bound = listener_.listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  if (!bound) throw std::runtime_error("h2c service listen: " + bound.error().message());
  endpoint_ = *bound;
  ++running_;
  asio::co_spawn(executor_,
                 listener_.accept_loop([this](tcp::socket socket) { return serve(std::move(socket)); }),
                 [this](std::exception_ptr) { --running_; });
  return endpoint_;
}

void H2cService::stop() {
  listener_.stop();
  for (auto* connection : connections_) connection->close(Error::cancelled);
}

Task<void> H2cService::serve(tcp::socket socket) {
  ++running_;
  h2::H2Connection::Options options;
  options.role = h2::Role::server;
  options.preface = h2::PrefaceMode::standard;
  h2::H2Connection connection(std::make_unique<SocketByteStream<tcp::socket>>(std::move(socket)),
                              options, SessionIdentity{}, make_null_logger());
  connection.set_incoming_handler([this](std::unique_ptr<IncomingStream> stream) {
    ++running_;
    asio::co_spawn(executor_, answer(std::move(stream)), [this](std::exception_ptr) { --running_; });
  });
  auto self = connections_.insert(connections_.end(), &connection);
  co_await connection.run();
  connections_.erase(self);
  --running_;
}

Task<void> H2cService::answer(std::unique_ptr<IncomingStream> stream) {
  ++requests_seen_;
  const RequestHead& request = stream->request();
  if (request.path == "/reset-after-head") {
    if (!stream->respond(ResponseHead{200, {{"x-served-by", "h2c"}}}, false)) co_return;
    auto written = co_await stream->write_body(std::string(1000, 'r'));
    if (!written) co_return;
    auto signal = co_await stream->read_body();
    stream->reset(Error::cancelled);
    co_return;
  }
  if (request.path == "/early-hints") {
    stream->respond_informational(ResponseHead{103, {{"link", "</app.css>; rel=preload"}}});
  }
  std::string body;
  for (;;) {
    auto chunk = co_await stream->read_body();
    if (!chunk || !chunk->has_value()) break;
    body += **chunk;
  }
  ResponseHead head;
  head.status = 200;
  head.headers = {{"x-served-by", "h2c"},
                  {"x-seen-authority", request.authority},
                  {"x-seen-te", std::string(find_header(request.headers, "te").value_or(""))}};
  if (!stream->respond(head, false)) co_return;
  auto written = co_await stream->write_body(body);
  if (!written) co_return;
  const auto seen = find_header(stream->trailers(), "x-request-trailer").value_or("");
  stream->end_body({{"x-trailer", "done"}, {"x-seen-trailer", std::string(seen)}});
}

}  // namespace dialback::test
