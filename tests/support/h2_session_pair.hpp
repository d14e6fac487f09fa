// H2SessionPair: two real H2Connections over loopback TCP, the edge in the
// client role and the agent in the server role (standard preface), for tests
// that need a real HTTP/2 stream pair: open() gives both ends of one stream,
// the edge's H2TunnelStream and the agent's H2IncomingStream. Runs on the
// current executor; call stop() before destroying it.
#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include "core/async_event.hpp"
#include "core/result.hpp"
#include "transport/h2/h2_connection.hpp"
#include "tunnel/incoming_stream.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback::test {

struct H2Ends {
  std::unique_ptr<TunnelStream> opener;      // the edge's end
  std::unique_ptr<IncomingStream> answerer;  // the agent's end
};

class H2SessionPair {
 public:
  struct Options {
    h2::H2Settings edge;
    h2::H2Settings agent;
  };

  // Connects both sides and starts both run() loops; throws on a socket error.
  static Task<std::unique_ptr<H2SessionPair>> connect(Options options);
  ~H2SessionPair();
  H2SessionPair(const H2SessionPair&) = delete;
  H2SessionPair& operator=(const H2SessionPair&) = delete;

  // Opens a stream on the edge and waits for the agent's end of it; an error
  // when the open failed or the agent got nothing by `deadline` (Error::timeout).
  Task<Result<H2Ends>> open(const RequestHead& head, bool end_stream,
                            std::chrono::steady_clock::time_point deadline);

  h2::H2Connection& edge() { return *edge_; }
  h2::H2Connection& agent() { return *agent_; }

  // Closes both connections and waits until both run() returned; false
  // when that took until `deadline`.
  Task<bool> stop(std::chrono::steady_clock::time_point deadline);

 private:
  explicit H2SessionPair(asio::any_io_executor executor);

  struct RunState {
    explicit RunState(asio::any_io_executor executor) : ended(std::move(executor)) {}
    int running = 0;
    AsyncEvent ended;
  };

  asio::any_io_executor executor_;
  std::unique_ptr<h2::H2Connection> edge_;
  std::unique_ptr<h2::H2Connection> agent_;
  std::shared_ptr<RunState> runs_;
  std::deque<std::unique_ptr<IncomingStream>> incoming_;
  AsyncEvent incoming_ready_;
};

}  // namespace dialback::test
