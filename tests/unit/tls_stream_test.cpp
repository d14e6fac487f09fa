// TlsStream on 127.0.0.1: bytes both ways (large enough for partial writes
// and full socket buffers), batched writes both ways at once, a busy reader
// still letting other work run, the errors asio::ssl::stream gives (eof
// after close_notify, stream_truncated without one), wait_readable, and a
// failed handshake failing rather than hanging.
#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "core/asio.hpp"
#include "tls/pki.hpp"
#include "tls/tls_context.hpp"
#include "tls/tls_stream.hpp"

namespace dialback {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(20);

PemPair must(PkiResult<PemPair> result) {
  if (!result) ADD_FAILURE() << result.error().message();
  return result ? std::move(*result) : PemPair{};
}

asio::ssl::context must(Result<asio::ssl::context> result) {
  if (!result) throw std::runtime_error(result.error().message());
  return std::move(*result);
}

Task<void> sleep_ms(int ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  error_code ignored;
  co_await timer.async_wait(nothrow(ignored));
}

class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = must(make_ca("Test CA"));
    const PemPair server = must(issue_certificate(ca_, {"localhost", {"localhost"}, {}}));
    server_ctx_.emplace(must(make_server_context(
        ServerTlsPem{server.cert_pem, server.key_pem, std::nullopt}, AlpnSet::agent_listener)));
  }

  asio::ssl::context client_context(const std::string& ca_pem) {
    return must(make_client_context(ClientTlsPem{ca_pem, std::nullopt, std::nullopt},
                                    AlpnSet::h2_transport_client));
  }

  // Connects client_ to server_ over loopback and runs both handshakes.
  Task<void> connect(asio::ssl::context& client_ctx) {
    auto executor = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.emplace(executor, client_ctx);
    EXPECT_TRUE(prepare_client_stream(client_->native_handle(), "localhost").has_value());
    const tcp::endpoint where = acceptor.local_endpoint();
    co_await client_->next_layer().async_connect(where, asio::use_awaitable);
    tcp::socket accepted = co_await acceptor.async_accept(asio::use_awaitable);
    server_.emplace(std::move(accepted), *server_ctx_);
    bool server_done = false;
    asio::co_spawn(executor, server_handshake(server_done), asio::detached);
    co_await client_->async_handshake(TlsStream::handshake_type::client, nothrow(client_ec_));
    if (client_ec_) client_->next_layer().close();  // lets the server side fail too
    while (!server_done) co_await sleep_ms(1);
  }

  Task<void> server_handshake(bool& done) {
    co_await server_->async_handshake(TlsStream::handshake_type::server, nothrow(server_ec_));
    if (server_ec_) server_->next_layer().close();
    done = true;
  }

  // Runs `task` on a fresh io_context until it ends or the deadline passes.
  void run(Task<void> task) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io_.run_for(kDeadline);
    ASSERT_TRUE(done) << "did not finish before the deadline";
    if (error) std::rethrow_exception(error);
  }

  asio::io_context io_;
  PemPair ca_;
  std::optional<asio::ssl::context> server_ctx_;
  std::optional<TlsStream> server_;
  std::optional<TlsStream> client_;
  error_code server_ec_;
  error_code client_ec_;
};

