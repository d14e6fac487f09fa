// The DevTunnel-compatible front end (docs/devtunnel.md), driven by a
// client scripted from DevTunnel's wire: register, long-poll GET /data,
// answer with POST /data, close. The public side is a real HTTP client on
// the user's port; the requests take the edge's ordinary forwarding path.
#include <regex>

#include "tcp_service.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;

// DevTunnel's client, one call per wire request (each on a fresh connection).
class ScriptedDevTunnelClient {
 public:
  ScriptedDevTunnelClient(tcp::endpoint server, std::string user_id)
      : server_(server), user_id_(std::move(user_id)) {}

  Task<HttpResult> get(std::string path, Headers extra = {}) {
    extra.emplace_back("X-Tunnel-User-Id", user_id_);
    extra.emplace_back("X-Tunnel-Client-Version", "1");
    co_return co_await fetch(server_, make_request(http::verb::get, path, "dev.test", "", extra));
  }
  Task<HttpResult> post(std::string request_id, std::string raw_response) {
    Headers headers{{"X-Tunnel-User-Id", user_id_},
                    {"X-Tunnel-Request-Id", request_id},
                    {"Content-Type", "application/octet-stream"}};
    co_return co_await fetch(server_, make_request(http::verb::post, "/data", "dev.test",
                                                   std::move(raw_response), headers));
  }
  // Registers and returns the port the server names, 0 on failure.
  Task<std::uint16_t> register_port(std::optional<std::uint16_t> preferred = {}) {
    Headers extra;
    if (preferred) extra.emplace_back("X-Tunnel-Preferred-Port", std::to_string(*preferred));
    const HttpResult result = co_await get("/register", extra);
    if (result.status() != 200) co_return 0;
    co_return static_cast<std::uint16_t>(std::stoi(result.header("X-Tunnel-Server-Port")));
  }

 private:
  tcp::endpoint server_;
  std::string user_id_;
};

tcp::endpoint local(std::uint16_t port) { return {asio::ip::address_v4::loopback(), port}; }

class DevTunnelTest : public TunnelFixture {
 protected:
  void start_devtunnel_edge(std::uint16_t ports,
                            std::function<void(DevTunnelConfig&)> adjust = {}) {
    first_port_ = free_port_range(executor_, ports);
    EdgeOptions options;
    options.configure = [this, ports, adjust](EdgeConfig& config) {
      DevTunnelConfig dev;
      dev.listen = ListenAddress{"127.0.0.1", 0};
      dev.first_port = first_port_;
      dev.last_port = static_cast<std::uint16_t>(first_port_ + ports - 1);
      dev.bind = "127.0.0.1";
      dev.poll_timeout = 2s;
      if (adjust) adjust(dev);
      config.devtunnel = dev;
    };
    start_edge(options);
  }
  ScriptedDevTunnelClient client(std::string user_id) {
    return ScriptedDevTunnelClient(edge_->devtunnel_endpoint(), std::move(user_id));
  }
  std::uint16_t first_port_ = 0;
};

