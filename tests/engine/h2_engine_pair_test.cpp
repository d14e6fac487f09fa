// H2Engine pair tests: round trips, bodies and flow control, trailers, resets,
// GOAWAY and the reversed (rhttp) preface.
#include "engine_pair.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::h2 {
namespace {

using namespace engine_test;

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
  auto request = parse_request_fields(server->head);
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
  auto response = parse_response_fields(client->head);
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
  EXPECT_EQ(parse_response_fields(client->head)->status, 204);
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
  EXPECT_FALSE(pair.agent.go_away_confirmed());
  ASSERT_TRUE(pair.pump());
  // The notice, then the edge's ACK of the PING behind it.
  ASSERT_EQ(pair.edge_events.goaways.size(), 1u);
  EXPECT_EQ(pair.edge_events.goaways.front(), static_cast<std::uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_TRUE(pair.edge.going_away());
  EXPECT_TRUE(pair.agent.go_away_confirmed());
  EXPECT_EQ(pair.agent_events.go_away_confirmed, 1);
  EXPECT_EQ(pair.agent_events.ping_acks, 0) << "the notice's PING is not a liveness PING";

  auto refused = pair.edge.open_stream(make_request("GET", "/new"), true);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), make_error_code(Error::stream_refused));

  pair.agent.finish_go_away();
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.agent.write_body(*server, "done"));
  ASSERT_TRUE(pair.agent.end_body(*server, {}));
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(pair.edge_events.goaways.size(), 2u) << "the final GOAWAY";
  EXPECT_EQ(take_body(pair.edge, *in_flight), "done");
  EXPECT_TRUE(closed_cleanly(*in_flight));
  EXPECT_EQ(pair.agent_events.requests.size(), 1u);
  // Drained: neither side will read or write again.
  EXPECT_TRUE(pair.edge.finished());
  EXPECT_TRUE(pair.agent.finished());
}

TEST(H2EnginePair, GoAwayCrossingANewStreamStillServesIt) {
  EnginePair pair;
  auto first = *pair.edge.open_stream(make_request("GET", "/first"), true);
  ASSERT_TRUE(pair.pump());
  auto server = pair.agent_events.requests.at(0);
  // The notice and HEADERS for stream 3 cross on the wire: with a single
  // GOAWAY(last=1) stream 3 would be refused and its request fail.
  pair.agent.go_away();
  auto second = *pair.edge.open_stream(make_request("GET", "/second"), true);
  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 2u) << "stream 3 arrived before the confirmation";
  EXPECT_FALSE(second->closed);
  EXPECT_TRUE(pair.agent.go_away_confirmed());
  pair.agent.finish_go_away();

  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), true));
  ASSERT_TRUE(pair.agent.respond(*pair.agent_events.requests.at(1), make_response(200), true));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(closed_cleanly(*first));
  EXPECT_TRUE(closed_cleanly(*second));
  EXPECT_EQ(pair.agent.open_streams(), 0u);
  EXPECT_EQ(pair.edge.open_streams(), 0u);
  EXPECT_TRUE(pair.agent.finished());
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
  EXPECT_EQ(parse_request_fields(server->head)->path, "/rhttp");
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200), false));
  ASSERT_TRUE(pair.agent.write_body(*server, "reversed"));
  ASSERT_TRUE(pair.agent.end_body(*server, {}));
  ASSERT_TRUE(pair.pump());
  EXPECT_EQ(parse_response_fields(client->head)->status, 200);
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

}  // namespace
}  // namespace dialback::h2
