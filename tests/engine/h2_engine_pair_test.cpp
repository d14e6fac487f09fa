// H2Engine pair tests: an edge engine (HTTP/2 client) and an agent engine
// (HTTP/2 server) wired to each other through strings in memory. No sockets,
// no io_context, no timers: pump() moves bytes until both sides are quiet.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include "core/error.hpp"
#include "transport/h2/h2_engine.hpp"
#include "transport/h2/h2_headers.hpp"

namespace dialback::h2 {
namespace {

constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr int kMaxPumpRounds = 10'000;

// ---- helpers ----------------------------------------------------------------

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Records every event an engine reports.
struct Recorder final : EngineObserver {
  std::vector<std::shared_ptr<H2StreamState>> requests;
  int ping_acks = 0;
  std::vector<std::uint32_t> goaways;
  int streams_closed = 0;
  int output_ready = 0;

  void on_request(std::shared_ptr<H2StreamState> stream) override {
    requests.push_back(std::move(stream));
  }
  void on_ping_ack() override { ++ping_acks; }
  void on_goaway(std::uint32_t error_code) override { goaways.push_back(error_code); }
  void on_stream_closed() override { ++streams_closed; }
  void on_output_ready() override { ++output_ready; }
};

// Feeds `data` to `engine` in pieces of at most `piece` bytes.
Result<void> feed_in_pieces(H2Engine& engine, std::string_view data, std::size_t piece) {
  while (!data.empty()) {
    const std::size_t n = std::min(piece, data.size());
    if (auto fed = engine.feed(bytes_of(data.substr(0, n))); !fed) return fed;
    data.remove_prefix(n);
  }
  return {};
}

// An edge (client) and an agent (server) engine connected in memory.
struct EnginePair {
  explicit EnginePair(const H2Settings& settings = {},
                      PrefaceMode mode = PrefaceMode::standard)
      : edge(Role::client, mode, settings, edge_events),
        agent(Role::server, mode, settings, agent_events) {}

  // Moves drained output of each side into the other until neither has
  // anything to send. `piece` splits every feed() into reads of that size.
  testing::AssertionResult pump(std::size_t piece = std::numeric_limits<std::size_t>::max()) {
    for (int round = 0; round < kMaxPumpRounds; ++round) {
      std::string to_agent;
      std::string to_edge;
      edge.drain_output(to_agent);
      agent.drain_output(to_edge);
      if (to_agent.empty() && to_edge.empty()) return testing::AssertionSuccess();
      edge_sent += to_agent;
      agent_sent += to_edge;
      if (auto fed = feed_in_pieces(agent, to_agent, piece); !fed) {
        return testing::AssertionFailure()
               << "agent feed failed: " << fed.error().message() << " / " << agent.last_error();
      }
      if (auto fed = feed_in_pieces(edge, to_edge, piece); !fed) {
        return testing::AssertionFailure()
               << "edge feed failed: " << fed.error().message() << " / " << edge.last_error();
      }
    }
    return testing::AssertionFailure() << "engines never went quiet";
  }

