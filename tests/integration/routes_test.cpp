// Agent routes: several local services behind one tunnel, chosen by path
// prefix (longest wins, segment boundaries, path passed on unchanged), the
// agent's own 404 when no route matches, and the per-route Host rewrite.
#include <boost/beast/websocket.hpp>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class RoutesTest : public TunnelFixture {
 protected:
  // A local service mounted at `mount`, stopped by the fixture's TearDown.
  TestUpstream& add_service(std::string name, std::string mount) {
    auto& service = *extra_upstreams_.emplace_back(
        std::make_unique<TestUpstream>(executor_, std::move(name), std::move(mount)));
    service.start();
    return service;
  }

  static AgentRoute route(std::string prefix, const std::string& url, std::string host_rewrite = {}) {
    auto parsed = parse_upstream_url(url);
    if (!parsed) throw std::runtime_error("upstream url: " + parsed.error());
    return AgentRoute{std::move(prefix), *parsed, false, std::move(host_rewrite)};
  }
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST_F(RoutesTest, EachPrefixReachesItsOwnService) {
  auto& api = add_service("api", "/api");
  auto& v2 = add_service("api-v2", "/api/v2");
  start_edge();
  // Listed shortest first: the longest matching prefix wins regardless of order.
  start_agent({.routes = {route("/", upstream_->url()), route("/api", api.url()),
                          route("/api/v2", v2.url())}});
  ASSERT_TRUE(wait_ready(1));

  struct Expect {
    const char* target;
    int status;
    const char* service;  // X-Upstream of the service that answered
    const char* body;
  };
  // The services answer their endpoints only below their mount, so a 200
  // also proves the path arrived unchanged (the prefix was not stripped).
  const Expect cases[] = {
      {"/hello", 200, "primary", "hello"},
      {"/api/hello", 200, "api", "hello"},
      {"/api/v2/hello", 200, "api-v2", "hello"},
      {"/api/bytes?n=5", 200, "api", nullptr},
      {"/api?q=1", 404, "api", "no such test endpoint\n"},      // the prefix itself, with a query
      {"/apix/hello", 404, "primary", "no such test endpoint\n"},  // not a segment boundary
      {"/api/v2x/hello", 404, "api", "no such test endpoint\n"},   // ditto, one level down
  };
  for (const Expect& c : cases) {
    auto result = run(fetch_get(public_endpoint(), c.target));
    ASSERT_FALSE(result.ec) << c.target << ": " << result.ec.message();
    EXPECT_EQ(result.status(), c.status) << c.target;
    EXPECT_EQ(result.header("X-Upstream"), c.service) << c.target;
    if (c.body != nullptr) {
      EXPECT_EQ(result.response.body(), c.body) << c.target;
    }
  }
  EXPECT_EQ(upstream_->requests_seen(), 2u);
  EXPECT_EQ(api.requests_seen(), 4u);
  EXPECT_EQ(v2.requests_seen(), 1u);
}

TEST_F(RoutesTest, NoMatchingRouteIsTheAgents404AndTheConnectionStaysUsable) {
  auto& api = add_service("api", "/api");
  start_edge();
  start_agent({.routes = {route("/api", api.url())}});  // no catch-all "/"
  ASSERT_TRUE(wait_ready(1));

  PublicClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  // A body the agent never forwards: it is drained, not reset under the 404.
  auto upload = run(client.request(
      make_request(http::verb::post, "/other/path?secret=1", "app.test", pattern_bytes(20000))));
  ASSERT_FALSE(upload.ec) << upload.ec.message();
  EXPECT_EQ(upload.status(), 404);
  EXPECT_EQ(upload.header("Dialback-Error"), "404");
  EXPECT_EQ(upload.header("X-Upstream"), "");
  EXPECT_EQ(upload.response.body(), "dialback agent: no agent route matches the path /other/path\n");

  auto apix = run(client.request(make_request(http::verb::get, "/apix")));
  ASSERT_FALSE(apix.ec) << apix.ec.message();
  EXPECT_EQ(apix.status(), 404);
  EXPECT_EQ(apix.response.body(), "dialback agent: no agent route matches the path /apix\n");

  auto hello = run(client.request(make_request(http::verb::get, "/api/hello")));
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(hello.header("X-Upstream"), "api");
  EXPECT_TRUE(client.server_kept_open());
  client.close();
  EXPECT_EQ(api.requests_seen(), 1u);
  EXPECT_TRUE(logs_->contains("404 no agent route matches"));
}

