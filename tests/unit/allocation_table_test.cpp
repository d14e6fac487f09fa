// AllocationTable (edge/allocation_table.hpp): ports and host names leased
// to agents on demand, with a fixed random seed and a hand-driven clock.
#include <gtest/gtest.h>

#include <set>

#include "edge/allocation_table.hpp"

namespace dialback::edge {
namespace {

using namespace std::chrono_literals;
using Kind = AllocationRequest::Kind;
using Clock = AllocationTable::Clock;

const Clock::time_point t0 = Clock::time_point{} + 1h;

AllocationPolicy ports(std::uint16_t first, std::uint16_t last) {
  AllocationPolicy policy;
  policy.first_port = first;
  policy.last_port = last;
  return policy;
}

AllocationRequest any_port() { return {Kind::any, 0, Kind::none, {}}; }
AllocationRequest port(std::uint16_t wanted) { return {Kind::preferred, wanted, Kind::none, {}}; }

TEST(AllocationTable, AutoPortsAreDistinctRandomAndInRangeUntilFull) {
  AllocationTable table(ports(9000, 9009), 42);
  std::vector<std::uint16_t> granted;
  for (int i = 0; i < 10; ++i) {
    auto grant = table.acquire("node-" + std::to_string(i), any_port(), t0);
    ASSERT_TRUE(grant) << grant.error().message;
    EXPECT_GE(grant->port, 9000);
    EXPECT_LE(grant->port, 9009);
    granted.push_back(grant->port);
  }
  EXPECT_EQ(std::set<std::uint16_t>(granted.begin(), granted.end()).size(), 10u);
  EXPECT_FALSE(std::is_sorted(granted.begin(), granted.end())) << "handed out in order";
  auto full = table.acquire("node-10", any_port(), t0);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().status, 429);
  EXPECT_EQ(full.error().message, "no free port in 9000-9009");
}

TEST(AllocationTable, APreferredPortIsHonouredWhenFreeAndReplacedWhenTaken) {
  AllocationTable table(ports(9000, 9099), 1);
  EXPECT_EQ(table.acquire("a", port(9005), t0)->port, 9005);
  auto second = table.acquire("b", port(9005), t0);
  ASSERT_TRUE(second);
  EXPECT_NE(second->port, 9005);
  EXPECT_EQ(table.port_owner(9005), "a");
  auto outside = table.acquire("c", port(8999), t0);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().status, 400);
  EXPECT_NE(outside.error().message.find("outside the tunnel's range 9000-9099"), std::string::npos);
}

TEST(AllocationTable, AReconnectingAgentGetsItsPortBackWhileTheLeaseLasts) {
  AllocationTable table(ports(9000, 9099), 7);
  const std::uint16_t first = table.acquire("laptop", any_port(), t0)->port;
  table.session_started("laptop");
  table.session_started("laptop");  // two sessions share the lease
  table.session_ended("laptop", t0 + 1s);
  EXPECT_FALSE(table.next_expiry().has_value()) << "one session is still up";
  table.session_ended("laptop", t0 + 2s);
  EXPECT_EQ(table.next_expiry(), t0 + 2s + 5min);
  EXPECT_TRUE(table.expire(t0 + 2s + 5min - 1ms).empty());
  // Back within the lease: the same port, and the countdown stops.
  EXPECT_EQ(table.acquire("laptop", any_port(), t0 + 4min)->port, first);
  table.session_started("laptop");
  EXPECT_TRUE(table.expire(t0 + 1h).empty());
  table.session_ended("laptop", t0 + 1h);
  const auto released = table.expire(t0 + 1h + 5min);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].node, "laptop");
  EXPECT_EQ(released[0].port, first);
  EXPECT_FALSE(table.port_owner(first).has_value());
  EXPECT_EQ(table.lease_count(), 0u);
}

