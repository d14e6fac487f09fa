// H2Engine reuses the state of a closed stream for a new one, but only once
// no handle holds it, and a reused state carries nothing of the old stream.
#include "engine_pair.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::h2 {
namespace {

using namespace engine_test;

// One GET answered with `body` and a trailer; the client reads it to the end.
void round_trip(EnginePair& pair, std::shared_ptr<H2StreamState>& client,
                std::shared_ptr<H2StreamState>& server, const std::string& path,
                const std::string& body) {
  auto opened = pair.edge.open_stream(make_request("GET", path), /*end_stream=*/true);
  ASSERT_TRUE(opened.has_value());
  client = *opened;
  ASSERT_TRUE(pair.pump());
  ASSERT_FALSE(pair.agent_events.requests.empty());
  server = pair.agent_events.requests.back();
  pair.agent_events.requests.clear();
  EXPECT_EQ(parse_request_fields(server->head)->path, path);
  ASSERT_TRUE(pair.agent.respond(*server, make_response(200, {{"x-path", path}}), false));
  ASSERT_TRUE(pair.agent.write_body(*server, body));
  ASSERT_TRUE(pair.agent.end_body(*server, {{"x-trailer", path}}));
  ASSERT_TRUE(pair.pump());
  ASSERT_TRUE(closed_cleanly(*client));
  ASSERT_TRUE(closed_cleanly(*server));
}

TEST(H2EngineReuse, ReleasedStateIsReusedAndStartsClean) {
  EnginePair pair;
  std::shared_ptr<H2StreamState> client;
  std::shared_ptr<H2StreamState> server;
  ASSERT_NO_FATAL_FAILURE(round_trip(pair, client, server, "/first", "first body"));
  // The client leaves its body unread: a reused state must not show it.
  const H2StreamState* old_client = client.get();
  const H2StreamState* old_server = server.get();
  client.reset();
  server.reset();

  auto opened = pair.edge.open_stream(make_request("GET", "/second"), /*end_stream=*/true);
  ASSERT_TRUE(opened.has_value());
  client = *opened;
  EXPECT_EQ(client.get(), old_client) << "the released state was not reused";
  EXPECT_EQ(client->id, 3);
  EXPECT_EQ(client->engine, &pair.edge);
  EXPECT_EQ(client->waiter, nullptr);
  EXPECT_FALSE(client->head_received);
  EXPECT_TRUE(client->head.empty());
  EXPECT_TRUE(client->body.empty());
  EXPECT_EQ(client->body_queued, 0u);
  EXPECT_FALSE(client->body_ended);
  EXPECT_TRUE(client->trailers.empty());
  EXPECT_FALSE(client->closed);
  EXPECT_FALSE(client->error);

  ASSERT_TRUE(pair.pump());
  ASSERT_EQ(pair.agent_events.requests.size(), 1u);
  server = pair.agent_events.requests.front();
  EXPECT_EQ(server.get(), old_server);
  EXPECT_EQ(parse_request_fields(server->head)->path, "/second");
  EXPECT_EQ(server->out_queued(), 0u);
  EXPECT_FALSE(server->out_ended);
  EXPECT_TRUE(server->out_trailers.empty());

  ASSERT_TRUE(pair.agent.respond(*server, make_response(204), /*end_stream=*/true));
  ASSERT_TRUE(pair.pump());
  EXPECT_TRUE(closed_cleanly(*client));
  auto response = parse_response_fields(client->head);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 204);
  EXPECT_EQ(header_value(response->headers, "x-path"), "<absent>");
  EXPECT_TRUE(client->body.empty());
  EXPECT_TRUE(client->trailers.empty());
}

TEST(H2EngineReuse, StateStillHeldIsNeverReused) {
  EnginePair pair;
  std::shared_ptr<H2StreamState> client;
  std::shared_ptr<H2StreamState> server;
  ASSERT_NO_FATAL_FAILURE(round_trip(pair, client, server, "/held", "still mine"));
  std::shared_ptr<H2StreamState> other_client;
  std::shared_ptr<H2StreamState> other_server;
  ASSERT_NO_FATAL_FAILURE(round_trip(pair, other_client, other_server, "/other", "other body"));
  EXPECT_NE(other_client, client);
  EXPECT_NE(other_server, server);
  // The held stream is untouched: its body and trailers are still there to read.
  EXPECT_EQ(take_body(pair.edge, *client), "still mine");
  EXPECT_EQ(header_value(client->trailers, "x-trailer"), "/held");
  EXPECT_EQ(take_body(pair.edge, *other_client), "other body");
}

TEST(H2EngineReuse, LargeBuffersAreNotKept) {
  EnginePair pair;
  RequestHead upload = make_request("POST", "/upload");
  for (int i = 0; i < 40; ++i) upload.headers.push_back({"x-field-" + std::to_string(i), "v"});
  auto client = *pair.edge.open_stream(upload, /*end_stream=*/false);
  ASSERT_TRUE(pair.edge.write_body(*client, pattern_bytes(100u << 10)));  // before any is sent
  ASSERT_TRUE(pair.edge.end_body(*client, {}));
  ASSERT_GT(client->out.capacity(), H2StreamState::kKeptSendBuffer);
  ASSERT_TRUE(pair.pump());
  auto server = pair.agent_events.requests.at(0);
  pair.agent_events.requests.clear();
  ASSERT_GT(server->receiving.capacity(), H2StreamState::kKeptHeaderFields);
  for (int round = 0; round < 100 && !server->body_ended; ++round) {
    take_body(pair.agent, *server);
    ASSERT_TRUE(pair.pump());
  }
  ASSERT_TRUE(server->body_ended);
  ASSERT_TRUE(pair.agent.respond(*server, make_response(204), /*end_stream=*/true));
  ASSERT_TRUE(pair.pump());
  ASSERT_TRUE(closed_cleanly(*client));
  const H2StreamState* old_client = client.get();
  const H2StreamState* old_server = server.get();
  client.reset();
  server.reset();

  client = *pair.edge.open_stream(make_request("GET", "/next"), /*end_stream=*/true);
  ASSERT_EQ(client.get(), old_client);
  EXPECT_LE(client->out.capacity(), H2StreamState::kKeptSendBuffer);
  ASSERT_TRUE(pair.pump());
  server = pair.agent_events.requests.at(0);
  ASSERT_EQ(server.get(), old_server);
  EXPECT_LE(server->receiving.capacity(), H2StreamState::kKeptHeaderFields);
}

TEST(H2EngineReuse, ManyRoundTripsStayCorrect) {
  EnginePair pair;
  for (int i = 0; i < 200; ++i) {
    std::shared_ptr<H2StreamState> client;
    std::shared_ptr<H2StreamState> server;
    const std::string path = "/n/" + std::to_string(i);
    const std::string body(static_cast<std::size_t>(i) * 97, static_cast<char>('a' + i % 26));
    ASSERT_NO_FATAL_FAILURE(round_trip(pair, client, server, path, body));
    ASSERT_EQ(take_body(pair.edge, *client), body) << i;
    ASSERT_EQ(header_value(client->trailers, "x-trailer"), path) << i;
    ASSERT_EQ(header_value(parse_response_fields(client->head)->headers, "x-path"), path) << i;
  }
}

}  // namespace
}  // namespace dialback::h2
