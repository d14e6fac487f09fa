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

// Resets every stream before answering: a tunnel failure each time.
Task<void> reset_every_stream(std::unique_ptr<IncomingStream> stream) {
  stream->reset(Error::protocol_error);
  co_return;
}

// Answers every request 503: the local service failing, not the tunnel.
Task<void> answer_503(std::unique_ptr<IncomingStream> stream) {
  ResponseHead head{503, {{"content-length", "0"}}};
  stream->respond(head, true);
  co_return;
}

// Sequential GETs of /hello; the status of each (0 for a client-side error).
Task<std::vector<int>> fetch_statuses(tcp::endpoint edge, int count) {
  std::vector<int> statuses;
  for (int i = 0; i < count; ++i) {
    auto result = co_await fetch_get(edge, "/hello");
    statuses.push_back(result.ec ? 0 : result.status());
  }
  co_return statuses;
}

void use_outlier_policy(EdgeConfig& config, std::chrono::milliseconds base) {
  config.agents.outlier_detection = {
      .consecutive_failures = 3, .base_ejection = base, .max_ejection = base * 4};
}

// Outlier detection: once a session has failed 3 streams in a row, no
// request goes to it while another session works.
TEST_P(BalanceTest, ASessionWhoseStreamsAllFailIsEjected) {
  start_edge({.balance = BalancePolicy::round_robin,
              .configure = [](EdgeConfig& config) { use_outlier_policy(config, 60s); }});
  start_agent({.node = "node-good"});
  start_agent({.node = "node-broken"}, reset_every_stream);
  ASSERT_TRUE(wait_ready(2));

  const auto statuses = run(fetch_statuses(public_endpoint(), 30), 20s);
  // Round robin alternates until the third failure ejects the broken session.
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 502), 3);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 27);
  EXPECT_TRUE(std::all_of(statuses.begin() + 6, statuses.end(), [](int s) { return s == 200; }));
  EXPECT_TRUE(logs_->contains("ejected from balancing: 3 tunnel failures in a row"));
}

// An ejected session comes back after its ejection time; failing again, it
// is ejected again.
TEST_P(BalanceTest, AnEjectedSessionIsTriedAgainAfterItsEjectionTime) {
  start_edge({.balance = BalancePolicy::round_robin,
              .configure = [](EdgeConfig& config) { use_outlier_policy(config, 300ms); }});
  start_agent({.node = "node-good"});
  start_agent({.node = "node-broken"}, reset_every_stream);
  ASSERT_TRUE(wait_ready(2));

  auto first = run(fetch_statuses(public_endpoint(), 6), 10s);
  ASSERT_EQ(std::count(first.begin(), first.end(), 502), 3);
  ASSERT_EQ(logs_->count("ejected from balancing"), 1u);
  // Keep requesting until the broken session has had its second chance and
  // been ejected again (bounded: 10 s).
  std::size_t failures = 0;
  ASSERT_TRUE(run_until(
      [&] {
        if (logs_->count("ejected from balancing") >= 2) return true;
        auto more = run(fetch_statuses(public_endpoint(), 1), 5s);
        failures += more[0] == 502 ? 1 : 0;
        return false;
      },
      10s));
  EXPECT_EQ(failures, 3u);
  EXPECT_TRUE(logs_->contains("ejection 2 in a row"));
}

// Without another session to go to, the ejected one is still used: a 502
// from a session that may work beats a certain 503.
TEST_P(BalanceTest, AnEjectedSessionStillServesWhenItIsTheOnlyOne) {
  start_edge({.configure = [](EdgeConfig& config) { use_outlier_policy(config, 60s); }});
  start_agent({.node = "node-broken"}, reset_every_stream);
  ASSERT_TRUE(wait_ready(1));
  const auto statuses = run(fetch_statuses(public_endpoint(), 8), 20s);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 502), 8);
  EXPECT_EQ(edge_->counters().requests_no_session, 0u);
}

// The local service's own 5xx answers are responses: they never eject.
TEST_P(BalanceTest, TheServicesOwn5xxDoNotEjectASession) {
  start_edge({.balance = BalancePolicy::round_robin,
              .configure = [](EdgeConfig& config) { use_outlier_policy(config, 60s); }});
  start_agent({.node = "node-good"});
  start_agent({.node = "node-503"}, answer_503);
  ASSERT_TRUE(wait_ready(2));
  const auto statuses = run(fetch_statuses(public_endpoint(), 20), 20s);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 503), 10);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 10);
  EXPECT_FALSE(logs_->contains("ejected from balancing"));
}

INSTANTIATE_TEST_SUITE_P(Transports, BalanceTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test
