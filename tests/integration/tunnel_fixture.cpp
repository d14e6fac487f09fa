#include "tunnel_fixture.hpp"

#include <cstdlib>
#include <iostream>
#include <list>
#include <regex>

#include <spdlog/sinks/base_sink.h>

namespace dialback::test {
namespace {

// A spdlog sink that hands every formatted line to a LogCapture (and to
// stderr when DIALBACK_TEST_LOG is set).
class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CaptureSink(std::shared_ptr<LogCapture> capture)
      : capture_(std::move(capture)), echo_(std::getenv("DIALBACK_TEST_LOG") != nullptr) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line(formatted.data(), formatted.size());
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (echo_) std::cerr << line << "\n";
    capture_->add(std::move(line));
  }
  void flush_() override {}

 private:
  std::shared_ptr<LogCapture> capture_;
  bool echo_;
};

// Edge and Agent do not expose their sessions (there is no admin API yet),
// so the tests read the private members that hold them. An explicit
// instantiation may name private members (C++20 [temp.spec.general]/6); the
// friend function defined by it hands out the member pointer. Replace with
// public accessors once Edge/Agent have them.
template <class Tag, typename Tag::type Member>
struct PrivateMember {
  friend typename Tag::type member_of(Tag) { return Member; }
};
struct EdgeRegistry {
  using type = std::unique_ptr<edge::SessionRegistry> edge::Edge::*;
  friend type member_of(EdgeRegistry);
};
struct AgentLiveSessions {
  using type = std::list<Session*> agent::Agent::*;
  friend type member_of(AgentLiveSessions);
};
template struct PrivateMember<EdgeRegistry, &edge::Edge::registry_>;
template struct PrivateMember<AgentLiveSessions, &agent::Agent::live_>;

template <class T>
T value_or_fail(PkiResult<T> result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
  return std::move(*result);
}

}  // namespace

void LogCapture::add(std::string line) {
  std::lock_guard lock(mutex_);
  lines_.push_back(std::move(line));
}

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool LogCapture::contains(std::string_view needle) const { return count(needle) > 0; }

std::size_t LogCapture::count(std::string_view needle) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& line : lines_) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

TestPki TestPki::make() {
  TestPki pki;
  pki.ca = value_or_fail(make_ca("dialback integration CA"), "make_ca");
  CertificateRequest server;
  server.name = "localhost";
  server.dns = {"localhost"};
  server.ips = {"127.0.0.1"};
  pki.server = value_or_fail(issue_certificate(pki.ca, server), "server certificate");
  CertificateRequest client;
  client.name = std::string(kClientName);
  client.kind = CertificateRequest::Kind::client;
  pki.client = value_or_fail(issue_certificate(pki.ca, client), "client certificate");
  pki.rogue_ca = value_or_fail(make_ca("rogue CA"), "rogue make_ca");
  pki.rogue_client = value_or_fail(issue_certificate(pki.rogue_ca, client), "rogue client");
  return pki;
}

TunnelFixture::TunnelFixture()
    : executor_(io_.get_executor()), logs_(std::make_shared<LogCapture>()) {}

TunnelFixture::~TunnelFixture() = default;

void TunnelFixture::SetUp() {
  pki_ = TestPki::make();
  upstream_ = std::make_unique<TestUpstream>(executor_, "primary");
  upstream_->start();
}

Logger TunnelFixture::logger(const std::string& name) {
  auto sink = std::make_shared<CaptureSink>(logs_);
  sink->set_pattern("[%n] [%l] %v");
  auto log = std::make_shared<spdlog::logger>(name, std::move(sink));
  log->set_level(spdlog::level::debug);
  return log;
}

bool TunnelFixture::run_until(const std::function<bool()>& condition, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    if (io_.stopped()) io_.restart();
    io_.run_one_until(std::min(deadline, Clock::now() + 20ms));
  }
  return true;
}

void TunnelFixture::run(Task<void> task, Clock::duration timeout) {
  auto state = std::make_shared<std::pair<bool, std::exception_ptr>>(false, nullptr);
  asio::co_spawn(executor_, std::move(task), [state](std::exception_ptr error) {
    state->first = true;
    state->second = error;
  });
  if (!run_until([&] { return state->first; }, timeout)) {
    throw std::runtime_error("test step did not finish within its deadline");
  }
  if (state->second) std::rethrow_exception(state->second);
}

