// Spreading public requests over several sessions.
#include <algorithm>
#include <map>
#include <set>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class BalanceTest : public TransportMatrix {};

// Runs `count` fetches concurrently, each on its own connection.
Task<std::vector<HttpResult>> fetch_concurrently(tcp::endpoint edge, std::vector<std::string> targets) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<HttpResult> results(targets.size());
  AsyncEvent finished(executor);
  std::size_t pending = targets.size();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    asio::co_spawn(executor, fetch_get(edge, targets[i]),
                   [&results, &finished, &pending, i](std::exception_ptr, HttpResult result) {
                     results[i] = std::move(result);
                     --pending;
                     finished.notify();
                   });
  }
  while (pending > 0) co_await finished.wait();
  co_return results;
}

TEST_P(BalanceTest, FiftyConcurrentRequestsOverTwoSessions) {
  start_edge();
  start_agent({.connections = 2});
  ASSERT_TRUE(wait_ready(2));

  std::vector<std::string> targets;
  for (int i = 0; i < 50; ++i) {
    // A mix of slow and sized answers so that the requests overlap in the tunnel.
    targets.push_back(i % 2 == 0 ? "/slow?ms=100" : "/bytes?n=" + std::to_string(1000 + i));
  }
  auto results = run(fetch_concurrently(public_endpoint(), targets), 10s);
  ASSERT_EQ(results.size(), 50u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ec) << "request " << i << ": " << results[i].ec.message();
    EXPECT_EQ(results[i].status(), 200) << "request " << i;
    EXPECT_EQ(results[i].response.body(),
              i % 2 == 0 ? std::string("slow") : pattern_bytes(1000 + i))
        << "request " << i;
  }
  EXPECT_EQ(upstream_->requests_seen(), 50u);
  EXPECT_EQ(edge_->counters().requests, 50u);
  EXPECT_EQ(edge_->counters().requests_failed, 0u);

  // The edge's access log names the session of every request: both were used.
  // (A line is written once the edge's side of the exchange has finished,
  // which may be just after the client has read the response.)
  ASSERT_TRUE(run_until([&] { return access_log_sessions().size() == 50; }));
  auto sessions = access_log_sessions();
  std::map<std::string, int> per_session;
  for (const auto& id : sessions) ++per_session[id];
  EXPECT_EQ(per_session.size(), 2u);
  for (const auto& [id, n] : per_session) EXPECT_GE(n, 10) << "session " << id;
}

TEST_P(BalanceTest, RoundRobinAlternatesEvenWhileOneSessionIsBusy) {
  // Two agents, one session each, each forwarding to its own local service:
  // the service's X-Upstream header shows which session carried a request.
  auto& second = *extra_upstreams_.emplace_back(std::make_unique<TestUpstream>(executor_, "second"));
  second.start();
  start_edge({.balance = BalancePolicy::round_robin});
  start_agent({.node = "node-primary"});
  start_agent({.node = "node-second", .upstream_url = second.url()});
  ASSERT_TRUE(wait_ready(2));

  // One slow request keeps a stream open on one session. least_inflight would
  // now send everything to the other session; round_robin keeps alternating.
  auto slow = spawn(fetch_get(public_endpoint(), "/slow?ms=1000"));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() + second.in_flight() == 1; }));

  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    auto result = run(fetch_get(public_endpoint(), "/hello"));
    ASSERT_FALSE(result.ec) << result.ec.message();
    ASSERT_EQ(result.status(), 200);
    order.push_back(result.header("X-Upstream"));
  }
  for (std::size_t i = 1; i < order.size(); ++i) {
    EXPECT_NE(order[i], order[i - 1]) << "request " << i << " went to the same session twice";
  }
  EXPECT_EQ(std::count(order.begin(), order.end(), "primary"), 3);
  EXPECT_EQ(std::count(order.begin(), order.end(), "second"), 3);

  ASSERT_TRUE(run_until([&] { return slow->has_value(); }));
  ASSERT_FALSE((*slow)->ec) << (*slow)->ec.message();
  EXPECT_EQ((*slow)->status(), 200);

  // The edge's own record agrees: consecutive requests, different sessions.
  ASSERT_TRUE(run_until([&] { return access_log_sessions().size() == 7; }));
  auto sessions = access_log_sessions();
  for (std::size_t i = 1; i < 6; ++i) EXPECT_NE(sessions[i], sessions[i - 1]);
}

INSTANTIATE_TEST_SUITE_P(Transports, BalanceTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test
