// Raw TCP tunnels (docs/protocol.md §13): a connection to one of a tunnel's
// tcp ports becomes a plain CONNECT stream, which the agent relays to its
// tcp target. Bytes both ways, half-close in each direction, over every
// transport; refusals (no session, no target, target down), the idle
// timeout and the PROXY v2 header.
#include <functional>

#include "tcp_service_fixture.hpp"

namespace dialback::test {
namespace {

// Reads until EOF, answers "echo:" + everything read, closes.
Task<void> echo_after_eof(tcp::socket socket) {
  ReadAll got = co_await read_all(socket);
  if (got.ec != asio::error::eof) co_return;
  co_await write_all(socket, "echo:" + got.data);
}

std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return out;
}

class RawTcpTest : public TcpServiceFixture {
 protected:
  // The edge with tunnel web also on a raw TCP port (any free one).
  edge::Edge& start_tcp_edge(std::chrono::milliseconds idle = std::chrono::hours(1)) {
    EdgeOptions options;
    options.configure = [idle](EdgeConfig& config) {
      config.tunnels[0].tcp = {ListenAddress{"127.0.0.1", 0}};
      config.tunnels[0].tcp_idle_timeout = idle;
    };
    return start_edge(options);
  }

  tcp::endpoint tcp_port() const { return edge_->tcp_endpoints().at(0); }

  AgentOptions tcp_agent(std::uint16_t target, ProxyProtocol proxy = ProxyProtocol::none) {
    AgentOptions options;
    options.tcp = AgentTcpTarget{ListenAddress{"127.0.0.1", target}, proxy};
    return options;
  }

  // Connects to the tunnel's port and reads until the edge closes: what a
  // refused connection sees (nothing, then EOF).
  ReadAll refused_connection() {
    tcp::socket client(executor_);
    EXPECT_FALSE(run(connect(client, tcp_port())));
    return run(read_all(client), 10s);
  }
};

class RawTcpTransports : public RawTcpTest, public ::testing::WithParamInterface<AgentTransport> {
 protected:
  RawTcpTransports() { default_transport_ = GetParam(); }
};

// The client sends 1 MiB and shuts its side down; the service sees EOF,
// answers, and closes; the client reads the answer to EOF.
TEST_P(RawTcpTransports, ClientHalfCloseReachesTheServiceWhichStillAnswers) {
  auto& service = add_service(echo_after_eof);
  start_tcp_edge();
  start_agent(tcp_agent(service.port()));
  ASSERT_TRUE(wait_ready(1));

  const std::string sent = pattern(1 << 20);
  tcp::socket client(executor_);
  ASSERT_FALSE(run(connect(client, tcp_port())));
  ASSERT_FALSE(run(write_all(client, sent), 10s));
  client.shutdown(tcp::socket::shutdown_send);
  const ReadAll got = run(read_all(client), 10s);
  EXPECT_EQ(got.ec, asio::error::eof);
  EXPECT_EQ(got.data.size(), sent.size() + 5);
  EXPECT_TRUE(got.data == "echo:" + sent) << "bytes changed on the way";
  EXPECT_TRUE(run_until([&] { return logs_->contains("\"CONNECT 127.0.0.1:"); }));
  EXPECT_TRUE(logs_->contains("up=" + std::to_string(sent.size()) +
                              " down=" + std::to_string(sent.size() + 5)));
}

// The service speaks first and shuts its side down; the client sees EOF
// while its own side is open, then sends, and the service still gets it.
TEST_P(RawTcpTransports, ServiceHalfCloseReachesTheClientWhichStillSends) {
  auto received = std::make_shared<std::optional<ReadAll>>();
  auto& service = add_service([received](tcp::socket socket) -> Task<void> {
    co_await write_all(socket, "banner\n");
    socket.shutdown(tcp::socket::shutdown_send);
    *received = co_await read_all(socket);
  });
  start_tcp_edge();
  start_agent(tcp_agent(service.port()));
  ASSERT_TRUE(wait_ready(1));

  tcp::socket client(executor_);
  ASSERT_FALSE(run(connect(client, tcp_port())));
  const ReadAll banner = run(read_all(client), 10s);
  EXPECT_EQ(banner.ec, asio::error::eof);
  EXPECT_EQ(banner.data, "banner\n");
  ASSERT_FALSE(run(write_all(client, "sent after the service's EOF")));
  client.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until([&] { return received->has_value(); }, 10s));
  EXPECT_EQ((*received)->ec, asio::error::eof);
  EXPECT_EQ((*received)->data, "sent after the service's EOF");
}