edge::Edge& TunnelFixture::start_edge(const EdgeOptions& options) {
  edge_options_ = options;
  EdgeConfig config;
  config.edge.id = "edge-test";
  config.edge.drain_timeout = 2s;
  config.agents.listen = ListenAddress{"127.0.0.1", options.agent_port};
  config.agents.cert = "(in memory)";
  config.agents.key = "(in memory)";
  config.agents.client_ca = options.client_ca ? "(in memory)" : "";
  config.agents.handshake_timeout = 5s;
  QuicListenerConfig quic;
  quic.listen = ListenAddress{"127.0.0.1", options.quic_port};
  quic.settings.handshake_timeout = 5s;
  config.agents.quic = quic;
  config.public_.http = ListenAddress{"127.0.0.1", 0};
  config.public_.request_timeout = options.request_timeout;
  if (options.public_https) {
    config.public_.https = HttpsListenerConfig{{"127.0.0.1", 0}, "(in memory)", "(in memory)"};
  }
  TunnelConfig web;
  web.name = std::string(kTunnel);
  web.hosts = {std::string(kHost)};
  web.auth.tokens = {std::string(kToken)};
  if (options.client_ca) web.auth.client_names = {std::string(kClientName)};
  web.balance = options.balance;
  config.tunnels.push_back(std::move(web));
  if (options.configure) options.configure(config);
  if (auto invalid = validate_edge_config(config)) {
    throw std::runtime_error("edge config invalid: " + invalid->key + ": " + invalid->message);
  }
  edge_ = std::make_unique<edge::Edge>(executor_, std::move(config), logger("edge"));
  edge::EdgeTlsPem pem{pki_.server.cert_pem, pki_.server.key_pem,
                       options.client_ca ? pki_.ca.cert_pem : std::string(),
                       pki_.server.cert_pem, pki_.server.key_pem};
  auto started = edge_->start(pem);
  if (!started) throw std::runtime_error("edge start: " + started.error());
  return *edge_;
}

void TunnelFixture::stop_edge() {
  if (!edge_) return;
  run(edge_->shutdown(Clock::now() + 2s), 5s);
  edge_.reset();
}

agent::Agent& TunnelFixture::start_agent(const AgentOptions& options,
                                         agent::StreamHandler handler) {
  const std::size_t index = agents_.size();
  AgentConfig config;
  config.agent.node = options.node.empty() ? "node-" + std::to_string(index) : options.node;
  config.agent.cluster = options.cluster;
  if (!options.tenant.empty()) config.agent.tenant = options.tenant;
  config.tunnel = std::string(kTunnel);
  config.token = options.token;
  config.user = options.user;
  config.password = options.password;
  config.ca = "(in memory)";
  const AgentTransport transport = options.transport.value_or(default_transport_);
  const ClientCert cert = transport == AgentTransport::rhttp && options.cert == ClientCert::none
                              ? ClientCert::trusted
                              : options.cert;
  if (cert != ClientCert::none) {
    config.cert = "(in memory)";
    config.key = "(in memory)";
  }
  EdgeTargetConfig target;
  target.host = "127.0.0.1";
  target.server_name = "localhost";
  target.connections = options.connections;
  // QUIC listens on a UDP port of its own here (both ports are ephemeral).
  auto add_edge = [&](AgentTransport with) {
    target.transport = with;
    const std::uint16_t quic = options.quic_port.value_or(edge_->agent_quic_endpoint().port());
    // h3 and reverst only speak QUIC; auto also TLS, at `port`.
    const bool quic_only = with == AgentTransport::h3 || with == AgentTransport::reverst;
    target.port = options.edge_port ? *options.edge_port
                  : quic_only       ? quic
                                    : agent_endpoint().port();
    target.quic_port = with == AgentTransport::automatic ? quic : 0;
    config.edges.push_back(target);
  };
  add_edge(transport);
  for (const AgentTransport more : options.more_edges) add_edge(more);
  config.routes = options.routes;
  if (config.routes.empty()) {
    auto upstream = parse_upstream_url(options.upstream_url.value_or(upstream_->url()));
    if (!upstream) throw std::runtime_error("upstream url: " + upstream.error());
    config.routes.push_back(AgentRoute{"/", *upstream, false, ""});
  }
  config.tcp = options.tcp;
  config.allocation = options.allocation;
  config.upstream_connect_timeout = 2s;
  config.upstream_response_timeout = options.upstream_response_timeout;
  config.drain_timeout = options.drain_timeout;
  config.auto_transport = options.auto_transport;
  if (auto invalid = validate_agent_config(config)) {
    throw std::runtime_error("agent config invalid: " + invalid->key + ": " + invalid->message);
  }

  auto agent = std::make_unique<agent::Agent>(executor_, std::move(config),
                                              logger("agent-" + std::to_string(index)),
                                              std::move(handler));
  agent->on_fatal([this, index](const RegistrationRejection& rejection) {
    fatal_log_.push_back("agent-" + std::to_string(index) + " " + std::to_string(rejection.status) +
                         " " + rejection.code);
  });
  ClientTlsPem pem;
  pem.ca_pem = pki_.ca.cert_pem;
  if (cert == ClientCert::trusted) {
    pem.cert_pem = pki_.client.cert_pem;
    pem.key_pem = pki_.client.key_pem;
  } else if (cert == ClientCert::rogue) {
    pem.cert_pem = pki_.rogue_client.cert_pem;
    pem.key_pem = pki_.rogue_client.key_pem;
  }
  auto started = agent->start(pem);
  if (!started) throw std::runtime_error("agent start: " + started.error());
  agents_.push_back(std::move(agent));
  agent_connections_.push_back(options.connections);
  agent_stopped_.push_back(false);
  return *agents_.back();
}