  Recorder edge_events;   // declared before the engines: outlives them
  Recorder agent_events;
  H2Engine edge;
  H2Engine agent;
  std::string edge_sent;   // every byte the edge emitted
  std::string agent_sent;  // every byte the agent emitted
};

RequestHead make_request(std::string method, std::string path) {
  RequestHead head;
  head.method = std::move(method);
  head.scheme = "https";
  head.authority = "app.example.test";
  head.path = std::move(path);
  head.headers = {{"user-agent", "pair-test/1"}, {"x-request-id", "req-42"}};
  return head;
}

ResponseHead make_response(int status, HeaderList headers = {}) {
  ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  return head;
}

// Takes every queued body chunk of `stream` and gives the bytes back to flow control.
std::string take_body(H2Engine& engine, H2StreamState& stream) {
  std::string out;
  while (!stream.body.empty()) {
    const std::size_t n = stream.body.front().size();
    out += stream.body.front();
    stream.body.pop_front();
    engine.consume(stream, n);
  }
  return out;
}

// Deterministic bytes that differ at every offset of a 251-byte period.
std::string pattern_bytes(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return out;
}

std::string header_value(const HeaderList& headers, std::string_view name) {
  auto value = find_header(headers, name);
  return value ? std::string(*value) : std::string("<absent>");
}

// The stream ended cleanly: both directions complete, no error recorded.
testing::AssertionResult closed_cleanly(const H2StreamState& stream) {
  if (!stream.closed) return testing::AssertionFailure() << "stream " << stream.id << " still open";
  if (stream.error) {
    return testing::AssertionFailure()
           << "stream " << stream.id << " ended with " << stream.error.message();
  }
  if (!stream.body_ended) {
    return testing::AssertionFailure() << "stream " << stream.id << " body not ended";
  }
  return testing::AssertionSuccess();
}

// ---- tests ------------------------------------------------------------------

TEST(H2EnginePair, GetRoundTrip) {
  EnginePair pair;
  auto opened = pair.edge.open_stream(make_request("GET", "/items?page=2"), /*end_stream=*/true);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  auto client = *opened;
  EXPECT_EQ(client->id, 1);
  EXPECT_TRUE(pair.edge.wants_write());
  EXPECT_GT(pair.edge_events.output_ready, 0);
  ASSERT_TRUE(pair.pump());

  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  EXPECT_EQ(server->id, 1);
  EXPECT_TRUE(server->body_ended);
  auto request = parse_request(server->head);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->scheme, "https");
  EXPECT_EQ(request->authority, "app.example.test");
  EXPECT_EQ(request->path, "/items?page=2");
  EXPECT_TRUE(request->protocol.empty());
  EXPECT_EQ(header_value(request->headers, "user-agent"), "pair-test/1");
  EXPECT_EQ(header_value(request->headers, "x-request-id"), "req-42");

  ASSERT_TRUE(pair.agent
                  .respond(*server, make_response(200, {{"content-type", "text/plain"}}),
                           /*end_stream=*/false)
                  .has_value());
  ASSERT_TRUE(pair.agent.write_body(*server, "hello, ").has_value());
  ASSERT_TRUE(pair.agent.write_body(*server, "world").has_value());
  ASSERT_TRUE(pair.agent.end_body(*server, {}).has_value());
  ASSERT_TRUE(pair.pump());

  ASSERT_TRUE(client->head_received);
  auto response = parse_response(client->head);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(header_value(response->headers, "content-type"), "text/plain");
  EXPECT_EQ(take_body(pair.edge, *client), "hello, world");
  EXPECT_TRUE(client->trailers.empty());
  EXPECT_TRUE(closed_cleanly(*client));
  EXPECT_TRUE(closed_cleanly(*server));
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_EQ(pair.agent.open_streams(), 0u);
  EXPECT_EQ(pair.edge_events.streams_closed, 1);
  EXPECT_EQ(pair.agent_events.streams_closed, 1);
  EXPECT_FALSE(pair.edge.wants_write());
  EXPECT_FALSE(pair.agent.wants_write());
}

TEST(H2EnginePair, StandardPrefaceComesFromTheClient) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  ASSERT_GE(pair.edge_sent.size(), kClientPreface.size() + 9);
  EXPECT_EQ(pair.edge_sent.substr(0, kClientPreface.size()), kClientPreface);
  // The agent starts with its SETTINGS frame (type 0x4), not a preface.
  ASSERT_GE(pair.agent_sent.size(), 9u);
  EXPECT_EQ(pair.agent_sent[3], '\x04');
  EXPECT_EQ(pair.agent_sent.find("PRI * HTTP/2.0"), std::string::npos);
}

