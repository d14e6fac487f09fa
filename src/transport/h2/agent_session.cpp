#include "transport/h2/agent_session.hpp"

#include "transport/h2/tunnel_options.hpp"

namespace dialback::h2 {

std::unique_ptr<Session> make_agent_session(std::unique_ptr<ByteStream> io, std::string where,
                                            PrefaceMode preface, std::string initial,
                                            DialRequest request) {
  request.identity.peer_address = std::move(where);
  auto connection = std::make_unique<H2Connection>(
      std::move(io), tunnel_options(Role::server, preface, request.settings),
      std::move(request.identity), std::move(request.logger), std::move(initial));
  connection->set_incoming_handler(std::move(request.on_stream));
  connection->set_goaway_handler(std::move(request.on_goaway));
  return connection;
}

}  // namespace dialback::h2