TEST_F(RoutesTest, HostRewriteIsWhatTheServiceSeesAndTheForwardedHostStaysPublic) {
  auto& api = add_service("api", "/api");
  start_edge();
  start_agent({.routes = {route("/api", api.url(), "api.internal:8080"), route("/", upstream_->url())}});
  ASSERT_TRUE(wait_ready(1));

  auto rewritten = run(fetch_get(public_endpoint(), "/api/headers"));
  ASSERT_FALSE(rewritten.ec) << rewritten.ec.message();
  ASSERT_EQ(rewritten.status(), 200);
  const std::string& seen = rewritten.response.body();
  EXPECT_TRUE(has_line(seen, "host: api.internal:8080")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-host: app.test")) << seen;
  EXPECT_TRUE(has_line(seen, "forwarded: for=127.0.0.1;host=\"app.test\";proto=http")) << seen;
  EXPECT_FALSE(has_line(seen, "host: app.test")) << seen;

  // A route without a rewrite keeps the public Host.
  auto kept = run(fetch_get(public_endpoint(), "/headers"));
  ASSERT_FALSE(kept.ec) << kept.ec.message();
  ASSERT_EQ(kept.status(), 200);
  EXPECT_TRUE(has_line(kept.response.body(), "host: app.test")) << kept.response.body();
}

namespace websocket = beast::websocket;
using WsStream = websocket::stream<beast::tcp_stream>;

// Opens a WebSocket to `target` on the edge and sends one text message.
Task<error_code> open_and_send(WsStream* ws, tcp::endpoint edge, std::string target,
                               websocket::response_type* response) {
  error_code ec;
  co_await ws->next_layer().async_connect(edge, nothrow(ec));
  if (ec) co_return ec;
  co_await ws->async_handshake(*response, std::string(kHost), target, nothrow(ec));
  if (ec) co_return ec;
  ws->text(true);
  const std::string message = "ping";
  co_await ws->async_write(asio::buffer(message), nothrow(ec));
  co_return ec;
}

// Reads one message into `buffer`, then closes.
Task<error_code> read_and_close(WsStream* ws, beast::flat_buffer* buffer) {
  error_code ec;
  co_await ws->async_read(*buffer, nothrow(ec));
  if (ec) co_return ec;
  co_await ws->async_close(websocket::close_code::normal, nothrow(ec));
  co_return ec;
}

// An upgrade is routed like any request and gets the same Host rewrite.
TEST_F(RoutesTest, WebSocketUpgradeIsRoutedAndRewritten) {
  auto& api = add_service("api", "/api");
  start_edge();
  start_agent({.routes = {route("/api", api.url(), "api.internal"), route("/", upstream_->url())}});
  ASSERT_TRUE(wait_ready(1));

  WsStream ws(executor_);
  websocket::response_type response;
  const error_code opened = run(open_and_send(&ws, public_endpoint(), "/api/ws", &response));
  ASSERT_FALSE(opened) << opened.message();
  EXPECT_EQ(response.result_int(), 101u);
  EXPECT_EQ(response["X-Upstream"], "api");
  EXPECT_EQ(response["X-Seen-Host"], "api.internal");

  beast::flat_buffer buffer;
  const error_code closed = run(read_and_close(&ws, &buffer));
  ASSERT_FALSE(closed) << closed.message();
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "ping");
}

}  // namespace
}  // namespace dialback::test