TEST(H2EnginePair, PostLargerThanStreamWindowAdvancesOnlyWithConsume) {
  H2Settings settings;
  settings.stream_window = 64u << 10;
  EnginePair pair(settings);
  ASSERT_TRUE(pair.pump());  // SETTINGS exchanged: the 64 KiB window is in force

  const std::string body = pattern_bytes(3u << 20);
  auto opened = pair.edge.open_stream(make_request("POST", "/upload"), /*end_stream=*/false);
  ASSERT_TRUE(opened.has_value());
  auto client = *opened;
  std::size_t written = 0;
  // The client honours stream_send_buffer, as H2StreamHandle::write_body does.
  auto refill = [&] {
    while (written < body.size() && client->out_queued() < settings.stream_send_buffer) {
      const std::size_t n = std::min<std::size_t>(16u << 10, body.size() - written);
      ASSERT_TRUE(pair.edge.write_body(*client, std::string_view(body).substr(written, n)));
      written += n;
    }
    if (written == body.size() && !client->out_ended) {
      ASSERT_TRUE(pair.edge.end_body(*client, {}));
    }
  };

  // Without consume(): the upload stalls with exactly one window at the server.
  refill();
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  EXPECT_EQ(server->body_queued, settings.stream_window);
  for (int i = 0; i < 3; ++i) {
    refill();
    ASSERT_TRUE(pair.pump());
    EXPECT_EQ(server->body_queued, settings.stream_window) << "no consume, yet more data came";
  }
  EXPECT_GT(client->out_queued(), 0u) << "the client must still have body to send";
  EXPECT_FALSE(server->body_ended);

  // With consume(): the whole body arrives, never more than a window queued.
  std::string received;
  std::size_t max_queued = 0;
  for (int round = 0; round < 10'000 && !server->body_ended; ++round) {
    received += take_body(pair.agent, *server);
    refill();
    ASSERT_TRUE(pair.pump());
    max_queued = std::max(max_queued, server->body_queued);
  }
  received += take_body(pair.agent, *server);
  EXPECT_TRUE(server->body_ended);
  EXPECT_LE(max_queued, settings.stream_window);
  ASSERT_EQ(received.size(), body.size());
  EXPECT_TRUE(received == body) << "body bytes differ";

  ASSERT_TRUE(pair.agent.respond(*server, make_response(204), /*end_stream=*/true));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(closed_cleanly(*client));
  EXPECT_TRUE(closed_cleanly(*server));
  EXPECT_EQ(parse_response(client->head)->status, 204);
}

TEST(H2EnginePair, ResponseTrailersArrive) {
  EnginePair pair;
  RequestHead grpc = make_request("POST", "/pkg.Service/Method");
  grpc.headers.push_back({"content-type", "application/grpc"});
  grpc.headers.push_back({"te", "trailers"});
  auto client = *pair.edge.open_stream(grpc, /*end_stream=*/false);
  ASSERT_TRUE(pair.edge.write_body(*client, std::string("\0\0\0\0\x02hi", 7)));
  ASSERT_TRUE(pair.edge.end_body(*client, {}));
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  EXPECT_EQ(take_body(pair.agent, *server), std::string("\0\0\0\0\x02hi", 7));

  ASSERT_TRUE(pair.agent.respond(
      *server, make_response(200, {{"content-type", "application/grpc"}}), false));
  ASSERT_TRUE(pair.agent.write_body(*server, std::string("\0\0\0\0\x02ok", 7)));
  ASSERT_TRUE(pair.agent.end_body(*server, {{"grpc-status", "0"}, {"grpc-message", "fine"}}));
  ASSERT_TRUE(pair.pump());

  EXPECT_EQ(take_body(pair.edge, *client), std::string("\0\0\0\0\x02ok", 7));
  ASSERT_EQ(client->trailers.size(), 2u);
  EXPECT_EQ(header_value(client->trailers, "grpc-status"), "0");
  EXPECT_EQ(header_value(client->trailers, "grpc-message"), "fine");
  EXPECT_EQ(header_value(client->head, "grpc-status"), "<absent>");
  EXPECT_TRUE(closed_cleanly(*client));
  EXPECT_TRUE(closed_cleanly(*server));
}

TEST(H2EnginePair, TrailersOnlyResponseWithoutBody) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("GET", "/"), true);
  ASSERT_TRUE(pair.pump());
  auto server = pair.agent_events.requests.at(0);
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.agent.end_body(*server, {{"grpc-status", "5"}}));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(client->body.empty());
  EXPECT_EQ(header_value(client->trailers, "grpc-status"), "5");
  EXPECT_TRUE(closed_cleanly(*client));
}

TEST(H2EnginePair, RequestTrailersArrive) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("POST", "/"), false);
  ASSERT_TRUE(pair.edge.write_body(*client, "payload"));
  ASSERT_TRUE(pair.edge.end_body(*client, {{"x-checksum", "abc"}}));
  ASSERT_TRUE(pair.pump());
  auto server = pair.agent_events.requests.at(0);
  EXPECT_EQ(take_body(pair.agent, *server), "payload");
  EXPECT_TRUE(server->body_ended);
  EXPECT_EQ(header_value(server->trailers, "x-checksum"), "abc");
}

