// TunnelFixture: a whole tunnel on 127.0.0.1 in one process, on one
// io_context: a local upstream service (TestUpstream), an Edge with one
// tunnel `web` (host app.test, token + client-certificate auth), and any
// number of Agents. TLS is real, with a CA and certificates made per test.
//
// Tests are synchronous gtest code that drives the io_context through run()
// (one coroutine to completion) and run_until() (a condition), both with a
// deadline; nothing sleeps. TearDown shuts everything down gracefully and
// fails the test if any coroutine is still pending afterwards.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/agent.hpp"
#include "edge/edge.hpp"
#include "public_client.hpp"
#include "tcp_proxy.hpp"
#include "test_upstream.hpp"
#include "tls/pki.hpp"

namespace dialback::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline constexpr std::string_view kToken = "integration-test-token";
inline constexpr std::string_view kClientName = "agent-mtls.test";
inline constexpr std::string_view kTunnel = "web";
inline constexpr std::string_view kHost = "app.test";

// Every log line of the process, for assertions on what the edge reports
// (access log: "tunnel=web session=<id>") and for the failure dump.
class LogCapture {
 public:
  void add(std::string line);
  std::vector<std::string> lines() const;
  bool contains(std::string_view needle) const;
  std::size_t count(std::string_view needle) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// The PKI of one test: one CA signs the edge's server certificate and the
// trusted client certificates; a second, unrelated CA signs a rogue one.
struct TestPki {
  PemPair ca;
  PemPair server;       // CN localhost, SANs DNS:localhost, IP:127.0.0.1
  PemPair client;       // kClientName, signed by `ca`
  PemPair rogue_ca;
  PemPair rogue_client; // kClientName, signed by `rogue_ca`
  static TestPki make();
};

struct EdgeOptions {
  BalancePolicy balance = BalancePolicy::least_inflight;
  std::uint16_t agent_port = 0;  // 0: any free port
  std::uint16_t quic_port = 0;   // agents.quic's UDP port; 0: any free port
  std::chrono::milliseconds request_timeout = 10s;
  bool client_ca = true;         // request and verify client certificates
  bool public_https = false;     // also a public HTTPS listener (ALPN h2, http/1.1)
  std::function<void(EdgeConfig&)> configure{};  // adjusts the config last (limits, timeouts)
};

enum class ClientCert { none, trusted, rogue };

struct AgentOptions {
  int connections = 1;
  // Empty: the fixture's transport (TransportMatrix's parameter, else h2).
  std::optional<AgentTransport> transport{};
  // Further entries of `edges` to the same edge, each with its own transport.
  std::vector<AgentTransport> more_edges{};
  std::string token = std::string(kToken);
  ClientCert cert = ClientCert::none;
  std::string node{};                         // empty: "node-<index>"
  std::optional<std::string> upstream_url{};  // empty: the fixture's upstream
  std::vector<AgentRoute> routes{};           // non-empty: these instead of upstream_url
  std::optional<AgentTcpTarget> tcp{};        // the raw TCP target; empty: none
  AllocationRequest allocation{};             // ports / host names to ask for
  std::optional<std::uint16_t> edge_port{};   // empty: the edge's agent port
  std::optional<std::uint16_t> quic_port{};   // empty: the edge's QUIC port (h3, auto, reverst)
  AutoTransportConfig auto_transport{};       // transport auto: when to fall back and probe
  std::chrono::milliseconds upstream_response_timeout = 10s;
  std::chrono::milliseconds drain_timeout = 5s;
  std::string cluster{};  // empty: the tunnel name
  std::string tenant{};   // empty: "default"
  std::string user{};     // non-empty: HTTP Basic with `password` (set token to "")
  std::string password{};
};

class TunnelFixture : public ::testing::Test {
 protected:
  TunnelFixture();
  ~TunnelFixture() override;
  void SetUp() override;
  void TearDown() override;

  // ---- driving the io_context -------------------------------------------
  // Runs `task` to completion; throws when it takes longer than `timeout`.
  template <class T>
  T run(Task<T> task, Clock::duration timeout = 5s);
  void run(Task<void> task, Clock::duration timeout = 5s);
  // Runs the io_context until `condition` holds; false at `timeout`.
  bool run_until(const std::function<bool()>& condition, Clock::duration timeout = 5s);
  // Starts `task` in the background; the returned slot fills when it ends.
  template <class T>
  std::shared_ptr<std::optional<T>> spawn(Task<T> task);

