// H2Engine fed untrusted HTTP/2, as the edge meets it in two places:
//   - server role: a public HTTP/2 client (edge/public_h2_session.cpp, the
//     public.* defaults, strict). The standard preface is prepended to the
//     input; in reversed mode (rhttp's server side, the agent) the engine
//     expects no preface and none is prepended.
//   - client role: an agent's tunnel session (edge/agent_listener.cpp, the
//     agents.* defaults). One GET stream is opened first, then the input is
//     the agent's answer; in reversed mode the agent writes the preface, so
//     it is prepended.
// Bytes are fed in pieces; after each feed every pending frame is drained,
// as H2Connection's write loop does. The observer does nothing and nothing
// reads the streams. A failed feed ends the session, as in H2Connection.
//
// Input: one control byte, then the peer's bytes.
//   bit 0        reversed preface mode
//   bit 1        client role (else server)
//   bits 2-3, 4-7  piece sizes (fuzz_support.hpp)
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/edge_config.hpp"
#include "fuzz_support.hpp"
#include "transport/h2/h2_engine.hpp"

using namespace dialback;
using namespace dialback::h2;

namespace {

constexpr std::string_view kPreface = NGHTTP2_CLIENT_MAGIC;
// A fixed time: the reset budget never refills, so runs are deterministic.
constexpr std::chrono::steady_clock::time_point kNow{};

struct NullObserver final : EngineObserver {
  void on_request(std::shared_ptr<H2StreamState>) override {}
  void on_ping_ack() override {}
  void on_goaway(std::uint32_t) override {}
  void on_go_away_confirmed() override {}
  void on_stream_closed() override {}
  void on_output_ready() override {}
};

void drain(H2Engine& engine, std::string& out) {
  for (int i = 0; i < 1024; ++i) {
    out.clear();
    if (engine.drain_output(out) == 0) return;
  }
}

void feed_in_pieces(H2Engine& engine, std::string_view wire, fuzz::PieceSizes& pieces) {
  std::string out;
  drain(engine, out);
  while (!wire.empty()) {
    const std::size_t n = pieces.next(wire.size());
    const auto fed = engine.feed(fuzz::as_bytes(wire.substr(0, n)), kNow);
    wire.remove_prefix(n);
    drain(engine, out);  // after a failure too: the GOAWAY goes out
    if (!fed || engine.finished()) break;
  }
}

void public_client(PrefaceMode mode, std::string_view input, fuzz::PieceSizes& pieces) {
  const PublicConfig config;
  H2Settings settings;
  settings.max_concurrent_streams = config.max_concurrent_streams;
  settings.stream_window = config.windows.stream;
  settings.connection_window = config.windows.connection;
  settings.max_header_list_size = static_cast<std::uint32_t>(config.max_header_bytes);
  settings.max_header_fields = config.max_header_fields;
  settings.peer_resets = config.limits.stream_resets;
  settings.strict = true;  // as the public session and the agent run it

  NullObserver observer;
  H2Engine engine(Role::server, mode, settings, observer);
  std::string wire;
  if (mode == PrefaceMode::standard) wire = kPreface;
  wire.append(input);
  feed_in_pieces(engine, wire, pieces);
}

void agent_answer(PrefaceMode mode, std::string_view input, fuzz::PieceSizes& pieces) {
  const AgentListenerConfig config;
  H2Settings settings;
  settings.stream_window = config.windows.stream;
  settings.connection_window = config.windows.connection;
  settings.max_header_list_size = static_cast<std::uint32_t>(config.max_response_header_bytes);

  NullObserver observer;
  H2Engine engine(Role::client, mode, settings, observer);
  RequestHead head;
  head.method = "GET";
  head.scheme = "https";
  head.authority = "app.example.test";
  head.path = "/";
  head.headers = {{"user-agent", "fuzz"}, {"x-forwarded-for", "192.0.2.1"}};
  auto stream = engine.open_stream(head, true);
  fuzz::check(stream.has_value(), "H2Engine: a new client engine could not open a stream");
  std::string wire;
  if (mode == PrefaceMode::reversed) wire = kPreface;
  wire.append(input);
  feed_in_pieces(engine, wire, pieces);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view input = fuzz::as_chars(data + 1, size - 1);
  const PrefaceMode mode = (control & 1) != 0 ? PrefaceMode::reversed : PrefaceMode::standard;
  fuzz::PieceSizes pieces(static_cast<std::uint8_t>(control >> 2), input.size());
  if ((control & 2) != 0) {
    agent_answer(mode, input, pieces);
  } else {
    public_client(mode, input, pieces);
  }
  return 0;
}