TEST(H2EnginePair, ServerResetFailsClientStream) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("GET", "/slow"), true);
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  pair.agent.reset(*server, NGHTTP2_INTERNAL_ERROR);
  ASSERT_TRUE(pair.pump());

  EXPECT_TRUE(client->closed);
  EXPECT_EQ(client->error, make_error_code(Error::stream_reset));
  EXPECT_FALSE(client->head_received);
  EXPECT_TRUE(server->closed);
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_EQ(pair.agent.open_streams(), 0u);
}

TEST(H2EnginePair, ServerRefusedStreamMapsToStreamRefused) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("GET", "/"), true);
  ASSERT_TRUE(pair.pump());
  pair.agent.reset(*pair.agent_events.requests.at(0), NGHTTP2_REFUSED_STREAM);
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(client->closed);
  EXPECT_EQ(client->error, make_error_code(Error::stream_refused));
}

TEST(H2EnginePair, ClientResetClosesServerStreamWithError) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("POST", "/upload"), false);
  ASSERT_TRUE(pair.edge.write_body(*client, "partial"));
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.pump());

  pair.edge.reset(*client, NGHTTP2_CANCEL);
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(server->closed);
  EXPECT_EQ(server->error, make_error_code(Error::stream_reset));
  EXPECT_FALSE(server->body_ended);
  EXPECT_EQ(server->engine, nullptr);
  EXPECT_FALSE(pair.agent.write_body(*server, "too late").has_value());
  EXPECT_TRUE(client->closed);
  EXPECT_EQ(pair.agent.open_streams(), 0u);
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_EQ(pair.agent_events.streams_closed, 1);
}

TEST(H2EnginePair, GoAwayRefusesNewStreamsAndLetsInFlightFinish) {
  EnginePair pair;
  auto in_flight = *pair.edge.open_stream(make_request("GET", "/in-flight"), true);
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();

  pair.agent.go_away();
  EXPECT_TRUE(pair.agent.going_away());
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.edge_events.goaways.size(), 1u);
  EXPECT_EQ(pair.edge_events.goaways.front(), static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(pair.edge.going_away());

  auto refused = pair.edge.open_stream(make_request("GET", "/new"), true);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), make_error_code(Error::stream_refused));

  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.agent.write_body(*server, "done"));
  ASSERT_TRUE(pair.agent.end_body(*server, {}));
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(take_body(pair.edge, *in_flight), "done");
  EXPECT_TRUE(closed_cleanly(*in_flight));
  EXPECT_EQ(pair.agent_events.requests.size(), 1u);
  // Drained: neither side will read or write again.
  EXPECT_TRUE(pair.edge.finished());
  EXPECT_TRUE(pair.agent.finished());
}

TEST(H2EnginePair, GoAwayCrossingANewStreamRefusesIt) {
  EnginePair pair;
  auto first = *pair.edge.open_stream(make_request("GET", "/first"), true);
  ASSERT_TRUE(pair.pump());
  auto server = pair.agent_events.requests.at(0);
  // GOAWAY(last=1) and HEADERS for stream 3 cross on the wire.
  pair.agent.go_away();
  auto second = *pair.edge.open_stream(make_request("GET", "/second"), true);
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(pair.agent_events.requests.size(), 1u) << "stream 3 is beyond GOAWAY's last id";
  EXPECT_TRUE(second->closed);
  EXPECT_EQ(second->error, make_error_code(Error::stream_refused));
  EXPECT_EQ(pair.agent.open_streams(), 1u);

  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), true));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(closed_cleanly(*first));
  EXPECT_EQ(pair.agent.open_streams(), 0u);
  EXPECT_EQ(pair.edge.open_streams(), 0u);
}