  // ---- the tunnel -------------------------------------------------------
  Logger logger(const std::string& name);
  edge::Edge& start_edge(const EdgeOptions& options = {});
  // Shuts the edge down (bounded), waits until its coroutines ended, destroys it.
  void stop_edge();
  agent::Agent& start_agent(const AgentOptions& options = {}, agent::StreamHandler handler = {});
  // Graceful agent shutdown with `drain` as the deadline offset; waits for it.
  void shutdown_agent(agent::Agent& agent, Clock::duration drain = 2s);
  // shutdown_agent(), then destroys the agent (what an embedding program
  // does when it stops); any coroutine of the agent left behind is a bug.
  void destroy_agent(agent::Agent& agent, Clock::duration drain = 2s);
  // Waits until the edge has `sessions` sessions of tunnel web and every agent
  // started so far reports its sessions registered.
  bool wait_ready(std::size_t sessions, Clock::duration timeout = 5s);

  tcp::endpoint public_endpoint() const { return edge_->public_endpoint(); }
  tcp::endpoint public_tls_endpoint() const { return edge_->public_tls_endpoint(); }
  tcp::endpoint agent_endpoint() const { return edge_->agent_endpoint(); }

  // Session ids the edge's access log names for tunnel web, in request order.
  std::vector<std::string> access_log_sessions() const;

  // Streams open right now (SessionStats::inflight) summed over the edge's
  // sessions of every tunnel, and over the live sessions of every agent.
  std::size_t edge_inflight() const;
  std::size_t agent_inflight() const;

  asio::io_context io_;
  asio::any_io_executor executor_;
  std::shared_ptr<LogCapture> logs_;
  TestPki pki_;
  std::unique_ptr<TestUpstream> upstream_;
  std::vector<std::unique_ptr<TestUpstream>> extra_upstreams_;
  std::vector<std::unique_ptr<TcpProxy>> proxies_;
  std::unique_ptr<edge::Edge> edge_;
  EdgeOptions edge_options_;
  std::vector<std::unique_ptr<agent::Agent>> agents_;
  std::vector<int> agent_connections_;
  std::vector<bool> agent_stopped_;
  std::vector<std::string> fatal_log_;
  AgentTransport default_transport_ = AgentTransport::h2;

 private:
  void drain_io(const char* stage);
};

// The transport matrix: a suite derived from this runs every test once per
// agent transport (INSTANTIATE_TEST_SUITE_P(Transports, Suite,
// AllTransports(), TransportName)). Agents started without a transport use
// the parameter; an rhttp agent presents the trusted client certificate
// (its only credential).
class TransportMatrix : public TunnelFixture, public ::testing::WithParamInterface<AgentTransport> {
 protected:
  TransportMatrix() { default_transport_ = GetParam(); }
};

inline auto AllTransports() {
  return ::testing::Values(AgentTransport::h2, AgentTransport::rhttp, AgentTransport::envoy,
                           AgentTransport::h3, AgentTransport::poll);
}

inline std::string TransportName(const ::testing::TestParamInfo<AgentTransport>& info) {
  return std::string(to_string(info.param));
}

// ---- template members ---------------------------------------------------

template <class T>
std::shared_ptr<std::optional<T>> TunnelFixture::spawn(Task<T> task) {
  auto slot = std::make_shared<std::optional<T>>();
  asio::co_spawn(executor_, std::move(task), [slot](std::exception_ptr error, T value) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "background task threw: " << e.what();
      }
      return;
    }
    *slot = std::move(value);
  });
  return slot;
}

template <class T>
T TunnelFixture::run(Task<T> task, Clock::duration timeout) {
  struct State {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
  };
  auto state = std::make_shared<State>();
  asio::co_spawn(executor_, std::move(task), [state](std::exception_ptr error, T value) {
    state->error = error;
    if (!error) state->value = std::move(value);
    state->done = true;
  });
  if (!run_until([&] { return state->done; }, timeout)) {
    throw std::runtime_error("test step did not finish within its deadline");
  }
  if (state->error) std::rethrow_exception(state->error);
  return std::move(*state->value);
}

}  // namespace dialback::test
