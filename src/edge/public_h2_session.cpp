#include "edge/public_h2_session.hpp"

namespace dialback::edge {
namespace {

using Clock = std::chrono::steady_clock;

h2::H2Connection::Options public_options(const PublicConfig& config) {
  h2::H2Connection::Options options;
  options.role = h2::Role::server;
  options.preface = h2::PrefaceMode::standard;
  options.h2.max_concurrent_streams = config.max_concurrent_streams;
  options.h2.stream_window = config.windows.stream;
  options.h2.connection_window = config.windows.connection;
  options.h2.max_header_list_size = static_cast<std::uint32_t>(config.max_header_bytes);
  options.h2.max_header_fields = config.max_header_fields;
  options.h2.peer_resets = config.limits.stream_resets;
  options.h2.strict = true;
  // A public client that stops answering PINGs is gone: its streams end.
  options.liveness = {config.idle_timeout, config.header_timeout};
  options.log_protocol_errors = false;  // run() logs them, sampled per client address
  return options;
}

SessionIdentity public_identity(const std::string& client_ip) {
  SessionIdentity identity;
  identity.session_id = "public:" + client_ip;
  identity.peer_address = client_ip;
  return identity;
}

}  // namespace

PublicH2Session::PublicH2Session(std::unique_ptr<ByteStream> io, std::string initial,
                                 RequestForwarder& forwarder, PublicPeer peer, std::string scheme,
                                 std::string alt_svc, Logger logger)
    : logger_(logger),
      connection_(std::move(io), public_options(forwarder.config().public_),
                  public_identity(peer.ip), logger, std::move(initial)),
      executor_(connection_.executor()),
      streams_(forwarder, std::move(peer), std::move(scheme), std::move(alt_svc), executor_,
               std::move(logger)),
      streams_changed_(executor_),
      tasks_(executor_, logger_, "public h2 connection") {
  connection_.set_incoming_handler([this](std::unique_ptr<IncomingStream> stream) {
    streams_changed_.notify();  // the idle watcher sees the connection busy
    tasks_.spawn(streams_.forward(std::move(stream)), [this] { streams_changed_.notify(); });
  });
}

Task<void> PublicH2Session::run() {
  tasks_.spawn(close_when_idle());
  const auto reason = co_await connection_.run();
  ended_ = true;
  // At most one line per client address per interval, not one per stream
  // or connection: a rapid-reset flood must not flood the log too.
  const auto unserved = connection_.streams_reset_unserved();
  const bool abused = reason == Error::protocol_error;
  if (abused || unserved > 0) {
    if (const auto left_out = streams_.forwarder().sample_client_log(streams_.peer())) {
      logger_->info(
          "public h2 client {}: {}; {} streams reset before they were forwarded "
          "({} similar lines from this address left out)",
          streams_.peer().ip, abused ? connection_.last_error() : reason.message(), unserved,
          *left_out);
    }
  }
  streams_changed_.notify();
  co_await tasks_.join();
}

void PublicH2Session::shut_down(Clock::time_point deadline) {
  if (ended_) return;
  tasks_.spawn(connection_.drain(deadline));
}

Task<void> PublicH2Session::close_when_idle() {
  const auto idle_timeout = streams_.forwarder().config().public_.idle_timeout;
  while (!ended_) {
    if (connection_.open_streams() > 0) {
      co_await streams_changed_.wait();
      continue;
    }
    const auto deadline = Clock::now() + idle_timeout;
    const bool woken = co_await streams_changed_.wait_until(deadline);
    if (!woken && !ended_ && connection_.open_streams() == 0 && Clock::now() >= deadline) {
      shut_down(Clock::now());
      break;
    }
  }
}

}  // namespace dialback::edge