TEST(H2EnginePair, ReversedPrefaceRoundTrip) {
  EnginePair pair({}, PrefaceMode::reversed);
  auto client = *pair.edge.open_stream(make_request("GET", "/rhttp"), true);
  ASSERT_TRUE(pair.pump());

  ASSERT_GE(pair.agent_sent.size(), kClientPreface.size() + 9);
  EXPECT_EQ(pair.agent_sent.substr(0, kClientPreface.size()), kClientPreface);
  EXPECT_EQ(pair.agent_sent[kClientPreface.size() + 3], '\x04') << "SETTINGS after the preface";
  // The edge sends no preface: its first frame is SETTINGS.
  ASSERT_GE(pair.edge_sent.size(), 9u);
  EXPECT_EQ(pair.edge_sent[3], '\x04');
  EXPECT_EQ(pair.edge_sent.find("PRI * HTTP/2.0"), std::string::npos);

  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  EXPECT_EQ(parse_request(server->head)->path, "/rhttp");
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.agent.write_body(*server, "reversed"));
  ASSERT_TRUE(pair.agent.end_body(*server, {}));
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(parse_response(client->head)->status, 200);
  EXPECT_EQ(take_body(pair.edge, *client), "reversed");
  EXPECT_TRUE(closed_cleanly(*client));
  EXPECT_TRUE(closed_cleanly(*server));
}

TEST(H2EnginePair, ReversedPrefaceSplitAcrossReads) {
  EnginePair pair({}, PrefaceMode::reversed);
  auto client = *pair.edge.open_stream(make_request("GET", "/bytewise"), true);
  ASSERT_TRUE(pair.pump(/*piece=*/1));
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  ASSERT_TRUE(pair.agent.respond(*pair.agent_events.requests.front(), make_response(204), true));
  ASSERT_TRUE(pair.pump(/*piece=*/7));
  EXPECT_TRUE(closed_cleanly(*client));
}

// The frame type of each frame in `wire` (HTTP/2 frames, no preface).
std::vector<int> frame_types(std::string_view wire) {
  std::vector<int> types;
  while (wire.size() >= 9) {
    const std::size_t length = (static_cast<std::uint8_t>(wire[0]) << 16) |
                               (static_cast<std::uint8_t>(wire[1]) << 8) |
                               static_cast<std::uint8_t>(wire[2]);
    types.push_back(static_cast<std::uint8_t>(wire[3]));
    wire.remove_prefix(std::min(wire.size(), 9 + length));
  }
  return types;
}

TEST(H2EnginePair, ReversedClientRejectsMissingPreface) {
  Recorder events;
  H2Engine edge(Role::client, PrefaceMode::reversed, {}, events);
  auto fed = edge.feed(bytes_of("PRI * HTTP/1.1\r\n"));
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error(), make_error_code(Error::protocol_error));
  EXPECT_FALSE(edge.last_error().empty());
  // As every feed() failure: a GOAWAY is queued for the peer.
  std::string out;
  edge.drain_output(out);
  auto types = frame_types(out);
  EXPECT_NE(std::find(types.begin(), types.end(), NGHTTP2_GOAWAY), types.end());
}

TEST(H2EnginePair, FeedingNothingIsHarmless) {
  for (auto mode : {PrefaceMode::standard, PrefaceMode::reversed}) {
    EnginePair pair({}, mode);
    EXPECT_TRUE(pair.edge.feed({}).has_value());
    EXPECT_TRUE(pair.agent.feed({}).has_value());
    ASSERT_TRUE(pair.pump());
  }
}