void TunnelFixture::shutdown_agent(agent::Agent& agent, Clock::duration drain) {
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    if (agents_[i].get() == &agent) agent_stopped_[i] = true;
  }
  run(agent.shutdown(Clock::now() + drain), drain + 3s);
}

void TunnelFixture::destroy_agent(agent::Agent& agent, Clock::duration drain) {
  shutdown_agent(agent, drain);
  for (auto& owned : agents_) {
    if (owned.get() == &agent) owned.reset();
  }
}

bool TunnelFixture::wait_ready(std::size_t sessions, Clock::duration timeout) {
  return run_until(
      [&] {
        if (!edge_ || edge_->session_count(kTunnel) < sessions) return false;
        for (std::size_t i = 0; i < agents_.size(); ++i) {
          if (agent_stopped_[i] || !agents_[i]) continue;
          if (agents_[i]->connected_sessions() < static_cast<std::size_t>(agent_connections_[i])) {
            return false;
          }
        }
        return true;
      },
      timeout);
}

std::vector<std::string> TunnelFixture::access_log_sessions() const {
  static const std::regex kSession(R"(\[edge\.access\].* tunnel=web session=([0-9a-f]+))");
  std::vector<std::string> out;
  for (const auto& line : logs_->lines()) {
    std::smatch match;
    if (std::regex_search(line, match, kSession)) out.push_back(match[1]);
  }
  return out;
}

std::size_t TunnelFixture::edge_inflight() const {
  if (!edge_) return 0;
  std::size_t n = 0;
  for (const TunnelSession* session : ((*edge_).*member_of(EdgeRegistry{}))->all()) {
    n += session->stats().inflight;
  }
  return n;
}

std::size_t TunnelFixture::agent_inflight() const {
  std::size_t n = 0;
  for (const auto& agent : agents_) {
    if (!agent) continue;
    for (const Session* session : (*agent).*member_of(AgentLiveSessions{})) {
      n += session->stats().inflight;
    }
  }
  return n;
}

void TunnelFixture::drain_io(const char* stage) {
  // Everything was asked to stop: the io_context must run out of work on its own.
  io_.restart();
  const auto deadline = Clock::now() + 5s;
  while (!io_.stopped() && Clock::now() < deadline) io_.run_one_until(deadline);
  if (!io_.stopped()) ADD_FAILURE() << "work still pending " << stage;
}

void TunnelFixture::TearDown() {
  try {
    for (std::size_t i = 0; i < agents_.size(); ++i) {
      if (!agent_stopped_[i] && agents_[i]) shutdown_agent(*agents_[i], 1s);
    }
    stop_edge();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "teardown: " << e.what();
  }
  if (upstream_) upstream_->stop();
  for (auto& upstream : extra_upstreams_) upstream->stop();
  for (auto& proxy : proxies_) proxy->stop();
  drain_io("after shutting everything down (a coroutine outlives its owner's shutdown)");
  if (HasFailure() || std::getenv("DIALBACK_TEST_LOG_DUMP") != nullptr) {
    std::cerr << "---- captured log ----\n";
    for (const auto& line : logs_->lines()) std::cerr << line << "\n";
    std::cerr << "----------------------\n";
  }
  agents_.clear();
  edge_.reset();
  proxies_.clear();
  extra_upstreams_.clear();
  upstream_.reset();
}

}  // namespace dialback::test