TEST(AllocationTable, AGrantWhoseSessionNeverStartsRunsOut) {
  AllocationTable table(ports(9000, 9000), 3);
  ASSERT_TRUE(table.acquire("a", any_port(), t0));
  EXPECT_EQ(table.expire(t0 + 5min).size(), 1u);
  EXPECT_TRUE(table.acquire("b", any_port(), t0 + 5min)) << "the port is free again";
}

TEST(AllocationTable, WhenFullAnIdleAgentIsEvictedButABusyOneIsNot) {
  AllocationPolicy policy = ports(9000, 9000);
  policy.evict_idle = true;
  policy.idle_after = 30s;
  AllocationTable table(policy, 5);
  ASSERT_TRUE(table.acquire("old", any_port(), t0));
  table.session_started("old");
  table.touch("old", t0 + 10s);
  auto busy = table.acquire("new", any_port(), t0 + 39s);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().status, 429);
  EXPECT_EQ(busy.error().message, "no free port in 9000-9000 and no idle agent to evict");
  auto evicting = table.acquire("new", any_port(), t0 + 40s);
  ASSERT_TRUE(evicting);
  EXPECT_EQ(evicting->port, 9000);
  EXPECT_EQ(evicting->evicted_nodes, std::vector<std::string>{"old"});
  EXPECT_EQ(table.port_owner(9000), "new");
  table.session_ended("old", t0 + 41s);  // the evicted agent's session closing: nothing to do
  EXPECT_EQ(table.lease_count(), 1u);
}

TEST(AllocationTable, HostNamesAutoAndPreferred) {
  AllocationPolicy policy;
  policy.host_suffix = ".dev.example.test";
  AllocationTable table(policy, 9);
  AllocationRequest any_host{Kind::none, 0, Kind::any, {}};
  const std::string random = table.acquire("a", any_host, t0)->host;
  ASSERT_EQ(random.size(), 8 + std::string(".dev.example.test").size());
  EXPECT_TRUE(random.ends_with(".dev.example.test"));
  EXPECT_NE(table.acquire("b", any_host, t0)->host, random);

  AllocationRequest mine{Kind::none, 0, Kind::preferred, "myname"};
  EXPECT_EQ(table.acquire("c", mine, t0)->host, "myname.dev.example.test");
  EXPECT_EQ(table.acquire("c", any_host, t0)->host, "myname.dev.example.test") << "kept";
  const std::string other = table.acquire("d", mine, t0)->host;
  EXPECT_NE(other, "myname.dev.example.test");
  EXPECT_EQ(table.host_owner("myname.dev.example.test"), "c");

  auto no_ports = table.acquire("e", any_port(), t0);
  ASSERT_FALSE(no_ports);
  EXPECT_EQ(no_ports.error().status, 400);
}

TEST(AllocationTable, ChangingThePreferredPortLetsTheOldOneGo) {
  AllocationTable table(ports(9000, 9099), 11);
  ASSERT_EQ(table.acquire("a", port(9001), t0)->port, 9001);
  ASSERT_EQ(table.acquire("a", port(9002), t0)->port, 9002);
  EXPECT_FALSE(table.port_owner(9001).has_value());
  EXPECT_EQ(table.acquire("b", port(9001), t0)->port, 9001);
}

TEST(AllocationTable, AThousandCyclesLeaveNothingBehind) {
  AllocationTable table(ports(9000, 9009), 13);
  for (int i = 0; i < 1000; ++i) {
    const std::string node = "n" + std::to_string(i);
    const auto at = t0 + std::chrono::seconds(i);
    ASSERT_TRUE(table.acquire(node, any_port(), at)) << i;
    table.session_started(node);
    table.session_ended(node, at);
    EXPECT_EQ(table.expire(at + 5min).size(), 1u);
  }
  EXPECT_EQ(table.lease_count(), 0u);
  for (std::uint16_t p = 9000; p <= 9009; ++p) EXPECT_FALSE(table.port_owner(p).has_value());
}

}  // namespace
}  // namespace dialback::edge