TEST(H2EnginePair, ClientFedGarbageFailsWithProtocolError) {
  Recorder events;
  H2Engine edge(Role::client, PrefaceMode::standard, {}, events);
  auto fed = edge.feed(bytes_of("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error(), make_error_code(Error::protocol_error));
  EXPECT_FALSE(edge.last_error().empty());
}

TEST(H2EnginePair, ServerFedGarbageFailsWithProtocolError) {
  Recorder events;
  H2Engine agent(Role::server, PrefaceMode::standard, {}, events);
  auto fed = agent.feed(bytes_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error(), make_error_code(Error::protocol_error));
}

// A DATA frame on stream 0 is a connection error (RFC 9113 §6.1).
const std::string kDataOnStreamZero("\x00\x00\x01\x00\x00\x00\x00\x00\x00x", 10);

TEST(H2EnginePair, ClientConnectionErrorMidSessionFailsFeedAndQueuesGoAway) {
  EnginePair pair;
  auto client = *pair.edge.open_stream(make_request("GET", "/"), true);
  ASSERT_TRUE(pair.pump());
  auto fed = pair.edge.feed(bytes_of(kDataOnStreamZero));
  ASSERT_FALSE(fed.has_value());
  EXPECT_EQ(fed.error(), make_error_code(Error::protocol_error));
  // The GOAWAY it queued reaches the agent; then both sides are done.
  std::string out;
  pair.edge.drain_output(out);
  ASSERT_TRUE(pair.agent.feed(bytes_of(out)));
  ASSERT_EQ(pair.agent_events.goaways.size(), 1u);
  EXPECT_EQ(pair.agent_events.goaways.front(), static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_TRUE(pair.edge.finished());
}

TEST(H2EnginePair, ServerConnectionErrorMidSessionQueuesGoAway) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  // The agent may accept these bytes (nghttp2 only queues the GOAWAY) but
  // must end the session: GOAWAY(PROTOCOL_ERROR) out, then finished().
  (void)pair.agent.feed(bytes_of(kDataOnStreamZero));
  EXPECT_TRUE(pair.agent.wants_write());
  std::string out;
  pair.agent.drain_output(out);
  EXPECT_TRUE(pair.agent.finished());
  ASSERT_TRUE(pair.edge.feed(bytes_of(out)));
  ASSERT_EQ(pair.edge_events.goaways.size(), 1u);
  EXPECT_EQ(pair.edge_events.goaways.front(), static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_FALSE(pair.edge.open_stream(make_request("GET", "/"), true).has_value());
}

TEST(H2EnginePair, StreamLevelErrorIsNotAConnectionError) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  // RST_STREAM for a stream the client never opened (idle) is a connection
  // error; for a closed one it is not. Use a closed stream.
  auto client = *pair.edge.open_stream(make_request("GET", "/"), true);
  ASSERT_TRUE(pair.pump());
  ASSERT_TRUE(pair.agent.respond(*pair.agent_events.requests.at(0), make_response(204), true));
  ASSERT_TRUE(pair.pump());
  ASSERT_TRUE(closed_cleanly(*client));
  // RST_STREAM(stream 1, CANCEL) after the stream closed: must be tolerated.
  const std::string late_reset("\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08", 13);
  EXPECT_TRUE(pair.edge.feed(bytes_of(late_reset)).has_value()) << pair.edge.last_error();
  auto next = pair.edge.open_stream(make_request("GET", "/again"), true);
  ASSERT_TRUE(next.has_value());
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(pair.agent_events.requests.size(), 2u);
}

TEST(H2EnginePair, PingIsAcknowledged) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  pair.edge.submit_ping();
  EXPECT_TRUE(pair.edge.wants_write());
  EXPECT_EQ(pair.edge_events.ping_acks, 0);
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(pair.edge_events.ping_acks, 1);
  EXPECT_EQ(pair.agent_events.ping_acks, 0);

  pair.agent.submit_ping();
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(pair.agent_events.ping_acks, 1);
  EXPECT_EQ(pair.edge_events.ping_acks, 1);
}

TEST(H2EnginePair, ExtendedConnectCarriesProtocol) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());  // the client learns SETTINGS_ENABLE_CONNECT_PROTOCOL first
  RequestHead head = make_request("CONNECT", "/chat");
  head.protocol = "websocket";
  head.headers.push_back({"sec-websocket-version", "13"});
  auto client = *pair.edge.open_stream(head, /*end_stream=*/false);
  ASSERT_TRUE(pair.pump());

  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server = pair.agent_events.requests.front();
  auto request = parse_request(server->head);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->method, "CONNECT");
  EXPECT_EQ(request->protocol, "websocket");
  EXPECT_EQ(request->path, "/chat");
  EXPECT_EQ(request->authority, "app.example.test");
  EXPECT_EQ(header_value(request->headers, "sec-websocket-version"), "13");

  // The tunnel is open both ways.
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.edge.write_body(*client, "ping-frame"));
  ASSERT_TRUE(pair.agent.write_body(*server, "pong-frame"));
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(parse_response(client->head)->status, 200);
  EXPECT_EQ(take_body(pair.agent, *server), "ping-frame");
  EXPECT_EQ(take_body(pair.edge, *client), "pong-frame");
  EXPECT_FALSE(client->closed);
  EXPECT_FALSE(server->closed);
}

