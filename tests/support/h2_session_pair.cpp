#include "h2_session_pair.hpp"

#include <stdexcept>

#include "core/byte_stream.hpp"

namespace dialback::test {

using Clock = std::chrono::steady_clock;

H2SessionPair::H2SessionPair(asio::any_io_executor executor)
    : executor_(executor), runs_(std::make_shared<RunState>(executor)), incoming_ready_(executor) {}

H2SessionPair::~H2SessionPair() {
  // stop() should have run; closing here at least fails every stream.
  if (runs_->running > 0) {
    edge_->close(Error::session_closed);
    agent_->close(Error::session_closed);
  }
}

Task<std::unique_ptr<H2SessionPair>> H2SessionPair::connect(Options options) {
  auto executor = co_await asio::this_coro::executor;
  std::unique_ptr<H2SessionPair> pair(new H2SessionPair(executor));
  tcp::acceptor acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket edge_socket(executor);
  error_code ec;
  co_await edge_socket.async_connect(acceptor.local_endpoint(), nothrow(ec));
  if (ec) throw std::runtime_error("h2 pair connect: " + ec.message());
  tcp::socket agent_socket = co_await acceptor.async_accept(asio::use_awaitable);
  edge_socket.set_option(tcp::no_delay(true), ec);
  agent_socket.set_option(tcp::no_delay(true), ec);

  h2::H2Connection::Options edge_options;
  edge_options.role = h2::Role::client;
  edge_options.h2 = options.edge;
  h2::H2Connection::Options agent_options;
  agent_options.role = h2::Role::server;
  agent_options.h2 = options.agent;
  SessionIdentity edge_identity;
  edge_identity.session_id = "pair-edge";
  SessionIdentity agent_identity;
  agent_identity.session_id = "pair-agent";
  pair->edge_ = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<tcp::socket>>(std::move(edge_socket)), edge_options,
      edge_identity, make_null_logger("pair-edge"));
  pair->agent_ = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<tcp::socket>>(std::move(agent_socket)), agent_options,
      agent_identity, make_null_logger("pair-agent"));
  auto* raw = pair.get();
  pair->agent_->set_incoming_handler([raw](std::unique_ptr<IncomingStream> stream) {
    raw->incoming_.push_back(std::move(stream));
    raw->incoming_ready_.notify();
  });
  for (auto* connection : {pair->edge_.get(), pair->agent_.get()}) {
    ++pair->runs_->running;
    asio::co_spawn(executor, connection->run(),
                   [runs = pair->runs_](std::exception_ptr, std::error_code) {
                     --runs->running;
                     runs->ended.notify();
                   });
  }
  co_return pair;
}

Task<Result<H2Ends>> H2SessionPair::open(const RequestHead& head, bool end_stream,
                                         Clock::time_point deadline) {
  auto opened = edge_->start_stream(head, end_stream);
  if (!opened) co_return fail(opened.error());
  while (incoming_.empty()) {
    if (Clock::now() >= deadline) co_return fail(Error::timeout);
    co_await incoming_ready_.wait_until(deadline);
  }
  H2Ends ends{std::move(*opened), std::move(incoming_.front())};
  incoming_.pop_front();
  co_return ends;
}

Task<bool> H2SessionPair::stop(Clock::time_point deadline) {
  edge_->close(Error::session_closed);
  agent_->close(Error::session_closed);
  while (runs_->running > 0) {
    if (Clock::now() >= deadline) co_return false;
    co_await runs_->ended.wait_until(deadline);
  }
  incoming_.clear();
  co_return true;
}

}  // namespace dialback::test
