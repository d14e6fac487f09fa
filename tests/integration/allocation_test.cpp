// Ports and host names on demand (docs/protocol.md §14): an agent asks at
// registration, the edge binds a port of the tunnel's range (or routes a
// host name) to that agent only, keeps it across reconnects while the
// lease lasts, refuses with 429 when full or evicts an idle agent.
#include <filesystem>
#include <fstream>
#include <regex>

#include "tcp_service_fixture.hpp"

namespace dialback::test {
namespace {

using Kind = AllocationRequest::Kind;

// Answers `name` to every connection and closes.
TcpService::Serve answer(std::string name) {
  return [name](tcp::socket socket) -> Task<void> { co_await write_all(socket, name); };
}

class AllocationTest : public TcpServiceFixture {
 protected:
  // Tunnel web allocates `ports` ports from a free range (and host names
  // under *.dev.test), with `adjust` for the rest.
  edge::Edge& start_allocating_edge(std::uint16_t ports,
                                    std::function<void(AllocateConfig&)> adjust = {}) {
    first_port_ = free_port_range(executor_, ports);
    EdgeOptions options;
    options.configure = [this, ports, adjust](EdgeConfig& config) {
      AllocateConfig allocate;
      allocate.first_port = first_port_;
      allocate.last_port = static_cast<std::uint16_t>(first_port_ + ports - 1);
      allocate.hosts = "*.dev.test";
      allocate.bind = "127.0.0.1";
      if (adjust) adjust(allocate);
      config.tunnels[0].allocate = allocate;
    };
    return start_edge(options);
  }

  AgentOptions asking(std::uint16_t target, AllocationRequest request, std::string node) {
    AgentOptions options;
    options.tcp = AgentTcpTarget{ListenAddress{"127.0.0.1", target}, ProxyProtocol::none};
    options.allocation = std::move(request);
    options.node = std::move(node);
    return options;
  }

  // The port the agent's log says the edge granted to `node`'s session.
  std::optional<std::uint16_t> granted_port(const std::string& node) const {
    const std::regex granted("port 127\\.0\\.0\\.1:([0-9]+) leased to node " + node + "$");
    std::optional<std::uint16_t> port;
    for (const std::string& line : logs_->lines()) {
      std::smatch match;
      if (std::regex_search(line, match, granted)) port = std::stoi(match[1]);
    }
    return port;
  }

  ReadAll read_from(std::uint16_t port) {
    tcp::socket client(executor_);
    const auto ec = run(connect(client, {asio::ip::address_v4::loopback(), port}));
    if (ec) return ReadAll{{}, ec};
    return run(read_all(client), 10s);
  }