TEST(H2EnginePair, HundredConcurrentStreamsComplete) {
  constexpr int kStreams = 100;
  EnginePair pair;
  std::vector<std::shared_ptr<H2StreamState>> clients;
  for (int i = 0; i < kStreams; ++i) {
    auto opened = pair.edge.open_stream(make_request("GET", "/s/" + std::to_string(i)), true);
    ASSERT_TRUE(opened.has_value()) << i;
    clients.push_back(*opened);
  }
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), static_cast<std::size_t>(kStreams));
  EXPECT_EQ(pair.agent.open_streams(), static_cast<std::size_t>(kStreams));

  // Answer in reverse order, each with its own path as the body.
  for (auto it = pair.agent_events.requests.rbegin(); it != pair.agent_events.requests.rend();
       ++it) {
    auto& server = **it;
    const std::string path = parse_request(server.head)->path;
    ASSERT_TRUE(pair.agent.respond(server, make_response(200), false));
    ASSERT_TRUE(pair.agent.write_body(server, path + std::string(1000, '.')));
    ASSERT_TRUE(pair.agent.end_body(server, {}));
  }
  ASSERT_TRUE(pair.pump());
  for (int i = 0; i < kStreams; ++i) {
    auto& client = *clients[static_cast<std::size_t>(i)];
    EXPECT_EQ(take_body(pair.edge, client), "/s/" + std::to_string(i) + std::string(1000, '.'));
    EXPECT_TRUE(closed_cleanly(client));
  }
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_EQ(pair.agent.open_streams(), 0u);
  EXPECT_EQ(pair.edge_events.streams_closed, kStreams);
}

TEST(H2EnginePair, StreamsBeyondMaxConcurrentWaitTheirTurn) {
  H2Settings settings;
  settings.max_concurrent_streams = 4;
  EnginePair pair(settings);
  ASSERT_TRUE(pair.pump());  // the client learns the limit
  std::vector<std::shared_ptr<H2StreamState>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(*pair.edge.open_stream(make_request("GET", "/"), true));
  std::size_t answered = 0;
  for (int round = 0; round < 100 && answered < clients.size(); ++round) {
    ASSERT_TRUE(pair.pump());
    EXPECT_LE(pair.agent.open_streams(), 4u);
    for (; answered < pair.agent_events.requests.size(); ++answered) {
      ASSERT_TRUE(pair.agent.respond(*pair.agent_events.requests[answered], make_response(204), true));
    }
  }
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(answered, clients.size());
  for (auto& client : clients) EXPECT_TRUE(closed_cleanly(*client));
}

TEST(H2EnginePair, TerminateFailsOpenStreamsAndLaterDrainIsSafe) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  std::weak_ptr<H2StreamState> on_wire;   // HEADERS sent, more body queued
  std::weak_ptr<H2StreamState> unsent;    // HEADERS still queued
  std::shared_ptr<H2StreamState> kept;    // its owner outlives terminate()
  {
    auto a = *pair.edge.open_stream(make_request("POST", "/a"), false);
    ASSERT_TRUE(pair.edge.write_body(*a, std::string(1000, 'a')));
    ASSERT_TRUE(pair.pump());
    ASSERT_TRUE(pair.edge.write_body(*a, std::string(1000, 'A')));
    on_wire = a;
    auto b = *pair.edge.open_stream(make_request("POST", "/b"), false);
    ASSERT_TRUE(pair.edge.write_body(*b, std::string(1000, 'b')));
    unsent = b;
    kept = *pair.edge.open_stream(make_request("POST", "/c"), false);
    ASSERT_TRUE(pair.edge.write_body(*kept, std::string(1000, 'c')));
  }
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  auto server_a = pair.agent_events.requests.front();

  pair.edge.terminate(make_error_code(Error::ping_timeout));
  EXPECT_TRUE(on_wire.expired());
  EXPECT_TRUE(unsent.expired());
  EXPECT_TRUE(kept->closed);
  EXPECT_EQ(kept->engine, nullptr);
  EXPECT_EQ(kept->error, make_error_code(Error::ping_timeout));
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_FALSE(pair.edge.open_stream(make_request("GET", "/"), true).has_value());
  EXPECT_FALSE(pair.edge.write_body(*kept, "more").has_value());

  // A driver flushes what is pending after terminate(): this must not touch
  // freed stream state, and no terminated stream may complete at the agent.
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(server_a->closed);
  EXPECT_TRUE(server_a->error);
  for (const auto& server : pair.agent_events.requests) EXPECT_FALSE(server->body_ended);
  EXPECT_EQ(pair.agent.open_streams(), 0u);
}

}  // namespace
}  // namespace dialback::h2
