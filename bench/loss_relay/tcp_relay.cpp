#include "tcp_relay.hpp"

#include <memory>

#include "tcp_connection.hpp"

namespace dialback::loss_relay {
namespace {

// After an accept error (out of descriptors, most likely): wait this long
// before accepting again rather than spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

}  // namespace

TcpRelay::TcpRelay(asio::io_context& io, const PathOptions& options, ForwardSpec spec,
                   std::uint64_t index)
    : io_(io),
      options_(options),
      spec_(std::move(spec)),
      index_(index),
      acceptor_(io),
      backoff_(io) {}

std::string TcpRelay::listen(const asio::ip::address& bind) {
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  targets_ = resolver.resolve(spec_.target_host, std::to_string(spec_.target_port), ec);
  if (ec) return "cannot resolve " + spec_.target_host + ": " + ec.message();
  const tcp::endpoint endpoint(bind, spec_.listen_port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return "cannot listen on TCP port " + std::to_string(spec_.listen_port) + ": " + ec.message();
  }
  const auto local = acceptor_.local_endpoint(ec);
  name_ = forward_name("tcp", local.address().to_string() + ":" + std::to_string(local.port()),
                       spec_.target_host + ":" + std::to_string(spec_.target_port));
  accept();
  return {};
}

void TcpRelay::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void TcpRelay::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted) return;
  if (ec) {
    backoff_.expires_after(kAcceptBackoff);
    backoff_.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec) accept();
    });
    return;
  }
  if (open_ >= options_.max_tcp_connections) {
    ++refused_;  // closed by the socket's destructor
  } else {
    ++open_;
    auto connection = std::make_shared<TcpConnection>(*this, std::move(socket), accepted_++);
    connection->start(targets_);
  }
  accept();
}

void TcpRelay::print_stats(std::FILE* out) const {
  print_tcp(out, name_, Direction::up, up_, open_, accepted_, refused_, connect_failed_);
  print_tcp(out, name_, Direction::down, down_, open_, accepted_, refused_, connect_failed_);
}

}  // namespace dialback::loss_relay