TEST_F(DevTunnelTest, RegisterServeRequestsAndClose) {
  start_devtunnel_edge(5);
  auto alice = client("alice@laptop:3001#123456");
  const HttpResult registered = run(alice.get("/register"));
  ASSERT_EQ(registered.status(), 200) << registered.response.body();
  const auto port =
      static_cast<std::uint16_t>(std::stoi(registered.header("X-Tunnel-Server-Port")));
  EXPECT_EQ(registered.response.body(), "server-port=" + std::to_string(port) + "\n");
  EXPECT_GE(port, first_port_);
  EXPECT_LE(port, first_port_ + 4);

  // A GET: the client receives it as raw HTTP/1.1 and answers without a length.
  auto public_get = spawn(fetch_get(local(port), "/hello?x=1", "anything.test"));
  HttpResult polled = run(alice.get("/data"));
  ASSERT_EQ(polled.status(), 200);
  EXPECT_EQ(polled.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(polled.header("X-Tunnel-Request"), "GET /hello?x=1 HTTP/1.1");
  const std::string raw = polled.response.body();
  EXPECT_TRUE(raw.starts_with("GET /hello?x=1 HTTP/1.1\r\n")) << raw;
  EXPECT_NE(raw.find("Connection: close\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Content-Length: 0\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("x-forwarded-for: 127.0.0.1\r\n"), std::string::npos) << raw;
  const std::string first_id = polled.header("X-Tunnel-Request-Id");
  EXPECT_TRUE(std::regex_match(first_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                                                    "[89ab][0-9a-f]{3}-[0-9a-f]{12}-1")))
      << first_id;
  // The POST answers, then waits as the next poll: a POST with a body arrives.
  auto public_post = spawn(fetch(
      local(port), make_request(http::verb::post, "/submit", "anything.test", "payload-123")));
  polled = run(alice.post(first_id, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"));
  ASSERT_TRUE(run_until([&] { return public_get->has_value(); }));
  const HttpResult& got = **public_get;
  EXPECT_EQ(got.status(), 200);
  EXPECT_EQ(got.response.body(), "hello");
  EXPECT_EQ(got.header("X-Tunnel-Request-Id"), first_id);
  EXPECT_EQ(got.header("X-Tunnel-Server-Port"), std::to_string(port));
  EXPECT_EQ(got.header("X-Tunnel-User-Id"), "alice@laptop:3001#123456");

  ASSERT_EQ(polled.status(), 200) << "the POST did not carry the next request";
  const std::string raw_post = polled.response.body();
  EXPECT_TRUE(raw_post.starts_with("POST /submit HTTP/1.1\r\n")) << raw_post;
  EXPECT_NE(raw_post.find("Content-Length: 11\r\n"), std::string::npos) << raw_post;
  EXPECT_TRUE(raw_post.ends_with("\r\n\r\npayload-123")) << raw_post;
  // The app answers chunked: the public caller gets the decoded body.
  const HttpResult after = run(alice.post(
      polled.header("X-Tunnel-Request-Id"),
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndone\r\n0\r\n\r\n"));
  EXPECT_EQ(after.status(), 204) << "the next poll found nothing";
  ASSERT_TRUE(run_until([&] { return public_post->has_value(); }));
  EXPECT_EQ((*public_post)->status(), 201);
  EXPECT_EQ((*public_post)->response.body(), "done");

  // Like any other request: in the access log under the DevTunnel tunnel.
  EXPECT_TRUE(run_until([&] { return logs_->count("tunnel=devtunnel") >= 2; }));
  EXPECT_GE(edge_->counters().requests, 2u);

  const HttpResult closed = run(alice.get("/close"));
  EXPECT_EQ(closed.status(), 200);
  EXPECT_EQ(closed.response.body(), "server-port-closed=" + std::to_string(port) + "\n");
  EXPECT_EQ(run(fetch_get(local(port), "/")).ec, asio::error::connection_refused);
  EXPECT_EQ(run(alice.get("/close")).status(), 404);
  EXPECT_EQ(run(alice.get("/data")).status(), 404);
}

TEST_F(DevTunnelTest, TheWireRefusesWhatItCannotServe) {
  start_devtunnel_edge(1);
  const auto server = edge_->devtunnel_endpoint();
  EXPECT_EQ(run(fetch(server, make_request(http::verb::get, "/data", "dev.test"))).status(), 400);
  HttpResult unknown = run(client("nobody").get("/data"));
  EXPECT_EQ(unknown.status(), 404);
  EXPECT_FALSE(unknown.header("X-Tunnel-Status").empty());
  EXPECT_EQ(run(client("nobody").get("/close")).response.body(), "server-port-closed=not-found\n");
  const HttpResult root = run(fetch(server, make_request(http::verb::get, "/", "dev.test")));
  EXPECT_EQ(root.status(), 302);
  EXPECT_EQ(root.header("Location"), "/status");

  auto odd = client("<b>bob</b>@host:80#1");
  ASSERT_NE(run(odd.register_port()), 0);
  const HttpResult status =
      run(fetch(server, make_request(http::verb::get, "/status", "dev.test")));
  EXPECT_EQ(status.status(), 200);
  EXPECT_NE(status.response.body().find("&lt;b&gt;bob&lt;/b&gt;@host:80#1"), std::string::npos);
  EXPECT_EQ(status.response.body().find("<b>bob"), std::string::npos);
  // An answer nobody waits for is dropped; the POST still polls.
  const HttpResult dropped = run(odd.post("no-such-id", "HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_EQ(dropped.status(), 204);
  EXPECT_NE(dropped.header("X-Tunnel-Status").find("answer dropped"), std::string::npos);

  // One port, held by an online user: the next user is refused.
  const HttpResult full = run(client("carol").get("/register"));
  EXPECT_EQ(full.status(), 500);
  EXPECT_EQ(full.response.body(), "No free ports available - all connections in use\n");
}

TEST_F(DevTunnelTest, AClientOutsideAllowIsRefused) {
  start_devtunnel_edge(1, [](DevTunnelConfig& dev) {
    dev.allow = {*IpNetwork::parse("10.0.0.0/8")};
  });
  const HttpResult refused = run(client("mallory").get("/register"));
  EXPECT_EQ(refused.status(), 403);
  EXPECT_EQ(edge_->devtunnel()->user_count(), 0u);
  EXPECT_TRUE(logs_->contains("devtunnel client 127.0.0.1:"));
}

// An edge that shuts down lets its DevTunnel users answer what they were
// handed (until the drain deadline) instead of failing it.
TEST_F(DevTunnelTest, AnEdgeDrainLetsHandedOutRequestsBeAnswered) {
  start_devtunnel_edge(1);
  auto kim = client("kim");
  const auto port = run(kim.register_port());
  ASSERT_NE(port, 0);
  auto pending = spawn(fetch_get(local(port), "/in-flight"));
  const HttpResult polled = run(kim.get("/data"));
  ASSERT_EQ(polled.status(), 200);
  // The answer leaves while the edge begins to shut down.
  auto answered = spawn(kim.post(polled.header("X-Tunnel-Request-Id"),
                                 "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nsafe"));
  stop_edge();
  ASSERT_TRUE(run_until([&] { return pending->has_value(); }));
  EXPECT_EQ((*pending)->status(), 200);
  EXPECT_EQ((*pending)->response.body(), "safe");
  EXPECT_TRUE(logs_->contains("devtunnel user kim"));
}

TEST_F(DevTunnelTest, APollWithNothingToDoAnswers204) {
  start_devtunnel_edge(1, [](DevTunnelConfig& dev) { dev.poll_timeout = 200ms; });
  auto dave = client("dave");
  ASSERT_NE(run(dave.register_port()), 0);
  const HttpResult polled = run(dave.get("/data"));
  EXPECT_EQ(polled.status(), 204);
  EXPECT_GE(polled.elapsed, 150ms);
}

TEST_F(DevTunnelTest, AnUnansweredRequestGets503Timeout) {
  start_devtunnel_edge(1, [](DevTunnelConfig& dev) { dev.request_timeout = 300ms; });
  auto erin = client("erin");
  const auto port = run(erin.register_port());
  ASSERT_NE(port, 0);
  auto waiting = spawn(fetch_get(local(port), "/slow"));
  ASSERT_EQ(run(erin.get("/data")).status(), 200);  // taken, never answered
  ASSERT_TRUE(run_until([&] { return waiting->has_value(); }));
  EXPECT_EQ((*waiting)->status(), 503);
  EXPECT_NE((*waiting)->response.body().find("TIMEOUT"), std::string::npos);
}

TEST_F(DevTunnelTest, AUserThatStoppedPollingIsOffline) {
  start_devtunnel_edge(1, [](DevTunnelConfig& dev) { dev.offline_after = 200ms; });
  auto frank = client("frank");
  const auto port = run(frank.register_port());
  ASSERT_NE(port, 0);
  auto waiting = spawn(fetch_get(local(port), "/queued"));  // queued while still online
  ASSERT_TRUE(run_until([&] { return waiting->has_value(); }));
  EXPECT_EQ((*waiting)->status(), 503);
  EXPECT_NE((*waiting)->response.body().find("OFFLINE"), std::string::npos);
  const HttpResult later = run(fetch_get(local(port), "/later"));
  EXPECT_EQ(later.status(), 503);
  EXPECT_LT(later.elapsed, 1s) << "an offline user's request must not wait";
}

TEST_F(DevTunnelTest, AFullQueueAnswers503Overflow) {
  start_devtunnel_edge(1, [](DevTunnelConfig& dev) { dev.queue = 1; });
  auto gina = client("gina");
  const auto port = run(gina.register_port());
  ASSERT_NE(port, 0);
  auto first = spawn(fetch_get(local(port), "/one"));
  ASSERT_TRUE(run_until([&] { return edge_->devtunnel()->waiting_requests() == 1; }));
  const HttpResult second = run(fetch_get(local(port), "/two"));
  EXPECT_EQ(second.status(), 503);
  EXPECT_NE(second.response.body().find("OVERFLOW"), std::string::npos);
  // The queued one is still served.
  HttpResult polled = run(gina.get("/data"));
  ASSERT_EQ(polled.status(), 200);
  EXPECT_EQ(polled.header("X-Tunnel-Request"), "GET /one HTTP/1.1");
  run(gina.post(polled.header("X-Tunnel-Request-Id"),
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
      5s);
  ASSERT_TRUE(run_until([&] { return first->has_value(); }));
  EXPECT_EQ((*first)->status(), 200);
}

TEST_F(DevTunnelTest, PortsFollowDevTunnelsRules) {
  start_devtunnel_edge(2, [](DevTunnelConfig& dev) {
    dev.offline_after = 300ms;
    dev.poll_timeout = 100ms;
  });
  const auto wanted = static_cast<std::uint16_t>(first_port_ + 1);
  auto henry = client("henry");
  EXPECT_EQ(run(henry.register_port(wanted)), wanted);
  // Registering again keeps the port and restarts the listener.
  EXPECT_EQ(run(henry.register_port()), wanted);
  EXPECT_TRUE(logs_->contains("devtunnel user henry registered"));
  auto ivy = client("ivy");
  const auto ivy_port = run(ivy.register_port(wanted));  // taken: the other one
  EXPECT_EQ(ivy_port, first_port_);
  // Full; once henry is offline (no poll for offline_after), his port goes
  // to the newcomer, and henry is told he is gone.
  auto jack = client("jack");
  EXPECT_EQ(run(jack.get("/register")).status(), 500);
  // Ivy keeps polling (each poll ends after poll_timeout) while henry does not.
  std::uint16_t jack_port = 0;
  for (int polls = 0; polls < 30 && jack_port == 0; ++polls) {
    EXPECT_EQ(run(ivy.get("/data")).status(), 204);
    jack_port = run(jack.register_port());
  }
  EXPECT_EQ(jack_port, wanted);
  EXPECT_EQ(run(henry.get("/data")).status(), 404);
  EXPECT_TRUE(logs_->contains("devtunnel user henry evicted"));
}

}  // namespace
}  // namespace dialback::test
