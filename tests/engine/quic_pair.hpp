// An edge and an agent QuicEngine wired to each other in memory: datagrams
// cross a simulated link with a one-way delay and seeded loss, duplication
// and reordering, under a simulated clock that jumps to the next delivery
// or engine timer. Deterministic: the same seed gives the same run.
#pragma once

#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "tls/pki.hpp"
#include "transport/quic/quic_engine.hpp"

namespace dialback::quic::test {

using Clock = std::chrono::steady_clock;

struct LinkProfile {
  std::chrono::milliseconds delay{10};  // one way
  double loss = 0;                      // probability a datagram is dropped
  double duplicate = 0;                 // ... delivered twice
  double reorder = 0;                   // ... delayed by an extra 1-3 delays
  std::uint64_t seed = 1;
};

// Certificates for a pair, written to a temporary directory.
struct PairPki {
  std::filesystem::path dir;
  std::string ca, cert, key;
  PairPki() {
    static int made = 0;
    dir = std::filesystem::temp_directory_path() /
          ("dialback-quic-test-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
    std::filesystem::create_directories(dir);
    auto authority = make_ca("quic test CA");
    auto leaf = issue_certificate(*authority, {.name = "edge.test", .dns = {"edge.test"}});
    ca = write("ca.pem", authority->cert_pem);
    cert = write("edge.pem", leaf->cert_pem);
    key = write("edge.key", leaf->key_pem);
  }
  ~PairPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

// Everything one side's engine reported.
struct Side : QuicObserver {
  std::unique_ptr<QuicEngine> engine;
  bool handshake = false;
  std::string registration;
  bool registration_fin = false;
  std::vector<std::shared_ptr<H3StreamState>> requests;  // agent
  int goaways = 0;
  int closed_streams = 0;
  std::vector<std::string> cids;  // edge: live connection ids

  void on_handshake_completed() override { handshake = true; }
  void on_registration_data(std::string_view bytes, bool fin) override {
    registration.append(bytes);
    registration_fin = registration_fin || fin;
  }
  void on_request(std::shared_ptr<H3StreamState> stream) override { requests.push_back(stream); }
  void on_goaway() override { ++goaways; }
  void on_stream_closed() override { ++closed_streams; }
  void on_connection_id(const ngtcp2_cid& cid, bool added) override {
    std::string id(reinterpret_cast<const char*>(cid.data), cid.datalen);
    if (added) {
      cids.push_back(id);
    } else {
      std::erase(cids, id);
    }
  }
  void on_output_ready() override {}
};

class QuicPair {
 public:
  explicit QuicPair(LinkProfile link = {}, QuicEngineSettings settings = {})
      : link_(link), settings_(settings), random_(link.seed) {
    edge_credentials_ = std::move(
        *QuicTlsCredentials::server(pki_.cert, pki_.key, "", {std::string(kAlpnDialbackH3)}));
    agent_credentials_ =
        std::move(*QuicTlsCredentials::client(pki_.ca, "", "", std::string(kAlpnDialbackH3)));
    agent_path_.local = udp::endpoint(asio::ip::make_address("127.0.0.1"), 40000);
    agent_path_.remote = udp::endpoint(asio::ip::make_address("127.0.0.1"), 4433);
    nat_address_ = agent_path_.local;
    auto engine = QuicEngine::connect(
        settings_, agent, *agent_credentials_->client_session("edge.test"), agent_path_, now_);
    EXPECT_TRUE(engine.has_value());
    agent.engine = std::move(*engine);
  }

  Clock::time_point now() const { return now_; }
  LinkProfile& link() { return link_; }
  std::uint64_t delivered() const { return delivered_; }

  // Runs until `done` holds or nothing is left to do (no datagram in
  // flight, no timer due before `limit` of simulated time).
  template <class Done>
  bool run_until(Done done, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto end = now_ + limit;
    for (int round = 0; round < 2'000'000; ++round) {
      if (done()) return true;
      write_all();
      if (done()) return true;
      // The next event: a delivery or a timer.
      Clock::time_point next = Clock::time_point::max();
      if (!in_flight_.empty()) next = in_flight_.front().at;
      for (const auto* side : {&agent, &edge}) {
        if (side->engine && !side->engine->finished())
          next = std::min(next, side->engine->expiry());
      }
      if (next == Clock::time_point::max() || next > end) return done();
      now_ = std::max(now_, next);
      deliver_due();
      for (auto* side : {&agent, &edge}) {
        if (side->engine && !side->engine->finished() && side->engine->expiry() <= now_) {
          side->engine->handle_expiry(now_);
        }
      }
    }
    return done();
  }

  // Pretends the agent's NAT gave it a new public port: the edge sees its
  // datagrams come from there from now on (the agent's own address stays).
  void rebind_nat(std::uint16_t port) { nat_address_.port(port); }

  Side agent;
  Side edge;

 private:
  struct Datagram {
    Clock::time_point at;
    bool to_edge;
    UdpPath path;  // as the receiver sees it: local = its own address
    std::vector<std::uint8_t> bytes;
  };

  void write_all() {
    for (auto* side : {&agent, &edge}) {
      if (!side->engine) continue;
      std::vector<std::uint8_t> buffer(QuicEngine::kMaxDatagram);
      for (int i = 0; i < 100'000; ++i) {
        UdpPath path;
        const std::size_t n = side->engine->write_datagram(buffer, path, now_);
        if (n == 0) break;
        send(side == &agent, std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + n));
      }
    }
  }

  void send(bool to_edge, std::vector<std::uint8_t> bytes) {
    std::uniform_real_distribution<double> chance(0, 1);
    if (chance(random_) < link_.loss) return;
    Datagram datagram;
    datagram.to_edge = to_edge;
    // The edge sees the agent's address through its NAT.
    datagram.path = to_edge ? UdpPath{agent_path_.remote, nat_address_}
                            : UdpPath{agent_path_.local, agent_path_.remote};
    datagram.at = now_ + link_.delay;
    if (chance(random_) < link_.reorder) {
      datagram.at += link_.delay * std::uniform_int_distribution<int>(1, 3)(random_);
    }
    datagram.bytes = std::move(bytes);
    if (chance(random_) < link_.duplicate) enqueue(datagram);
    enqueue(std::move(datagram));
  }

  void enqueue(Datagram datagram) {
    auto it = std::upper_bound(in_flight_.begin(), in_flight_.end(), datagram.at,
                               [](Clock::time_point at, const Datagram& d) { return at < d.at; });
    in_flight_.insert(it, std::move(datagram));
  }

  void deliver_due() {
    while (!in_flight_.empty() && in_flight_.front().at <= now_) {
      Datagram datagram = std::move(in_flight_.front());
      in_flight_.pop_front();
      ++delivered_;
      Side& to = datagram.to_edge ? edge : agent;
      if (datagram.to_edge && !edge.engine) accept(datagram);
      if (to.engine && !to.engine->finished()) {
        (void)to.engine->receive(datagram.path, datagram.bytes, now_);
      }
    }
  }

  void accept(const Datagram& datagram) {
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, datagram.bytes.data(), datagram.bytes.size()) != 0) return;
    const std::vector<std::uint8_t> secret(32, 7);
    auto engine =
        QuicEngine::accept(quic::Side::edge, settings_, edge, *edge_credentials_->server_session(),
                           datagram.path, hd, nullptr, secret, now_);
    if (engine) edge.engine = std::move(*engine);
  }

  PairPki pki_;
  LinkProfile link_;
  QuicEngineSettings settings_;
  std::mt19937_64 random_;
  std::unique_ptr<QuicTlsCredentials> edge_credentials_;
  std::unique_ptr<QuicTlsCredentials> agent_credentials_;
  UdpPath agent_path_;
  udp::endpoint nat_address_;  // the agent's address as the edge sees it
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1));
  std::deque<Datagram> in_flight_;
  std::uint64_t delivered_ = 0;
};

}  // namespace dialback::quic::test