TEST_F(TlsStreamTest, CarriesBytesBothWays) {
  auto client_ctx = client_context(ca_.cert_pem);
  std::string up(3 << 20, 'u');  // more than the socket buffers: writes wait for room
  std::string down(1 << 20, 'd');
  std::string got_up(up.size(), '\0');
  std::string got_down(down.size(), '\0');
  run([&]() -> Task<void> {
    co_await connect(client_ctx);
    EXPECT_FALSE(client_ec_) << client_ec_.message();
    EXPECT_FALSE(server_ec_) << server_ec_.message();
    auto executor = co_await asio::this_coro::executor;
    bool uploaded = false;
    asio::co_spawn(
        executor,
        [&]() -> Task<void> {
          error_code ec;
          co_await asio::async_write(*client_, asio::buffer(up), nothrow(ec));
          EXPECT_FALSE(ec) << ec.message();
          uploaded = true;
        },
        asio::detached);
    error_code ec;
    co_await asio::async_read(*server_, asio::buffer(got_up), nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    co_await asio::async_write(*server_, asio::buffer(down), nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    co_await asio::async_read(*client_, asio::buffer(got_down), nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    while (!uploaded) co_await sleep_ms(1);
  }());
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
}

// Large writes are batched (several records per send) and may wait for
// room with a batch half sent: both sides writing and reading at once, with
// writes of every size around the record and batch limits, must deliver
// every byte in order and complete every write with its full count.
TEST_F(TlsStreamTest, BatchedWritesBothWaysAtOnceKeepOrder) {
  auto client_ctx = client_context(ca_.cert_pem);
  const auto pattern = [](std::size_t size, unsigned seed) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + seed) % 251);
    return bytes;
  };
  const std::string up = pattern(5 << 20, 7);
  const std::string down = pattern(5 << 20, 11);
  std::string got_up(up.size(), '\0');
  std::string got_down(down.size(), '\0');
  int writers_done = 0;
  // Writes of 1 B to 300 KB: single records, exactly one record, one
  // record and a byte, and more than one batch.
  const auto write_in_pieces = [](TlsStream& stream, const std::string& bytes,
                                  int& done) -> Task<void> {
    static constexpr std::size_t kSizes[] = {1, 16384, 16385, 70000, 300000, 1000, 65536};
    std::size_t offset = 0;
    for (std::size_t i = 0; offset < bytes.size(); ++i) {
      const std::size_t n = std::min(kSizes[i % std::size(kSizes)], bytes.size() - offset);
      error_code ec;
      const std::size_t written =
          co_await asio::async_write(stream, asio::buffer(bytes.data() + offset, n), nothrow(ec));
      EXPECT_FALSE(ec) << ec.message();
      EXPECT_EQ(written, n);
      if (ec) break;
      offset += n;
    }
    ++done;
  };
  run([&]() -> Task<void> {
    co_await connect(client_ctx);
    EXPECT_FALSE(client_ec_) << client_ec_.message();
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(executor, write_in_pieces(*client_, up, writers_done), asio::detached);
    asio::co_spawn(executor, write_in_pieces(*server_, down, writers_done), asio::detached);
    bool client_read = false;
    asio::co_spawn(
        executor,
        [&]() -> Task<void> {
          error_code ec;
          co_await asio::async_read(*client_, asio::buffer(got_down), nothrow(ec));
          EXPECT_FALSE(ec) << ec.message();
          client_read = true;
        },
        asio::detached);
    error_code ec;
    co_await asio::async_read(*server_, asio::buffer(got_up), nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    while (!client_read || writers_done < 2) co_await sleep_ms(1);
  }());
  EXPECT_EQ(writers_done, 2);
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
}

// A reader of a socket that always has bytes must still let other work run:
// reads complete inline only up to a budget, then through the event loop.
TEST_F(TlsStreamTest, ReaderOfABusySocketLetsOtherWorkRun) {
  auto client_ctx = client_context(ca_.cert_pem);
  const std::string data(192 << 10, 'x');
  constexpr std::size_t kWaiting = 96 << 10;
  static_assert(kWaiting > TlsStream::kInlineBudget + 16384);
  std::size_t read_before_other_work = 0;
  std::size_t total_read = 0;
  run([&]() -> Task<void> {
    co_await connect(client_ctx);
    error_code ec;
    co_await asio::async_write(*server_, asio::buffer(data), nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    // More than the budget waits in the client's socket (the rest in the
    // server's) before reading starts.
    const auto deadline = Clock::now() + kDeadline / 2;
    while (client_->next_layer().available() < kWaiting && Clock::now() < deadline) {
      co_await sleep_ms(1);
    }
    EXPECT_GE(client_->next_layer().available(), kWaiting);
    bool other_work_ran = false;
    asio::post(co_await asio::this_coro::executor, [&] {
      other_work_ran = true;
      read_before_other_work = total_read;
    });
    std::array<char, 16384> chunk;
    while (total_read < data.size()) {
      total_read += co_await client_->async_read_some(asio::buffer(chunk), nothrow(ec));
      if (ec) break;
    }
    EXPECT_TRUE(other_work_ran);
  }());
  EXPECT_EQ(total_read, data.size());
  // Before the reader took everything that was waiting.
  EXPECT_LT(read_before_other_work, kWaiting);
}

TEST_F(TlsStreamTest, CloseNotifyIsEofAndAbruptCloseIsTruncated) {
  auto client_ctx = client_context(ca_.cert_pem);
  error_code after_notify;
  error_code after_abort;
  run([&]() -> Task<void> {
    co_await connect(client_ctx);
    char byte = 0;
    error_code ignored;
    co_await client_->async_shutdown(nothrow(ignored));
    co_await server_->async_read_some(asio::buffer(&byte, 1), nothrow(after_notify));
    // A second connection whose client ends TCP without close_notify (a
    // FIN: closing the socket would be a reset, the server's session
    // tickets being unread).
    co_await connect(client_ctx);
    client_->next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    co_await server_->async_read_some(asio::buffer(&byte, 1), nothrow(after_abort));
  }());
  EXPECT_EQ(after_notify, asio::error::eof) << after_notify.message();
  EXPECT_EQ(after_abort, asio::ssl::error::stream_truncated) << after_abort.message();
}

TEST_F(TlsStreamTest, WaitReadableWaitsForBytesAndSeesBufferedOnes) {
  auto client_ctx = client_context(ca_.cert_pem);
  bool woke_early = true;
  std::size_t first = 0;
  std::size_t rest = 0;
  run([&]() -> Task<void> {
    co_await connect(client_ctx);
    auto executor = co_await asio::this_coro::executor;
    bool readable = false;
    asio::co_spawn(
        executor,
        [&]() -> Task<void> {
          error_code ec;
          co_await server_->async_wait_readable(nothrow(ec));
          EXPECT_FALSE(ec) << ec.message();
          readable = true;
        },
        asio::detached);
    co_await sleep_ms(100);
    woke_early = readable;  // nothing was sent yet
    const std::string hello = "hello";
    error_code ec;
    co_await asio::async_write(*client_, asio::buffer(hello), nothrow(ec));
    while (!readable) co_await sleep_ms(1);
    char buffer[8] = {};
    first = co_await server_->async_read_some(asio::buffer(buffer, 2), nothrow(ec));
    // Three bytes are left inside OpenSSL, none on the socket: still readable.
    co_await server_->async_wait_readable(nothrow(ec));
    EXPECT_FALSE(ec) << ec.message();
    rest = co_await server_->async_read_some(asio::buffer(buffer, sizeof buffer), nothrow(ec));
  }());
  EXPECT_FALSE(woke_early);
  EXPECT_EQ(first, 2u);
  EXPECT_EQ(rest, 3u);
}

TEST_F(TlsStreamTest, UntrustedServerFailsTheHandshake) {
  const PemPair other_ca = must(make_ca("Other CA"));
  auto client_ctx = client_context(other_ca.cert_pem);
  run(connect(client_ctx));
  EXPECT_TRUE(client_ec_);
  EXPECT_TRUE(server_ec_);
}

}  // namespace
}  // namespace dialback
