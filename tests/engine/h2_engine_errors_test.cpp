// H2Engine pair tests: malformed input and connection errors, PING, extended
// CONNECT, concurrency limits and terminate().
#include "engine_pair.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::h2 {
namespace {

using namespace engine_test;

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
  auto request = parse_request_fields(server->head);
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
  EXPECT_EQ(parse_response_fields(client->head)->status, 200);
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
    const std::string path = parse_request_fields(server.head)->path;
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

// Rapid reset: the server counts streams the client reset before their
// response ended; past the budget it ends the session with ENHANCE_YOUR_CALM.
TEST(H2EnginePair, ResetFloodEndsTheSessionWithEnhanceYourCalm) {
  H2Settings settings;
  settings.peer_resets = RateLimit{/*rate=*/0.001, /*burst=*/3};
  EnginePair pair(settings);
  ASSERT_TRUE(pair.pump());
  // Each stream is opened on the wire first: nghttp2 sends no RST_STREAM for
  // a stream whose HEADERS are still queued.
  for (int i = 0; i < 3; ++i) {
    auto stream = *pair.edge.open_stream(make_request("GET", "/"), true);
    ASSERT_TRUE(pair.pump());
    pair.edge.reset(*stream, NGHTTP2_CANCEL);
    ASSERT_TRUE(pair.pump()) << "reset " << i << " is within the budget";
  }
  auto over = *pair.edge.open_stream(make_request("GET", "/"), true);
  ASSERT_TRUE(pair.pump());
  pair.edge.reset(*over, NGHTTP2_CANCEL);
  std::string to_agent;
  pair.edge.drain_output(to_agent);
  auto fed = pair.agent.feed(bytes_of(to_agent));
  ASSERT_FALSE(fed.has_value());
  EXPECT_NE(pair.agent.last_error().find("rapid reset"), std::string::npos)
      << pair.agent.last_error();
  std::string to_edge;
  pair.agent.drain_output(to_edge);
  (void)pair.edge.feed(bytes_of(to_edge));
  ASSERT_EQ(pair.edge_events.goaways.size(), 1u);
  EXPECT_EQ(pair.edge_events.goaways[0], static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
}

// Resets of streams whose response already ended cost nothing and are not counted.
TEST(H2EnginePair, ResetsAfterTheResponseAreNotCounted) {
  H2Settings settings;
  settings.peer_resets = RateLimit{0.001, 1};
  EnginePair pair(settings);
  ASSERT_TRUE(pair.pump());
  for (int i = 0; i < 5; ++i) {
    auto stream = *pair.edge.open_stream(make_request("POST", "/"), false);
    ASSERT_TRUE(pair.pump());
    auto& request = *pair.agent_events.requests.back();
    ASSERT_TRUE(pair.agent.respond(request, make_response(200), true));
    ASSERT_TRUE(pair.pump());
    pair.edge.reset(*stream, NGHTTP2_CANCEL);  // the request body never ended
    ASSERT_TRUE(pair.pump()) << "reset " << i;
  }
}

// Without a budget (the agent's engine) no number of resets ends the
// session: nghttp2's own reset limit (1000, then INTERNAL_ERROR) is off.
TEST(H2EnginePair, NoResetBudgetMeansNoLimit) {
  EnginePair pair;
  ASSERT_TRUE(pair.pump());
  for (int i = 0; i < 1500; ++i) {
    auto stream = *pair.edge.open_stream(make_request("GET", "/"), true);
    ASSERT_TRUE(pair.pump());
    pair.edge.reset(*stream, NGHTTP2_CANCEL);
  }
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(pair.agent_events.goaways.empty());
  EXPECT_TRUE(pair.edge_events.goaways.empty());
}

// Who ended a stream is kept: the peer's RST_STREAM is stream_reset, a
// reset this side asked for keeps its own reason, and a response head over
// the limit is header_limit (the stream is reset, nothing is relayed).
TEST(H2EnginePair, StreamErrorsSayWhoEndedTheStream) {
  H2Settings settings;
  settings.max_header_list_size = 4096;
  EnginePair pair(settings);
  ASSERT_TRUE(pair.pump());

  auto by_peer = *pair.edge.open_stream(make_request("GET", "/a"), true);
  ASSERT_TRUE(pair.pump());
  pair.agent.reset(*pair.agent_events.requests.back(), NGHTTP2_INTERNAL_ERROR);
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(by_peer->error, make_error_code(Error::stream_reset));
  EXPECT_EQ(pair.agent_events.requests.back()->error, make_error_code(Error::cancelled));

  auto too_large = *pair.edge.open_stream(make_request("GET", "/b"), true);
  ASSERT_TRUE(pair.pump());
  HeaderList big;
  for (int i = 0; i < 20; ++i)
    big.push_back({"x-filler-" + std::to_string(i), std::string(400, 'v')});
  ASSERT_TRUE(
      pair.agent.respond(*pair.agent_events.requests.back(), make_response(200, big), true));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(too_large->closed);
  EXPECT_FALSE(too_large->head_received);
  EXPECT_EQ(too_large->error, make_error_code(Error::header_limit));
}

// A HEADERS frame: GET / for a.test on `id`.
std::string headers_frame(std::uint32_t id, bool end_stream, bool trailers = false) {
  const std::string block = trailers ? std::string("\x00\x01x\x01y", 5)
                                     : std::string(
                                           "\x82\x86\x84\x01\x06"
                                           "a.test",
                                           11);
  std::string frame;
  frame += static_cast<char>(0);
  frame += static_cast<char>(block.size() >> 8);
  frame += static_cast<char>(block.size() & 0xff);
  frame += static_cast<char>(NGHTTP2_HEADERS);
  frame += static_cast<char>(NGHTTP2_FLAG_END_HEADERS | (end_stream ? NGHTTP2_FLAG_END_STREAM : 0));
  for (int shift = 24; shift >= 0; shift -= 8) frame += static_cast<char>((id >> shift) & 0xff);
  return frame + block;
}

const std::string kEmptySettings("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);

// RFC 9113 §5.1.1: a stream id lower than one already opened is a
// connection error. nghttp2 ignores such a HEADERS frame; strict engines
// (the edge's public HTTP/2) refuse it, fed whole or a byte at a time.
TEST(H2EnginePair, StrictServerRefusesDecreasingStreamIds) {
  const std::string wire = std::string(kClientPreface) + kEmptySettings + headers_frame(5, true) +
                           headers_frame(3, true);
  for (std::size_t piece : {wire.size(), std::size_t{1}, std::size_t{7}}) {
    H2Settings settings;
    settings.strict = true;
    Recorder events;
    H2Engine server(Role::server, PrefaceMode::standard, settings, events);
    auto fed = feed_in_pieces(server, wire, piece);
    ASSERT_FALSE(fed.has_value()) << "piece " << piece;
    EXPECT_NE(server.last_error().find("5.1.1"), std::string::npos) << server.last_error();
    EXPECT_EQ(events.requests.size(), 1u);  // stream 5 only
    std::string out;
    server.drain_output(out);
    auto types = frame_types(out);
    EXPECT_NE(std::find(types.begin(), types.end(), NGHTTP2_GOAWAY), types.end());
  }
  Recorder lenient_events;
  H2Engine lenient(Role::server, PrefaceMode::standard, {}, lenient_events);
  EXPECT_TRUE(lenient.feed(bytes_of(wire)).has_value()) << lenient.last_error();
}

// Trailers on an open stream with a lower id than the newest are fine.
TEST(H2EnginePair, StrictServerAcceptsTrailersOnAnOlderStream) {
  const std::string wire = std::string(kClientPreface) + kEmptySettings + headers_frame(3, false) +
                           headers_frame(5, true) + headers_frame(3, true, /*trailers=*/true);
  H2Settings settings;
  settings.strict = true;
  Recorder events;
  H2Engine server(Role::server, PrefaceMode::standard, settings, events);
  ASSERT_TRUE(server.feed(bytes_of(wire)).has_value()) << server.last_error();
  ASSERT_EQ(events.requests.size(), 2u);
  EXPECT_TRUE(events.requests[0]->body_ended);
  EXPECT_EQ(events.requests[0]->trailers.size(), 1u);
}

}  // namespace
}  // namespace dialback::h2
