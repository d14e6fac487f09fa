// The reversed-HTTP/3 engines (src/transport/quic) wired to each other in
// memory: handshake and registration stream, request streams opened by the
// edge (ids 1, 5, 9, ... through the id ^ 1 shim), bodies both ways under
// loss, duplication and reordering, the agent's stream limit, resets,
// GOAWAY, 1xx, trailers and the idle timeout.
#include <cstring>

#include <gtest/gtest.h>

#include "quic_pair.hpp"
#include "tunnel/pseudo_headers.hpp"

namespace dialback::quic::test {
namespace {

RequestHead get(std::string path) {
  RequestHead head;
  head.method = "GET";
  head.scheme = "https";
  head.authority = "app.example.test";
  head.path = std::move(path);
  return head;
}

std::string pattern(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return out;
}

// Takes every queued body chunk of `stream`, as a reader would, giving the
// flow-control credit back.
void read_body(QuicEngine& engine, H3StreamState& stream, std::string& into) {
  while (!stream.body.empty()) {
    std::string chunk = std::move(stream.body.front());
    stream.body.pop_front();
    if (stream.engine != nullptr) engine.consume(stream, chunk.size());
    into += chunk;
  }
}

// Connects and runs the registration exchange: "hello" from the agent, "ok" back.
void connect(QuicPair& pair) {
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.handshake && pair.edge.handshake; }));
  ASSERT_TRUE(pair.agent.engine->send_registration("hello", true).has_value());
  ASSERT_TRUE(pair.run_until([&] { return pair.edge.registration_fin; }));
  EXPECT_EQ(pair.edge.registration, "hello");
  ASSERT_TRUE(pair.edge.engine->send_registration("ok", true).has_value());
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.registration_fin; }));
  EXPECT_EQ(pair.agent.registration, "ok");
}

TEST(QuicEngine, HandshakeAndRegistrationStream) {
  QuicPair pair;
  connect(pair);
  EXPECT_FALSE(pair.edge.cids.empty()) << "the edge announced its connection ids";
  EXPECT_EQ(negotiated_alpn(pair.agent.engine->tls()), kAlpnDialbackH3);
}

TEST(QuicEngine, EdgeOpensServerInitiatedStreamsTheAgentAnswers) {
  QuicPair pair;
  connect(pair);
  std::vector<std::shared_ptr<H3StreamState>> opened;
  for (int i = 0; i < 3; ++i) {
    auto stream = pair.edge.engine->open_stream(get("/" + std::to_string(i)), true);
    ASSERT_TRUE(stream.has_value());
    opened.push_back(*stream);
  }
  EXPECT_EQ(opened[0]->id, 1);  // server-initiated bidirectional ids
  EXPECT_EQ(opened[1]->id, 5);
  EXPECT_EQ(opened[2]->id, 9);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 3; }));
  for (std::size_t i = 0; i < 3; ++i) {
    auto& request = *pair.agent.requests[i];
    auto head = parse_request_fields(request.head);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->path, "/" + std::to_string(i));
    EXPECT_EQ(head->authority, "app.example.test");
    EXPECT_TRUE(request.body_ended);
    ResponseHead ok{200, {{"x-n", std::to_string(i)}}};
    ASSERT_TRUE(pair.agent.engine->respond(request, ok, false).has_value());
    ASSERT_TRUE(pair.agent.engine->write_body(request, "body " + std::to_string(i)).has_value());
    ASSERT_TRUE(pair.agent.engine->end_body(request, {}).has_value());
  }
  ASSERT_TRUE(pair.run_until([&] {
    return std::all_of(opened.begin(), opened.end(), [](auto& s) { return s->body_ended; });
  }));
  for (std::size_t i = 0; i < 3; ++i) {
    auto head = parse_response_fields(opened[i]->head);
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    std::string body;
    read_body(*pair.edge.engine, *opened[i], body);
    EXPECT_EQ(body, "body " + std::to_string(i));
  }
  ASSERT_TRUE(pair.run_until([&] { return pair.edge.engine->open_streams() == 0; }));
}

