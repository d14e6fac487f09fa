// Large bodies both ways, with Content-Length and chunked uploads.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

constexpr std::size_t kMiB = 1u << 20;

class BodiesTest : public TransportMatrix {};

std::string hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kHex[n & 15]);
    n >>= 4;
  } while (n != 0);
  return out;
}

// A chunked POST written by hand, in chunks of uneven sizes.
std::string chunked_post(const std::string& target, const std::string& body) {
  std::string out = "POST " + target +
                    " HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n";
  std::size_t pos = 0;
  std::size_t step = 1;
  while (pos < body.size()) {
    const std::size_t n = std::min(body.size() - pos, step);
    out += hex(n) + "\r\n";
    out.append(body, pos, n);
    out += "\r\n";
    pos += n;
    step = step * 7 + 13;  // 1, 20, 153, ... up to large chunks
    if (step > 300'000) step = 4099;
  }
  out += "0\r\n\r\n";
  return out;
}

TEST_P(BodiesTest, OneMebibyteUploadWithContentLength) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  const std::string body = pattern_bytes(kMiB);

  auto result = run(fetch(public_endpoint(),
                          make_request(http::verb::post, "/sha256", "app.test", body)));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), sha256_hex(body));
}

TEST_P(BodiesTest, OneMebibyteChunkedUpload) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  const std::string body = pattern_bytes(kMiB);

  PublicClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  auto result = run(client.raw(chunked_post("/sha256", body)));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), sha256_hex(body));

  // Keep-alive after a chunked upload: a second one on the same connection.
  const std::string small = pattern_bytes(3000);
  auto again = run(client.raw(chunked_post("/echo", small)));
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_EQ(again.status(), 200);
  EXPECT_EQ(again.response.body(), small);
  client.close();
}

TEST_P(BodiesTest, OneMebibyteDownloadAndEcho) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  const std::string expected = pattern_bytes(kMiB);

  auto download = run(fetch_get(public_endpoint(), "/bytes?n=" + std::to_string(kMiB)));
  ASSERT_FALSE(download.ec) << download.ec.message();
  EXPECT_EQ(download.status(), 200);
  EXPECT_EQ(download.response.body().size(), kMiB);
  EXPECT_EQ(sha256_hex(download.response.body()), sha256_hex(expected));

  // 1 MiB up and 1 MiB down in one exchange.
  auto echo = run(fetch(public_endpoint(),
                        make_request(http::verb::put, "/echo", "app.test", expected)));
  ASSERT_FALSE(echo.ec) << echo.ec.message();
  EXPECT_EQ(echo.status(), 200);
  EXPECT_EQ(echo.response.body().size(), kMiB);
  EXPECT_EQ(sha256_hex(echo.response.body()), sha256_hex(expected));
}

INSTANTIATE_TEST_SUITE_P(Transports, BodiesTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test
