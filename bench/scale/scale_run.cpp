#include "scale_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "agent/agent.hpp"
#include "core/async_event.hpp"
#include "process_memory.hpp"

namespace dialback::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(100);
constexpr auto kStableFor = std::chrono::seconds(1);
constexpr auto kMaxSettle = std::chrono::seconds(10);

Task<void> sleep_for(asio::any_io_executor executor, Clock::duration duration) {
  asio::steady_timer timer(executor, duration);
  error_code ignored;
  co_await timer.async_wait(nothrow(ignored));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The edge's RSS once it has stopped changing by more than a page for
// kStableFor (the SETTINGS exchange and the frees of closing sessions run
// after our side sees the session up or gone), or after kMaxSettle.
Task<long> settled_rss(asio::any_io_executor executor, pid_t pid) {
  const auto give_up = Clock::now() + kMaxSettle;
  long last = rss_kib(pid).value_or(0);
  auto stable_since = Clock::now();
  while (Clock::now() < give_up && Clock::now() - stable_since < kStableFor) {
    co_await sleep_for(executor, kPoll);
    const long now = rss_kib(pid).value_or(0);
    if (now > last + 4 || now < last - 4) stable_since = Clock::now();
    last = now;
  }
  co_return last;
}

AgentConfig scale_config(const ScaleOptions& options, int connections) {
  AgentConfig config;
  config.agent.node = "scale-" + std::to_string(::getpid());
  config.tunnel = options.tunnel;
  config.token = options.token;
  config.ca = options.ca;
  EdgeTargetConfig edge;
  edge.host = options.host;
  edge.port = options.port;
  edge.server_name = options.server_name;
  edge.transport = options.transport;
  // May be above the config file's limit of 64: the library takes any count.
  edge.connections = connections;
  config.edges.push_back(edge);
  return config;
}

// No request is sent in this benchmark; should one arrive, it gets a 204.
Task<void> answer_no_content(std::unique_ptr<IncomingStream> stream) {
  ResponseHead head{204, {}};
  (void)stream->respond(head, true);
  co_return;
}

}  // namespace

Task<ScaleResult> run_scale(asio::any_io_executor executor, const ScaleOptions& options,
                            Logger logger) {
  ScaleResult result;
  const pid_t self = ::getpid();
  result.edge_rss_start_kib = co_await settled_rss(executor, options.edge_pid);
  const long edge_fds_start = open_fds(options.edge_pid).value_or(0);
  result.self_rss_start_kib = rss_kib(self).value_or(0);

  std::vector<std::unique_ptr<agent::Agent>> agents;
  auto connected = [&agents] {
    std::size_t total = 0;
    for (const auto& agent : agents) total += agent->connected_sessions();
    return total;
  };
  const auto started = Clock::now();
  const auto register_deadline = started + options.timeout;
  for (int opened = 0; opened < options.sessions && Clock::now() < register_deadline;) {
    const int count = std::min(options.batch, options.sessions - opened);
    agents.push_back(std::make_unique<agent::Agent>(executor, scale_config(options, count), logger,
                                                    answer_no_content));
    if (auto ok = agents.back()->start(); !ok) {
      logger->error("{}", ok.error());
      break;
    }
    opened += count;
    while (connected() < static_cast<std::size_t>(opened) && Clock::now() < register_deadline) {
      co_await sleep_for(executor, std::chrono::milliseconds(5));
    }
  }
  result.register_seconds = seconds_since(started);
  result.registered = static_cast<int>(connected());
  result.registered_all = result.registered == options.sessions;
  result.edge_rss_sessions_kib = co_await settled_rss(executor, options.edge_pid);
  result.self_rss_sessions_kib = rss_kib(self).value_or(0);

  const auto closing = Clock::now();
  const auto close_deadline = closing + options.timeout;
  int stopping = static_cast<int>(agents.size());
  AsyncEvent stopped(executor);
  for (auto& agent : agents) {
    asio::co_spawn(executor, agent->shutdown(close_deadline), [&](std::exception_ptr) {
      --stopping;
      stopped.notify();
    });
  }
  while (stopping > 0) co_await stopped.wait();
  agents.clear();
  while (open_fds(options.edge_pid).value_or(0) > edge_fds_start && Clock::now() < close_deadline) {
    co_await sleep_for(executor, kPoll);
  }
  result.close_seconds = seconds_since(closing);
  result.closed_all = open_fds(options.edge_pid).value_or(0) <= edge_fds_start;
  result.edge_rss_after_kib = co_await settled_rss(executor, options.edge_pid);
  co_return result;
}

}  // namespace dialback::bench
