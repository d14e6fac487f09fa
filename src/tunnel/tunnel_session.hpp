// TunnelSession: one agent session as the edge sees it, whatever the
// transport. Routing and the public listeners only ever see this interface;
// the agent listener owns it through Session.
#pragma once

#include <memory>

#include "tunnel/message.hpp"
#include "tunnel/session.hpp"
#include "tunnel/tunnel_stream.hpp"

namespace dialback {

class TunnelSession : public Session {
 public:
  // False once the session drains or closes: no new streams go to it.
  virtual bool accepting() const = 0;

  // Opens a stream carrying `head`; end_stream when the request has no body.
  // Awaitable: a transport may have to wait for the peer's stream limit, or
  // for the executor the session lives on. Call it on executor().
  virtual Task<Result<std::unique_ptr<TunnelStream>>> open_stream(const RequestHead& head,
                                                                  bool end_stream) = 0;

  // No new streams (GOAWAY); in-flight streams continue.
  virtual void go_away() = 0;
};

}  // namespace dialback