  std::uint16_t first_port_ = 0;
};

const AllocationRequest kAnyPort{Kind::any, 0, Kind::none, {}};

TEST_F(AllocationTest, EachAgentGetsAPortOfItsOwnThatReachesOnlyIt) {
  auto& a = add_service(answer("service a"));
  auto& b = add_service(answer("service b"));
  start_allocating_edge(4);
  start_agent(asking(a.port(), kAnyPort, "node-a"));
  AgentOptions over_poll = asking(b.port(), kAnyPort, "node-b");
  over_poll.transport = AgentTransport::poll;  // its registration carries the ask too
  start_agent(over_poll);
  ASSERT_TRUE(wait_ready(2));
  const auto port_a = granted_port("node-a");
  const auto port_b = granted_port("node-b");
  ASSERT_TRUE(port_a && port_b);
  EXPECT_NE(*port_a, *port_b);
  EXPECT_GE(*port_a, first_port_);
  EXPECT_LT(*port_a, first_port_ + 4);
  for (int i = 0; i < 4; ++i) {  // the other agent's session is never picked
    EXPECT_EQ(read_from(*port_a).data, "service a");
    EXPECT_EQ(read_from(*port_b).data, "service b");
  }
  // The agent logs what it got: the one line a developer needs.
  EXPECT_TRUE(logs_->contains("granted tunnel web: tcp://127.0.0.1:" + std::to_string(*port_a)));
}

TEST_F(AllocationTest, APreferredPortIsHonouredAndKeptAcrossAReconnect) {
  auto& service = add_service(answer("mine"));
  start_allocating_edge(3);
  const auto wanted = static_cast<std::uint16_t>(first_port_ + 2);
  auto& agent =
      start_agent(asking(service.port(), {Kind::preferred, wanted, Kind::none, {}}, "laptop"));
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(granted_port("laptop"), wanted);
  EXPECT_EQ(read_from(wanted).data, "mine");

  // The agent goes away and comes back (same node) within the lease, asking
  // for any port: it gets its port back.
  destroy_agent(agent);
  ASSERT_TRUE(run_until([&] { return edge_->session_count("web") == 0; }));
  start_agent(asking(service.port(), kAnyPort, "laptop"));
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(read_from(wanted).data, "mine");
  EXPECT_EQ(logs_->count("leased to node laptop"), 1u) << "rebound instead of kept";
}

TEST_F(AllocationTest, AnEndedLeaseClosesItsPort) {
  auto& service = add_service(answer("short"));
  start_allocating_edge(1, [](AllocateConfig& allocate) { allocate.lease = 200ms; });
  auto& agent = start_agent(asking(service.port(), kAnyPort, "brief"));
  ASSERT_TRUE(wait_ready(1));
  ASSERT_EQ(read_from(first_port_).data, "short");
  destroy_agent(agent);
  ASSERT_TRUE(run_until([&] { return logs_->contains("lease of node brief ended"); }, 5s));
  EXPECT_TRUE(
      run_until([&] { return read_from(first_port_).ec == asio::error::connection_refused; }));
}

TEST_F(AllocationTest, WhenTheRangeIsFullTheAgentIsRefusedWith429) {
  auto& service = add_service(answer("x"));
  start_allocating_edge(1);
  start_agent(asking(service.port(), kAnyPort, "first"));
  ASSERT_TRUE(wait_ready(1));
  start_agent(asking(service.port(), kAnyPort, "second"));
  EXPECT_TRUE(run_until([&] { return logs_->contains("429 allocation_full"); }));
  EXPECT_TRUE(logs_->contains("no free port in " + std::to_string(first_port_) + "-" +
                              std::to_string(first_port_)));
  EXPECT_EQ(edge_->session_count("web"), 1u);
}

TEST_F(AllocationTest, WithEvictIdleTheIdleAgentMakesRoomAndIsToldWhy) {
  auto& old_service = add_service(answer("old"));
  auto& new_service = add_service(answer("new"));
  start_allocating_edge(1, [](AllocateConfig& allocate) {
    allocate.evict_idle = true;
    allocate.idle_after = 300ms;
  });
  start_agent(asking(old_service.port(), kAnyPort, "old"));
  ASSERT_TRUE(wait_ready(1));
  ASSERT_EQ(read_from(first_port_).data, "old");
  // Idle for longer than idle_after: the next agent takes the port.
  const auto idle_since = Clock::now();
  run_until([&] { return Clock::now() - idle_since > 400ms; }, 2s);
  start_agent(asking(new_service.port(), kAnyPort, "new"));
  ASSERT_TRUE(run_until([&] { return logs_->contains("node old evicted"); }));
  EXPECT_TRUE(run_until([&] { return read_from(first_port_).data == "new"; }));
  // The evicted agent tries again and is told why.
  EXPECT_TRUE(run_until(
      [&] { return logs_->contains("given to another agent after it had been idle for"); }, 10s));
}

TEST_F(AllocationTest, AHostNameRoutesHttpToTheAgentThatAskedForIt) {
  start_allocating_edge(1);
  AgentOptions options;
  options.node = "dev-1";
  options.transport = AgentTransport::h3;  // the QUIC registration stream carries the ask
  options.allocation = {Kind::none, 0, Kind::preferred, "myname"};
  start_agent(options);
  ASSERT_TRUE(wait_ready(1));
  EXPECT_TRUE(
      run_until([&] { return logs_->contains("granted tunnel web: http://myname.dev.test"); }));
  const HttpResult response = run(fetch_get(public_endpoint(), "/hello", "myname.dev.test"));
  EXPECT_EQ(response.status(), 200) << response.response.body();
  EXPECT_EQ(run(fetch_get(public_endpoint(), "/hello", "other.dev.test")).status(), 404);
}

// A token of allocate.tokens opens the agent's own lease, never the
// tunnel's configured host; without an ask it opens nothing.
TEST_F(AllocationTest, AnAllocationTokenServesOnlyWhatItLeased) {
  start_allocating_edge(1, [](AllocateConfig& allocate) { allocate.tokens = {"scoped-token-42"}; });
  AgentOptions scoped;
  scoped.node = "guest";
  scoped.token = "scoped-token-42";
  scoped.allocation = {Kind::none, 0, Kind::preferred, "guest"};
  start_agent(scoped);
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(run(fetch_get(public_endpoint(), "/hello", "guest.dev.test")).status(), 200);
  EXPECT_EQ(run(fetch_get(public_endpoint(), "/hello", "app.test")).status(), 503)
      << "the tunnel's own host reached an agent with a scoped token";

  AgentOptions not_asking;
  not_asking.node = "greedy";
  not_asking.token = "scoped-token-42";
  start_agent(not_asking);
  EXPECT_TRUE(run_until([&] { return !fatal_log_.empty(); }));
  ASSERT_FALSE(fatal_log_.empty());
  EXPECT_NE(fatal_log_[0].find("403"), std::string::npos) << fatal_log_[0];
  EXPECT_TRUE(logs_->contains("only opens ports and host names on demand"));
  EXPECT_EQ(edge_->session_count("web"), 1u);
}

std::size_t open_fds() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

std::size_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6));
  }
  return 0;
}

