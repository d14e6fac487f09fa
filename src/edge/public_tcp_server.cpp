#include "edge/public_tcp_server.hpp"

#include <algorithm>

#include "edge/idle_timeout_stream.hpp"
#include "tunnel/raw_tcp_head.hpp"
#include "tunnel/stream_relay.hpp"

namespace dialback::edge {

PublicTcpServer::PublicTcpServer(asio::any_io_executor executor, RequestForwarder& forwarder,
                                 ConnectionSlots& slots, Logger logger)
    : executor_(std::move(executor)),
      forwarder_(forwarder),
      slots_(slots),
      logger_(std::move(logger)),
      changed_(executor_),
      loops_(executor_, logger_, "raw TCP accept loops") {}

Result<tcp::endpoint> PublicTcpServer::open_port(std::size_t tunnel, const tcp::endpoint& endpoint,
                                                 std::chrono::milliseconds idle_timeout,
                                                 std::string node) {
  auto listener = std::make_unique<Listener>(
      executor_, "tunnel " + forwarder_.tunnels()[tunnel].name + " tcp", logger_);
  auto bound = listener->listen(endpoint);
  if (!bound) return bound;
  ports_.push_back(std::make_unique<Port>(
      Port{tunnel, *bound, idle_timeout, std::move(node), std::move(listener)}));
  if (running_) start_accepting(*ports_.back());
  return bound;
}

void PublicTcpServer::start_accepting(Port& port) {
  port.accepting = true;
  loops_.spawn(port.listener->accept_loop(
                   [this, &port](tcp::socket socket) { return serve(port, std::move(socket)); }),
               [this, &port] {
                 port.accepting = false;
                 changed_.notify();
               });
}

PublicTcpServer::Port* PublicTcpServer::find_port(const tcp::endpoint& endpoint) const {
  const auto it = std::find_if(ports_.begin(), ports_.end(),
                               [&](const auto& port) { return port->endpoint == endpoint; });
  return it == ports_.end() ? nullptr : it->get();
}

void PublicTcpServer::close_connections(const Port& port) {
  error_code ignored;
  for (const Connection& connection : connections_) {
    if (connection.port == &port) connection.socket->close(ignored);
  }
}

Task<void> PublicTcpServer::close_port(tcp::endpoint endpoint) {
  Port* found = find_port(endpoint);
  if (found == nullptr) co_return;
  Port& port = *found;
  ++closing_;
  port.listener->stop();
  close_connections(port);
  while (port.accepting) co_await changed_.wait();
  co_await port.listener->join();  // every connection's serve() returned
  ports_.erase(std::find_if(ports_.begin(), ports_.end(),
                            [&](const auto& entry) { return entry.get() == &port; }));
  --closing_;
  changed_.notify();
}

void PublicTcpServer::repin_port(const tcp::endpoint& endpoint, std::string node) {
  Port* port = find_port(endpoint);
  if (port == nullptr) return;
  port->node = std::move(node);
  close_connections(*port);  // the previous node's
}

void PublicTcpServer::start() {
  running_ = true;
  for (const auto& port : ports_) {
    if (!port->accepting) start_accepting(*port);
  }
}

void PublicTcpServer::stop() {
  running_ = false;
  for (const auto& port : ports_) port->listener->stop();
}

void PublicTcpServer::close_all() {
  error_code ignored;
  for (const Connection& connection : connections_) connection.socket->close(ignored);
}

Task<void> PublicTcpServer::wait_idle() {
  // A port being closed leaves ports_ when it is done: not while it is walked below.
  while (!connections_.empty() || closing_ > 0) co_await changed_.wait();
  co_await loops_.join();
  // A connection accepted just before stop() starts its serve() later.
  for (const auto& port : ports_) co_await port->listener->join();
}

Task<void> PublicTcpServer::serve(const Port& port, tcp::socket socket) {
  error_code ec;
  const tcp::endpoint client = socket.remote_endpoint(ec);
  if (ec) co_return;  // gone before it was served
  socket.set_option(tcp::no_delay(true), ec);
  ++forwarder_.counters().tcp_connections;
  const PublicPeer peer = forwarder_.peer(client.address().to_string());
  AccessEntry entry{forwarder_.next_request_id(), endpoint_text(client), "CONNECT",
                    endpoint_text(port.endpoint), ""};
  if (!slots_.take(peer.source)) {
    ++forwarder_.counters().requests_rate_limited;
    forwarder_.log_rejected(entry.request_id, entry.client_ip, 429,
                            "public.limits.connections_per_ip");
    co_return;
  }
  const auto self = connections_.insert(connections_.end(), Connection{&port, &socket});
  co_await relay(port, socket, client, peer, entry);
  socket.close(ec);
  connections_.erase(self);
  changed_.notify();
  slots_.release(peer.source);
}

Task<void> PublicTcpServer::relay(const Port& port, tcp::socket& socket,
                                  const tcp::endpoint& client, const PublicPeer& peer,
                                  const AccessEntry& entry) {
  RequestHead head = raw_tcp_request(client, port.endpoint, entry.request_id);
  auto opened = co_await forwarder_.open_in(port.tunnel, head, false, peer, port.node);
  if (!opened) {
    forwarder_.log(entry, static_cast<int>(opened.error().status), 0, opened.error().via);
    co_return;
  }
  // No byte either way for tcp_idle_timeout: the stream is reset and the
  // connection closed (both by the relay, which sees the reset).
  IdleTimeoutStream stream(std::move(opened->stream), executor_, port.idle_timeout,
                           port.idle_timeout, [](bool) {});
  const auto deadline =
      std::chrono::steady_clock::now() + forwarder_.config().public_.request_timeout;
  auto response = co_await stream.read_response(deadline);
  if (!response) {
    ++forwarder_.counters().requests_failed;
    forwarder_.log(entry, response.error() == Error::timeout ? 504 : 502, 0,
                   opened->via + " error=" + response.error().message());
    co_return;
  }
  if (response->status / 100 != 2) {
    // The agent refused (no tcp target, or the target refused the connection).
    ++forwarder_.counters().requests_failed;
    forwarder_.log(entry, response->status, 0, opened->via + " refused-by-agent");
    co_return;
  }
  const RelayResult relayed = co_await relay_bytes(socket, stream, {});
  std::string outcome = opened->via + " up=" + std::to_string(relayed.to_stream) +
                        " down=" + std::to_string(relayed.to_socket);
  if (relayed.error) outcome += " ended=" + relayed.error.message();
  forwarder_.log(entry, response->status, relayed.to_stream + relayed.to_socket, outcome);
}

}  // namespace dialback::edge
