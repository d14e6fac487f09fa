#include "agent/h2c_upstream.hpp"

#include "agent/error_response.hpp"
#include "agent/local_connect.hpp"
#include "core/byte_stream.hpp"
#include "tunnel/stream_bridge.hpp"

namespace dialback::agent {
namespace {

using Clock = std::chrono::steady_clock;

std::string ms_text(Clock::time_point started) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  return std::to_string(us.count() / 1000) + "." + std::to_string(us.count() / 100 % 10) + "ms";
}

}  // namespace

H2cUpstream::H2cUpstream(asio::any_io_executor executor, UpstreamUrl target,
                         UpstreamTimeouts timeouts, Logger logger, std::string host_rewrite)
    : executor_(executor),
      target_(std::move(target)),
      timeouts_(timeouts),
      logger_(std::move(logger)),
      host_rewrite_(std::move(host_rewrite)),
      connect_done_(executor),
      tasks_(executor, logger_, "h2c upstream") {}

H2cUpstream::~H2cUpstream() { abort(); }

void H2cUpstream::abort() {
  if (link_ && !link_->ended) link_->connection->close(Error::cancelled);
  link_.reset();
}

Task<Result<std::shared_ptr<H2cUpstream::Link>>> H2cUpstream::connect() {
  auto socket = co_await connect_local(executor_, target_, timeouts_.connect);
  if (!socket) co_return fail(socket.error());

  h2::H2Connection::Options options;
  options.role = h2::Role::client;
  options.preface = h2::PrefaceMode::standard;
  SessionIdentity identity;
  identity.session_id = "h2c " + target_.host + ":" + std::to_string(target_.port);
  auto link = std::make_shared<Link>();
  link->connection = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<tcp::socket>>(std::move(*socket)), options,
      std::move(identity), logger_);
  tasks_.spawn(link->connection->run(), [link] { link->ended = true; });
  co_return link;
}

Task<Result<h2::H2Connection*>> H2cUpstream::connection() {
  for (;;) {
    if (link_ && !link_->ended && link_->connection->accepting()) {
      co_return link_->connection.get();
    }
    if (!connecting_) break;
    co_await connect_done_.wait();
  }
  connecting_ = true;
  auto fresh = co_await connect();
  connecting_ = false;
  connect_done_.notify();
  if (!fresh) co_return fail(fresh.error());
  if (link_ && !link_->ended) {
    // The previous connection drains: its streams finish, then it closes.
    // The completion keeps it alive until its drain returned.
    tasks_.spawn(link_->connection->drain(Clock::now() + timeouts_.response),
                 [draining = link_] {});
  }
  link_ = std::move(*fresh);
  co_return link_->connection.get();
}

Task<void> H2cUpstream::serve(std::unique_ptr<IncomingStream> stream) {
  const auto started = Clock::now();
  RequestHead head = stream->request();
  const std::string request_id(find_header(head.headers, "x-request-id").value_or("-"));
  const std::string local = target_.host + ":" + std::to_string(target_.port);
  head.scheme = "http";
  if (!host_rewrite_.empty()) head.authority = host_rewrite_;
  if (!target_.base_path.empty()) head.path = target_.base_path + head.path;
  // gRPC servers require it; HTTP/1.1 public clients cannot send it.
  if (is_grpc(head) && !find_header(head.headers, "te")) head.headers.push_back({"te", "trailers"});

  Result<std::unique_ptr<TunnelStream>> opened = fail(Error::upstream_connect);
  std::error_code connect_error;
  for (int attempt = 0; attempt < 2 && !opened; ++attempt) {  // once more if it just drained
    auto usable = co_await connection();
    if (!usable) {
      connect_error = usable.error();
      break;
    }
    opened = (*usable)->start_stream(head, !stream->has_body());
  }
  if (!opened) {
    const std::string why = connect_error ? connect_error.message() : opened.error().message();
    logger_->warn("{} cannot reach h2c local service {}: {}", request_id, local, why);
    co_await respond_failure(*stream, 502,
                             "dialback agent: cannot reach the h2c local service (" + why + ")");
    co_return;
  }
  std::unique_ptr<TunnelStream> upstream = std::move(*opened);
  StreamBridge bridge(*stream, *upstream, executor_, 0, logger_);
  auto response = co_await bridge.read_response(started + timeouts_.response);
  if (!response) {
    const bool timed_out = response.error() == Error::timeout;
    logger_->warn("{} h2c local service {} {}: {}", request_id, local,
                  timed_out ? "timed out" : "failed", response.error().message());
    std::string message =
        "dialback agent: the h2c local service failed (" + response.error().message() + ")";
    if (timed_out) message = "dialback agent: the h2c local service did not answer in time";
    co_await respond_failure(*stream, timed_out ? 504 : 502, std::move(message));
    co_await bridge.finish();
    co_return;
  }
  auto relayed = co_await bridge.relay_response(*response);
  co_await bridge.finish();
  logger_->info("{} \"{} {}\" {} h2c {}{}", request_id, head.method, head.path, response->status,
                ms_text(started), relayed ? "" : " error=relay-failed");
}

}  // namespace dialback::agent