// Bodies both ways under a lossy link; `link` varies.
void exchange_bodies(LinkProfile link, std::size_t up, std::size_t down) {
  QuicEngineSettings settings;
  settings.stream_window = 256u << 10;  // several windows' worth each way
  settings.connection_window = 512u << 10;
  QuicPair pair(link, settings);
  connect(pair);
  auto opened = pair.edge.engine->open_stream(get("/upload"), false);
  ASSERT_TRUE(opened.has_value());
  auto& edge_stream = **opened;
  const std::string upload = pattern(up, 3);
  const std::string download = pattern(down, 5);
  std::size_t sent_up = 0;
  std::size_t sent_down = 0;
  std::string received_up;
  std::string received_down;
  const auto& settings_now = pair.edge.engine->settings();
  auto progress = [&] {
    // The edge writes while its send buffer has room, as a handle does.
    while (sent_up < upload.size() && edge_stream.out_queued() < settings_now.stream_send_buffer) {
      const std::size_t n = std::min<std::size_t>(16384, upload.size() - sent_up);
      EXPECT_TRUE(pair.edge.engine->write_body(edge_stream, {upload.data() + sent_up, n}));
      sent_up += n;
      if (sent_up == upload.size()) {
        EXPECT_TRUE(pair.edge.engine->end_body(edge_stream, {{"x-up", "done"}}));
      }
    }
    if (!pair.agent.requests.empty()) {
      auto& agent_stream = *pair.agent.requests[0];
      read_body(*pair.agent.engine, agent_stream, received_up);
      if (sent_down == 0 && agent_stream.out.empty() && !agent_stream.has_provider) {
        EXPECT_TRUE(pair.agent.engine->respond(agent_stream, {200, {}}, false));
      }
      while (sent_down < download.size() &&
             agent_stream.out_queued() < settings_now.stream_send_buffer) {
        const std::size_t n = std::min<std::size_t>(16384, download.size() - sent_down);
        EXPECT_TRUE(pair.agent.engine->write_body(agent_stream, {download.data() + sent_down, n}));
        sent_down += n;
        if (sent_down == download.size()) {
          EXPECT_TRUE(pair.agent.engine->end_body(agent_stream, {{"x-down", "done"}}));
        }
      }
    }
    read_body(*pair.edge.engine, edge_stream, received_down);
    return edge_stream.body_ended && received_down.size() == download.size() &&
           received_up.size() == upload.size() && pair.agent.requests[0]->body_ended;
  };
  ASSERT_TRUE(pair.run_until(progress, std::chrono::minutes(10)))
      << "up " << received_up.size() << "/" << upload.size() << ", down " << received_down.size()
      << "/" << download.size();
  EXPECT_TRUE(received_up == upload);
  EXPECT_TRUE(received_down == download);
  EXPECT_EQ(find_header(pair.agent.requests[0]->trailers, "x-up").value_or(""), "done");
  EXPECT_EQ(find_header(edge_stream.trailers, "x-down").value_or(""), "done");
  EXPECT_FALSE(edge_stream.error);
}

TEST(QuicEngine, BodiesBothWaysOnACleanLink) { exchange_bodies({}, 1u << 20, 4u << 20); }

TEST(QuicEngine, BodiesBothWaysUnderLossDuplicationAndReordering) {
  for (std::uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    exchange_bodies({.delay = std::chrono::milliseconds(10),
                     .loss = 0.05,
                     .duplicate = 0.02,
                     .reorder = 0.05,
                     .seed = seed},
                    512u << 10, 2u << 20);
  }
}

