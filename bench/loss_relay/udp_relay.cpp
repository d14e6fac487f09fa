#include "udp_relay.hpp"

#include <algorithm>
#include <iostream>

#include <boost/asio/post.hpp>

#include "udp_flow.hpp"

namespace dialback::loss_relay {

UdpRelay::UdpRelay(asio::io_context& io, const PathOptions& options, ForwardSpec spec,
                   std::uint64_t index)
    : io_(io),
      options_(options),
      spec_(std::move(spec)),
      index_(index),
      listener_(io),
      sweep_(io) {}

UdpRelay::~UdpRelay() {
  for (auto& [client, flow] : flows_) flow->close();
}

std::string UdpRelay::listen(const asio::ip::address& bind) {
  boost::system::error_code ec;
  udp::resolver resolver(io_);
  auto targets = resolver.resolve(spec_.target_host, std::to_string(spec_.target_port), ec);
  if (ec || targets.empty()) return "cannot resolve " + spec_.target_host + ": " + ec.message();
  target_ = targets.begin()->endpoint();
  const udp::endpoint endpoint(bind, spec_.listen_port);
  listener_.open(endpoint.protocol(), ec);
  if (!ec) listener_.bind(endpoint, ec);
  if (!ec) listener_.non_blocking(true, ec);
  if (ec) return "cannot bind UDP port " + std::to_string(spec_.listen_port) + ": " + ec.message();
  boost::system::error_code ignored;  // the kernel caps them; smaller buffers still work
  listener_.set_option(udp::socket::receive_buffer_size(kUdpSocketBuffer), ignored);
  listener_.set_option(udp::socket::send_buffer_size(kUdpSocketBuffer), ignored);
  const auto local = listener_.local_endpoint(ec);
  name_ = forward_name("udp", local.address().to_string() + ":" + std::to_string(local.port()),
                       spec_.target_host + ":" + std::to_string(spec_.target_port));
  wait_clients();
  schedule_sweep();
  return {};
}

void UdpRelay::wait_clients() {
  listener_.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // closed
    read_clients();
  });
}

void UdpRelay::read_clients() {
  for (int round = 0; round < kMostBatchesPerTurn; ++round) {
    const int received = receive_batch_.receive(listener_.native_handle());
    const auto now = Clock::now();
    for (int i = 0; i < received; ++i) {
      const auto client = receive_batch_.source(i);
      // Most batches come from one client: look the flow up once.
      if (batch_flows_.empty() || !batch_flows_.back()->is(client)) {
        auto flow = flow_for(client, now);
        if (!flow) {
          ++up_.flow_limit;
          continue;
        }
        batch_flows_.push_back(std::move(flow));
      }
      batch_flows_.back()->from_client(receive_batch_.datagram(i), now);
    }
    // Sent once per batch and flow (a flow that recurs in the batch is
    // pumped twice, which sends nothing more).
    for (const auto& flow : batch_flows_) flow->send_up();
    batch_flows_.clear();
    if (receive_batch_.drained()) {
      wait_clients();
      return;
    }
  }
  asio::post(io_, [this] { read_clients(); });
}

std::shared_ptr<UdpFlow> UdpRelay::flow_for(const udp::endpoint& client, Clock::time_point now) {
  if (auto it = flows_.find(client); it != flows_.end()) return it->second;
  if (flows_.size() >= options_.max_udp_flows) expire_idle(now);
  if (flows_.size() >= options_.max_udp_flows) return nullptr;
  auto flow = std::make_shared<UdpFlow>(*this, client, flows_total_++);
  if (flow->open(target_)) return nullptr;  // out of descriptors, most likely
  flows_.emplace(client, flow);
  return flow;
}

void UdpRelay::expire_idle(Clock::time_point now) {
  std::erase_if(flows_, [&](const auto& entry) {
    if (now - entry.second->last_active() < options_.udp_idle) return false;
    entry.second->close();
    return true;
  });
}

void UdpRelay::schedule_sweep() {
  // Expiry within a tenth of --udp-idle late, and no more than every 100 ms.
  sweep_.expires_after(std::max<Duration>(options_.udp_idle / 10, std::chrono::milliseconds(100)));
  sweep_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    expire_idle(Clock::now());
    schedule_sweep();
  });
}

std::size_t UdpRelay::rebind() {
  std::size_t rebound = 0;
  for (const auto& [client, flow] : flows_) {
    if (const auto ec = flow->rebind()) {
      std::cerr << "dialback-loss-relay: " << name_ << ": cannot rebind the flow of "
                << client.address().to_string() << ":" << client.port() << ": " << ec.message()
                << "\n";
      continue;
    }
    ++rebound;
  }
  rebinds_ += rebound;
  return rebound;
}

void UdpRelay::print_stats(std::FILE* out) const {
  print_udp(out, name_, Direction::up, up_, flows_.size(), flows_total_, rebinds_);
  print_udp(out, name_, Direction::down, down_, flows_.size(), flows_total_, rebinds_);
}

}  // namespace dialback::loss_relay
