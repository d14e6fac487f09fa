// One --tcp forward: accepts on the listen port, connects each client to
// the target and relays it through a TcpConnection; at most
// --max-tcp-connections at once (more are accepted and closed at once).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "relay_options.hpp"
#include "relay_stats.hpp"

namespace dialback::loss_relay {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;

class TcpRelay {
 public:
  TcpRelay(asio::io_context& io, const PathOptions& options, ForwardSpec spec, std::uint64_t index);

  // Resolves the target and listens on bind:LISTEN_PORT; an error message, or "".
  std::string listen(const asio::ip::address& bind);
  const std::string& name() const { return name_; }
  void print_stats(std::FILE* out) const;

  // For its connections.
  const PathOptions& options() const { return options_; }
  std::uint64_t index() const { return index_; }
  TcpStats& stats(Direction direction) { return direction == Direction::up ? up_ : down_; }
  void connect_failed() { ++connect_failed_; }
  void connection_closed() { --open_; }

 private:
  void accept();
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);

  asio::io_context& io_;
  const PathOptions& options_;
  const ForwardSpec spec_;
  const std::uint64_t index_;
  std::string name_;
  tcp::acceptor acceptor_;
  tcp::resolver::results_type targets_;
  asio::steady_timer backoff_;
  TcpStats up_;
  TcpStats down_;
  std::size_t open_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t connect_failed_ = 0;
};

}  // namespace dialback::loss_relay