INSTANTIATE_TEST_SUITE_P(Transports, RawTcpTransports, AllTransports(), TransportName);

TEST_F(RawTcpTest, WithoutASessionTheConnectionIsClosed) {
  start_tcp_edge();
  const ReadAll got = refused_connection();
  EXPECT_TRUE(got.data.empty());
  EXPECT_TRUE(run_until([&] { return logs_->contains(" 503 0B "); }));
  EXPECT_TRUE(logs_->contains("no-session"));
}

TEST_F(RawTcpTest, AnAgentWithoutATcpTargetRefusesWith501) {
  start_tcp_edge();
  start_agent();  // HTTP routes only
  ASSERT_TRUE(wait_ready(1));
  const ReadAll got = refused_connection();
  EXPECT_TRUE(got.data.empty());
  EXPECT_TRUE(run_until([&] { return logs_->contains(" 501 0B "); }));
  EXPECT_TRUE(logs_->contains("this agent has no tcp target"));
}

TEST_F(RawTcpTest, AnUnreachableTargetIs502AndTheConnectionClosed) {
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor probe(executor_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed_port = probe.local_endpoint().port();
  }
  start_tcp_edge();
  start_agent(tcp_agent(closed_port));
  ASSERT_TRUE(wait_ready(1));
  const ReadAll got = refused_connection();
  EXPECT_TRUE(got.data.empty());
  EXPECT_TRUE(run_until([&] { return logs_->contains(" 502 0B "); }));
  EXPECT_TRUE(logs_->contains("cannot connect to 127.0.0.1:" + std::to_string(closed_port)));
}

TEST_F(RawTcpTest, AConnectionThatMovesNothingIsClosedAfterTheIdleTimeout) {
  auto service_saw = std::make_shared<std::optional<ReadAll>>();
  auto& service = add_service([service_saw](tcp::socket socket) -> Task<void> {
    *service_saw = co_await read_all(socket);
  });
  start_tcp_edge(300ms);
  start_agent(tcp_agent(service.port()));
  ASSERT_TRUE(wait_ready(1));

  tcp::socket client(executor_);
  ASSERT_FALSE(run(connect(client, tcp_port())));
  ASSERT_FALSE(run(write_all(client, "one byte moves, then nothing")));
  const auto started = Clock::now();
  const ReadAll got = run(read_all(client), 10s);
  EXPECT_GE(Clock::now() - started, 250ms);
  EXPECT_TRUE(got.data.empty());
  EXPECT_NE(got.ec, error_code{});
  // The service's side is cut too, not left open.
  ASSERT_TRUE(run_until([&] { return service_saw->has_value(); }, 10s));
  EXPECT_EQ((*service_saw)->data, "one byte moves, then nothing");
}

TEST_F(RawTcpTest, ProxyProtocolV2NamesThePublicClientAndPort) {
  auto header = std::make_shared<std::string>();
  auto& service = add_service([header](tcp::socket socket) -> Task<void> {
    ReadAll all = co_await read_all(socket);
    *header = all.data;
  });
  start_tcp_edge();
  start_agent(tcp_agent(service.port(), ProxyProtocol::v2));
  ASSERT_TRUE(wait_ready(1));

  tcp::socket client(executor_);
  ASSERT_FALSE(run(connect(client, tcp_port())));
  const std::uint16_t client_port = client.local_endpoint().port();
  ASSERT_FALSE(run(write_all(client, "payload")));
  client.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(run_until([&] { return !header->empty(); }, 10s));

  const std::string signature("\r\n\r\n\0\r\nQUIT\n", 12);
  ASSERT_EQ(header->size(), 16u + 12u + 7u);
  EXPECT_EQ(header->substr(0, 12), signature);
  EXPECT_EQ(static_cast<unsigned char>((*header)[12]), 0x21);  // v2, PROXY
  EXPECT_EQ(static_cast<unsigned char>((*header)[13]), 0x11);  // TCP over IPv4
  EXPECT_EQ(header->substr(14, 2), std::string("\0\x0c", 2));  // 12 address bytes
  EXPECT_EQ(header->substr(16, 4), std::string("\x7f\0\0\x01", 4));
  EXPECT_EQ(header->substr(20, 4), std::string("\x7f\0\0\x01", 4));
  auto port_at = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>((*header)[at]) << 8 |
                                      static_cast<unsigned char>((*header)[at + 1]));
  };
  EXPECT_EQ(port_at(24), client_port);
  EXPECT_EQ(port_at(26), tcp_port().port());
  EXPECT_EQ(header->substr(28), "payload");
}

}  // namespace
}  // namespace dialback::test