// Many exchanges at once under loss, each response head with fields of its
// own: QPACK's dynamic table makes header blocks wait for encoder
// instructions that a loss delayed, so streams complete after QUIC closed
// them (nghttp3 still delivers them). Every response arrives whole.
TEST(QuicEngine, ManyExchangesUnderLossWithQpackBlockedStreams) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(seed);
    QuicPair pair({.delay = std::chrono::milliseconds(10),
                   .loss = 0.1,
                   .duplicate = 0.01,
                   .reorder = 0.1,
                   .seed = seed});
    connect(pair);
    constexpr int kStreams = 60;
    std::vector<std::shared_ptr<H3StreamState>> opened;
    std::size_t answered = 0;
    int next = 0;
    auto progress = [&] {
      // Keep up to 20 streams open, as a busy edge does.
      while (next < kStreams && pair.edge.engine->open_streams() < 20) {
        RequestHead head = get("/item/" + std::to_string(next));
        head.headers.push_back({"x-request", "value-" + std::to_string(next)});
        auto stream = pair.edge.engine->open_stream(head, true);
        EXPECT_TRUE(stream.has_value());
        if (!stream) return true;
        opened.push_back(*stream);
        ++next;
      }
      for (; answered < pair.agent.requests.size(); ++answered) {
        auto& request = *pair.agent.requests[answered];
        const std::string n = std::to_string(answered);
        ResponseHead ok{200,
                        {{"etag", "\"" + n + "\""},
                         {"last-modified", "Sun, 06 Dec 2026 20:" + n + ":00 GMT"},
                         {"content-type", "text/plain; n=" + n}}};
        EXPECT_TRUE(pair.agent.engine->respond(request, ok, false));
        EXPECT_TRUE(pair.agent.engine->write_body(request, pattern(1024, answered)));
        EXPECT_TRUE(pair.agent.engine->end_body(request, {}));
      }
      return next == kStreams && std::all_of(opened.begin(), opened.end(),
                                             [](auto& s) { return s->body_ended || s->closed; });
    };
    ASSERT_TRUE(pair.run_until(progress, std::chrono::minutes(5)));
    for (std::size_t i = 0; i < opened.size(); ++i) {
      auto& stream = *opened[i];
      EXPECT_FALSE(stream.error) << i << ": " << stream.error.message();
      auto head = parse_response_fields(stream.head);
      ASSERT_TRUE(head.has_value()) << i;
      EXPECT_EQ(head->status, 200);
      std::string body;
      read_body(*pair.edge.engine, stream, body);
      EXPECT_EQ(body.size(), 1024u) << i;
    }
  }
}

TEST(QuicEngine, TheAgentsStreamLimitRisesAsStreamsClose) {
  QuicEngineSettings settings;
  settings.max_streams = 4;
  QuicPair pair({}, settings);
  connect(pair);
  std::vector<std::shared_ptr<H3StreamState>> opened;
  for (int i = 0; i < 4; ++i) {
    auto stream = pair.edge.engine->open_stream(get("/"), true);
    ASSERT_TRUE(stream.has_value());
    opened.push_back(*stream);
  }
  EXPECT_FALSE(pair.edge.engine->can_open_stream());
  auto refused = pair.edge.engine->open_stream(get("/"), true);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), Error::stream_refused);
  // Answering every stream lets the edge open as many again, twice over.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 4u * (round + 1); }));
    for (std::size_t i = 4u * round; i < pair.agent.requests.size(); ++i) {
      ASSERT_TRUE(pair.agent.engine->respond(*pair.agent.requests[i], {204, {}}, true));
    }
    ASSERT_TRUE(pair.run_until([&] { return pair.edge.engine->can_open_stream(); }));
    if (round == 2) break;
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(pair.edge.engine->open_stream(get("/"), true).has_value()) << round << " " << i;
    }
  }
}

TEST(QuicEngine, ResetsReachThePeer) {
  QuicPair pair;
  connect(pair);
  auto first = *pair.edge.engine->open_stream(get("/a"), false);
  auto second = *pair.edge.engine->open_stream(get("/b"), false);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 2; }));
  // The edge gives up on the first (a public client left).
  pair.edge.engine->reset(*first, kH3RequestCancelled);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests[0]->closed; }));
  EXPECT_EQ(pair.agent.requests[0]->error, Error::stream_reset);
  // The agent refuses the second.
  pair.agent.engine->reset(*pair.agent.requests[1], kH3RequestRejected);
  ASSERT_TRUE(pair.run_until([&] { return second->closed; }));
  EXPECT_EQ(second->error, Error::stream_refused);
  // The connection carries on.
  auto third = pair.edge.engine->open_stream(get("/c"), true);
  ASSERT_TRUE(third.has_value());
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 3; }));
}

TEST(QuicEngine, InformationalHeadsPrecedeTheFinalOne) {
  QuicPair pair;
  connect(pair);
  auto stream = *pair.edge.engine->open_stream(get("/hints"), true);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 1; }));
  auto& request = *pair.agent.requests[0];
  ASSERT_TRUE(pair.agent.engine->respond_informational(request, {103, {{"link", "</a.css>"}}}));
  ASSERT_TRUE(pair.agent.engine->respond(request, {200, {}}, true));
  ASSERT_TRUE(pair.run_until([&] { return stream->head_received; }));
  ASSERT_EQ(stream->informational.size(), 1u);
  EXPECT_EQ(parse_response_fields(stream->informational.front())->status, 103);
  EXPECT_EQ(parse_response_fields(stream->head)->status, 200);
}