// 1000 leases granted (each binding its port) and ended (each closing it):
// descriptors back where they were, memory about so (not under ASan).
TEST_F(AllocationTest, AThousandLeasesLeaveNoDescriptorBehind) {
  start_allocating_edge(10, [](AllocateConfig& allocate) { allocate.lease = 1ms; });
  edge::Allocations& allocations = *edge_->allocations();
  const std::size_t ports_before = edge_->tcp_port_count();
  // One warm-up round, so that first-use allocations are not counted.
  auto round = [&](int first) {
    for (int i = first; i < first + 10; ++i) {
      auto granted = allocations.acquire(0, "cycle-" + std::to_string(i), kAnyPort);
      ASSERT_TRUE(granted) << granted.error().message;
    }
    ASSERT_EQ(edge_->tcp_port_count(), ports_before + 10);
    ASSERT_TRUE(run_until(
        [&] { return allocations.lease_count() == 0 && edge_->tcp_port_count() == ports_before; }));
  };
  round(0);
  const std::size_t fds = open_fds();
  const std::size_t rss = rss_kib();
  for (int cycle = 10; cycle < 1000; cycle += 10) round(cycle);
  EXPECT_EQ(open_fds(), fds);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.
  (void)rss;
#else
  EXPECT_LT(rss_kib(), rss + 4096) << "RSS grew by more than 4 MiB over 1000 leases";
#endif
}

TEST_F(AllocationTest, ATunnelWithoutAllocateRefusesTheAskWith400) {
  start_edge();
  start_agent(asking(1, kAnyPort, "asker"));
  EXPECT_TRUE(run_until([&] { return !fatal_log_.empty(); }));
  ASSERT_FALSE(fatal_log_.empty());
  EXPECT_NE(fatal_log_[0].find("400"), std::string::npos) << fatal_log_[0];
  EXPECT_TRUE(logs_->contains("does not allocate ports or host names"));
}

}  // namespace
}  // namespace dialback::test
