#include "agent/upstream_router.hpp"

#include "agent/error_response.hpp"
#include "agent/upgrade_forwarder.hpp"
#include "routing/path_prefix.hpp"
#include "tunnel/raw_tcp_head.hpp"

namespace dialback::agent {
namespace {

// Longest path echoed in the 404 body; the query is never echoed.
constexpr std::size_t kMaxEchoedPath = 200;

std::string echoed_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::string out(path.substr(0, kMaxEchoedPath));
  if (path.size() > kMaxEchoedPath) out += "...";
  return out;
}

}  // namespace

UpstreamRouter::UpstreamRouter(std::vector<Route> routes, std::unique_ptr<Upstream> tcp,
                               Logger logger)
    : tcp_(std::move(tcp)), logger_(std::move(logger)) {
  prefixes_.reserve(routes.size());
  upstreams_.reserve(routes.size());
  for (auto& route : routes) {
    prefixes_.push_back(std::move(route.prefix));
    upstreams_.push_back(std::move(route.upstream));
  }
}

Task<void> UpstreamRouter::serve(std::unique_ptr<IncomingStream> stream) {
  if (is_raw_tcp(stream->request())) {
    if (tcp_) {
      co_await tcp_->serve(std::move(stream));
    } else {
      co_await respond_no_tcp(std::move(stream));
    }
    co_return;
  }
  const auto route = longest_path_prefix(prefixes_, stream->request().path);
  if (!route) {
    co_await respond_no_route(std::move(stream));
    co_return;
  }
  Upstream& upstream = *upstreams_[*route];
  co_await upstream.serve(std::move(stream));
}

void UpstreamRouter::abort() {
  for (auto& upstream : upstreams_) upstream->abort();
  if (tcp_) tcp_->abort();
}

Task<void> UpstreamRouter::respond_no_tcp(std::unique_ptr<IncomingStream> stream) {
  logger_->info("{} \"CONNECT {}\" 501 this agent has no tcp target",
                find_header(stream->request().headers, "x-request-id").value_or("-"),
                stream->request().authority);
  co_await respond_error(*stream, 501, "dialback agent: this agent has no tcp target");
  co_await await_request_end(*stream);
}

Task<void> UpstreamRouter::respond_no_route(std::unique_ptr<IncomingStream> stream) {
  const RequestHead& head = stream->request();
  const std::string path = echoed_path(head.path);
  logger_->info("{} \"{} {}\" 404 no agent route matches",
                find_header(head.headers, "x-request-id").value_or("-"), head.method, path);
  std::string message = "dialback agent: no agent route matches the path " + path;
  co_await respond_error(*stream, 404, std::move(message));
  // Dropping a stream whose request side is still open resets it, and the
  // reset could overtake the 404: let the edge finish sending first.
  co_await await_request_end(*stream);
}

}  // namespace dialback::agent