TEST(QuicEngine, GoawayFromTheAgentStopsNewStreams) {
  QuicPair pair;
  connect(pair);
  auto open = *pair.edge.engine->open_stream(get("/long"), true);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 1; }));
  pair.agent.engine->go_away();
  ASSERT_TRUE(pair.run_until([&] { return pair.edge.goaways == 1; }));
  EXPECT_FALSE(pair.edge.engine->can_open_stream());
  EXPECT_EQ(pair.edge.engine->open_stream(get("/"), true).error(), Error::stream_refused);
  // The stream in flight still completes.
  ASSERT_TRUE(pair.agent.engine->respond(*pair.agent.requests[0], {200, {}}, true));
  ASSERT_TRUE(pair.run_until([&] { return open->head_received; }));
  EXPECT_FALSE(open->error);
}

TEST(QuicEngine, CloseCarriesTheApplicationErrorAndFailsOpenStreams) {
  QuicPair pair;
  connect(pair);
  auto open = *pair.edge.engine->open_stream(get("/"), true);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 1; }));
  pair.edge.engine->close(0x2, "unauthorized", make_error_code(Error::unauthorized));
  EXPECT_TRUE(open->closed);
  EXPECT_EQ(open->error, Error::unauthorized);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.engine->finished(); }));
  ASSERT_TRUE(pair.agent.engine->peer_close().has_value());
  EXPECT_EQ(pair.agent.engine->peer_close()->first, 0x2u);
  EXPECT_EQ(pair.agent.engine->peer_close()->second, "unauthorized");
  EXPECT_TRUE(pair.agent.requests[0]->closed);
}

TEST(QuicEngine, SilenceEndsTheConnectionAtTheIdleTimeout) {
  QuicEngineSettings settings;
  settings.idle_timeout = std::chrono::seconds(2);
  settings.keep_alive = std::chrono::milliseconds(500);
  QuicPair pair({}, settings);
  connect(pair);
  // Keep-alive holds an idle connection open well past the idle timeout.
  EXPECT_FALSE(
      pair.run_until([&] { return pair.agent.engine->finished(); }, std::chrono::seconds(10)));
  // A link that drops everything does not.
  pair.link().loss = 1.0;
  ASSERT_TRUE(
      pair.run_until([&] { return pair.agent.engine->finished() && pair.edge.engine->finished(); },
                     std::chrono::seconds(30)));
  EXPECT_EQ(pair.agent.engine->end_reason(), Error::ping_timeout);
}

TEST(QuicEngine, TheSessionSurvivesTheAgentsAddressChanging) {
  QuicPair pair({.delay = std::chrono::milliseconds(5)});
  connect(pair);
  auto stream = *pair.edge.engine->open_stream(get("/download"), true);
  ASSERT_TRUE(pair.run_until([&] { return pair.agent.requests.size() == 1; }));
  auto& request = *pair.agent.requests[0];
  ASSERT_TRUE(pair.agent.engine->respond(request, {200, {}}, false));
  const std::string body = pattern(2u << 20, 9);
  std::size_t sent = 0;
  std::string received;
  bool moved = false;
  ASSERT_TRUE(pair.run_until([&] {
    while (sent < body.size() && request.out_queued() < (256u << 10)) {
      const std::size_t n = std::min<std::size_t>(16384, body.size() - sent);
      EXPECT_TRUE(pair.agent.engine->write_body(request, {body.data() + sent, n}));
      sent += n;
      if (sent == body.size()) EXPECT_TRUE(pair.agent.engine->end_body(request, {}));
    }
    if (!moved && sent > body.size() / 2) {
      pair.rebind_nat(40001);  // NAT rebinding: the edge sees a new port
      moved = true;
    }
    read_body(*pair.edge.engine, *stream, received);
    return stream->body_ended && received.size() == body.size();
  }));
  EXPECT_TRUE(received == body);
  EXPECT_FALSE(stream->error);
  // The edge answers the new address now (it validated the new path).
  const ngtcp2_addr& remote = ngtcp2_conn_get_path(pair.edge.engine->native())->remote;
  udp::endpoint seen;
  std::memcpy(seen.data(), remote.addr, remote.addrlen);
  EXPECT_EQ(seen.port(), 40001);
}

}  // namespace
}  // namespace dialback::quic::test
