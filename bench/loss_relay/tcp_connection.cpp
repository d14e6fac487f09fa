#include "tcp_connection.hpp"

#include <boost/asio/connect.hpp>

#include "tcp_relay.hpp"

namespace dialback::loss_relay {
namespace {

SegmentPlanner planner(TcpRelay& relay, std::uint64_t index, Direction direction) {
  const StreamId stream{Protocol::tcp, relay.index(), index, direction};
  return SegmentPlanner(relay.options(), Impairment(relay.options(), stream),
                        relay.stats(direction));
}

}  // namespace

TcpConnection::TcpConnection(TcpRelay& relay, tcp::socket client, std::uint64_t index)
    : relay_(relay),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      up_(*this, client_, upstream_, planner(relay, index, Direction::up),
          relay.stats(Direction::up), relay.options().queue_bytes),
      down_(*this, upstream_, client_, planner(relay, index, Direction::down),
            relay.stats(Direction::down), relay.options().queue_bytes) {}

void TcpConnection::start(const tcp::resolver::results_type& targets) {
  boost::asio::async_connect(
      upstream_, targets, [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
        self->on_connected(ec);
      });
}

void TcpConnection::on_connected(const error_code& ec) {
  if (closed_) return;
  if (ec) {
    relay_.connect_failed();
    close();
    return;
  }
  // The relay's own writes must not wait for Nagle: the delay is --delay's.
  error_code ignored;
  client_.set_option(tcp::no_delay(true), ignored);
  upstream_.set_option(tcp::no_delay(true), ignored);
  up_.start();
  down_.start();
}

void TcpConnection::direction_finished() {
  if (up_.finished() && down_.finished()) close();
}

void TcpConnection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
  up_.stop();
  down_.stop();
  relay_.connection_closed();
}

}  // namespace dialback::loss_relay
