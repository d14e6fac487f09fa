#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/asio.hpp"
#include "tls/alpn.hpp"
#include "tls/certificate_names.hpp"
#include "tls/pki.hpp"
#include "tls/pki_files.hpp"
#include "tls/tls_context.hpp"

namespace dialback {
namespace {

using Kind = CertificateRequest::Kind;
constexpr auto kDeadline = std::chrono::seconds(20);

struct HandshakeResult {
  bool server_done = false;
  bool client_done = false;
  boost::system::error_code server_error;
  boost::system::error_code client_error;
  std::string server_alpn;
  std::string client_alpn;
  std::vector<std::string> server_sees;  // client certificate names, on the server
  std::vector<std::string> client_sees;  // server certificate names, on the client
  long client_verify_result = X509_V_OK;
};

// One TLS handshake over 127.0.0.1 between a server and a client context.
// Each side closes its socket when its handshake fails, so that the other
// side finishes too; the io_context runs until both are done or the deadline.
HandshakeResult run_handshake(asio::ssl::context& server_ctx, asio::ssl::context& client_ctx,
                              const std::string& server_name) {
  HandshakeResult r;
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ssl::stream<tcp::socket> server(io, server_ctx);
  asio::ssl::stream<tcp::socket> client(io, client_ctx);
  const auto prepared = prepare_client_stream(client, server_name);
  EXPECT_TRUE(prepared.has_value()) << prepared.error().message();

  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) {
      r.server_error = ec;
      r.server_done = true;
      return;
    }
    server.async_handshake(asio::ssl::stream_base::server, [&](boost::system::error_code ec) {
      r.server_error = ec;
      r.server_done = true;
      if (ec) {
        server.next_layer().close();
        return;
      }
      r.server_alpn = negotiated_alpn(server.native_handle());
      r.server_sees = peer_certificate_names(server.native_handle());
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) {
      r.client_error = ec;
      r.client_done = true;
      return;
    }
    client.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
      r.client_error = ec;
      r.client_done = true;
      r.client_verify_result = SSL_get_verify_result(client.native_handle());
      if (ec) {
        client.next_layer().close();
        return;
      }
      r.client_alpn = negotiated_alpn(client.native_handle());
      r.client_sees = peer_certificate_names(client.native_handle());
    });
  });
  io.run_for(kDeadline);
  EXPECT_TRUE(r.server_done) << "server handshake did not finish before the deadline";
  EXPECT_TRUE(r.client_done) << "client handshake did not finish before the deadline";
  return r;
}

template <class T>
T must(tl::expected<T, std::error_code> result) {
  if (!result) ADD_FAILURE() << result.error().message();
  return std::move(result.value());
}

PemPair must(PkiResult<PemPair> result) {
  if (!result) ADD_FAILURE() << result.error().message();
  return result ? std::move(*result) : PemPair{};
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = must(make_ca("Test CA"));
    other_ca_ = must(make_ca("Other CA"));
    server_ = must(issue_certificate(ca_, {"localhost", {"localhost"}, {"127.0.0.1"}}));
    agent_ = must(issue_certificate(ca_, {"agent-1", {}, {}, Kind::client}));
    intruder_ = must(issue_certificate(other_ca_, {"intruder", {}, {}, Kind::client}));
  }

  asio::ssl::context server_context(AlpnSet alpn, bool with_client_ca) {
    ServerTlsPem pem{server_.cert_pem, server_.key_pem, std::nullopt};
    if (with_client_ca) pem.client_ca_pem = ca_.cert_pem;
    return must(make_server_context(pem, alpn));
  }

  asio::ssl::context client_context(AlpnSet alpn, const PemPair* client_cert = nullptr) {
    ClientTlsPem pem{ca_.cert_pem, std::nullopt, std::nullopt};
    if (client_cert != nullptr) {
      pem.cert_pem = client_cert->cert_pem;
      pem.key_pem = client_cert->key_pem;
    }
    return must(make_client_context(pem, alpn));
  }

  PemPair ca_, other_ca_, server_, agent_, intruder_;
};

TEST_F(TlsTest, AgentListenerSelectsHttp11ForH2Transport) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::h2_transport_client);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.server_error) << r.server_error.message();
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_alpn, "http/1.1");
  EXPECT_EQ(r.client_alpn, "http/1.1");
  EXPECT_EQ(r.client_sees, std::vector<std::string>{"localhost"});
  EXPECT_TRUE(r.server_sees.empty());
}

TEST_F(TlsTest, AgentListenerSelectsH2ForRhttp) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::rhttp_client);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_alpn, "h2");
  EXPECT_EQ(r.client_alpn, "h2");
}

TEST_F(TlsTest, PublicHttpsPrefersH2OverClientOrder) {
  auto server = server_context(AlpnSet::public_https, false);
  auto client = client_context(AlpnSet::none);
  const unsigned char offer[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1', 2, 'h', '2'};
  ASSERT_EQ(SSL_CTX_set_alpn_protos(client.native_handle(), offer, sizeof offer), 0);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_alpn, "h2");
}

TEST_F(TlsTest, NoCommonAlpnContinuesWithout) {
  auto server = server_context(AlpnSet::public_https, false);
  auto client = client_context(AlpnSet::none);
  const unsigned char offer[] = {6, 's', 'p', 'd', 'y', '/', '3'};
  ASSERT_EQ(SSL_CTX_set_alpn_protos(client.native_handle(), offer, sizeof offer), 0);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.server_error) << r.server_error.message();
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_alpn, "");
  EXPECT_EQ(r.client_alpn, "");
}

TEST_F(TlsTest, ClientCertificateNamesVisibleOnServer) {
  auto server = server_context(AlpnSet::agent_listener, true);
  auto client = client_context(AlpnSet::rhttp_client, &agent_);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.server_error) << r.server_error.message();
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_sees, std::vector<std::string>{"agent-1"});
}

TEST_F(TlsTest, ClientWithoutCertificateStillConnects) {
  auto server = server_context(AlpnSet::agent_listener, true);
  auto client = client_context(AlpnSet::h2_transport_client);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.server_error) << r.server_error.message();
  ASSERT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_TRUE(r.server_sees.empty());
  EXPECT_EQ(r.server_alpn, "http/1.1");
}

TEST_F(TlsTest, ClientCertificateFromUnknownCaRefused) {
  auto server = server_context(AlpnSet::agent_listener, true);
  auto client = client_context(AlpnSet::rhttp_client, &intruder_);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  // With TLS 1.3 the client finishes first; the server must refuse.
  ASSERT_TRUE(r.server_error);
  EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(r.server_error.value())),
            SSL_R_CERTIFICATE_VERIFY_FAILED)
      << r.server_error.message();
  EXPECT_TRUE(r.server_sees.empty());
}

TEST_F(TlsTest, ClientCertificateIgnoredWithoutClientCa) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::rhttp_client, &agent_);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  ASSERT_FALSE(r.server_error) << r.server_error.message();
  EXPECT_TRUE(r.server_sees.empty());  // never requested, never trusted
}

TEST_F(TlsTest, WrongServerNameFailsVerification) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::h2_transport_client);
  const HandshakeResult r = run_handshake(server, client, "edge.example.test");
  EXPECT_TRUE(r.client_error);
  EXPECT_EQ(r.client_verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_TRUE(r.server_error);
}

TEST_F(TlsTest, IpLiteralVerifiedAgainstIpSan) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::h2_transport_client);
  const HandshakeResult ok = run_handshake(server, client, "127.0.0.1");
  EXPECT_FALSE(ok.client_error) << ok.client_error.message();

  // A certificate without the IP SAN is refused for the IP.
  const PemPair dns_only = must(issue_certificate(ca_, {"localhost", {}, {}}));
  auto strict = must(make_server_context(ServerTlsPem{dns_only.cert_pem, dns_only.key_pem, {}},
                                         AlpnSet::agent_listener));
  auto client2 = client_context(AlpnSet::h2_transport_client);
  const HandshakeResult refused = run_handshake(strict, client2, "127.0.0.1");
  EXPECT_TRUE(refused.client_error);
  EXPECT_EQ(refused.client_verify_result, X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(TlsTest, UntrustedServerRefused) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = must(make_client_context(ClientTlsPem{other_ca_.cert_pem, {}, {}},
                                         AlpnSet::h2_transport_client));
  const HandshakeResult r = run_handshake(server, client, "localhost");
  EXPECT_TRUE(r.client_error);
  EXPECT_EQ(r.client_verify_result, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST_F(TlsTest, Tls11ClientRefused) {
  auto server = server_context(AlpnSet::agent_listener, false);
  auto client = client_context(AlpnSet::h2_transport_client);
  SSL_CTX_set_min_proto_version(client.native_handle(), 0);
  SSL_CTX_set_max_proto_version(client.native_handle(), TLS1_1_VERSION);
  const HandshakeResult r = run_handshake(server, client, "localhost");
  EXPECT_TRUE(r.client_error);
  EXPECT_TRUE(r.server_error);
}

TEST_F(TlsTest, ContextErrors) {
  const auto mismatched = make_server_context(
      ServerTlsPem{server_.cert_pem, agent_.key_pem, {}}, AlpnSet::agent_listener);
  EXPECT_FALSE(mismatched.has_value());
  EXPECT_FALSE(make_server_context(ServerTlsPem{"not pem", server_.key_pem, {}},
                                   AlpnSet::agent_listener)
                   .has_value());
  EXPECT_FALSE(make_server_context(ServerTlsPem{server_.cert_pem, server_.key_pem, "not pem"},
                                   AlpnSet::agent_listener)
                   .has_value());

  const auto client_alpn_on_server = make_server_context(
      ServerTlsPem{server_.cert_pem, server_.key_pem, {}}, AlpnSet::rhttp_client);
  ASSERT_FALSE(client_alpn_on_server.has_value());
  EXPECT_EQ(client_alpn_on_server.error(), std::errc::invalid_argument);

  const auto server_alpn_on_client =
      make_client_context(ClientTlsPem{ca_.cert_pem, {}, {}}, AlpnSet::public_https);
  ASSERT_FALSE(server_alpn_on_client.has_value());
  EXPECT_EQ(server_alpn_on_client.error(), std::errc::invalid_argument);

  const auto cert_without_key = make_client_context(
      ClientTlsPem{ca_.cert_pem, agent_.cert_pem, std::nullopt}, AlpnSet::rhttp_client);
  ASSERT_FALSE(cert_without_key.has_value());
  EXPECT_EQ(cert_without_key.error(), std::errc::invalid_argument);

  const auto missing = make_server_context(
      ServerTlsFiles{"/nonexistent/dialback.crt", "/nonexistent/dialback.key", {}},
      AlpnSet::agent_listener);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);

  asio::io_context io;
  auto client = client_context(AlpnSet::h2_transport_client);
  asio::ssl::stream<tcp::socket> stream(io, client);
  EXPECT_FALSE(prepare_client_stream(stream, "").has_value());
}

// From files, the error names the input by its config key, and its file:
// the user learns which setting to fix and what is wrong with it.
TEST_F(TlsTest, FileErrorsNameTheKeyAndTheFile) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "dialback-tls-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  const std::string absent = (dir / "absent" / "x.pem").string();
  const std::string cert = (dir / "edge.crt").string();
  const std::string not_pem = (dir / "edge.key").string();
  const std::string other_key = (dir / "agent.key").string();
  std::ofstream(cert) << server_.cert_pem;
  std::ofstream(not_pem) << "not pem\n";
  std::ofstream(other_key) << agent_.key_pem;
  const std::string enoent = std::make_error_code(std::errc::no_such_file_or_directory).message();

  const auto no_cert =
      make_server_context(ServerTlsFiles{absent, not_pem, {}}, AlpnSet::agent_listener, "agents");
  ASSERT_FALSE(no_cert.has_value());
  EXPECT_EQ(no_cert.error().code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(no_cert.error().message(), "agents.cert: cannot read " + absent + ": " + enoent);

  const auto no_client_ca =
      make_server_context(ServerTlsFiles{cert, not_pem, absent}, AlpnSet::agent_listener, "agents");
  ASSERT_FALSE(no_client_ca.has_value());
  EXPECT_EQ(no_client_ca.error().message(),
            "agents.client_ca: cannot read " + absent + ": " + enoent);

  const auto bad_key =
      make_server_context(ServerTlsFiles{cert, not_pem, {}}, AlpnSet::public_https, "public.https");
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_TRUE(bad_key.error().message().starts_with("public.https.key: " + not_pem +
                                                    ": not a usable PEM private key ("))
      << bad_key.error().message();

  // No section: the agent's top-level keys.
  const auto no_ca = make_client_context(ClientTlsFiles{absent, {}, {}}, AlpnSet::rhttp_client, "");
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_EQ(no_ca.error().message(), "ca: cannot read " + absent + ": " + enoent);

  const auto bad_ca =
      make_client_context(ClientTlsFiles{not_pem, {}, {}}, AlpnSet::rhttp_client, "");
  ASSERT_FALSE(bad_ca.has_value());
  EXPECT_TRUE(
      bad_ca.error().message().starts_with("ca: " + not_pem + ": not a usable PEM CA bundle ("))
      << bad_ca.error().message();

  const auto mismatched =
      make_client_context(ClientTlsFiles{std::nullopt, cert, other_key}, AlpnSet::rhttp_client, "");
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_TRUE(mismatched.error().message().starts_with("key: " + other_key +
                                                       ": does not match the certificate ("))
      << mismatched.error().message();

  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The same handshake with every file written by pki_init / pki_issue.
TEST_F(TlsTest, ContextsFromPkiFiles) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "dialback-tls-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  ASSERT_TRUE(pki_init(dir).has_value());
  ASSERT_TRUE(pki_issue(dir, {"edge", {"localhost"}, {}}).has_value());
  ASSERT_TRUE(pki_issue(dir, {"agent-7", {}, {}, Kind::client}).has_value());

  auto server = must(make_server_context(
      ServerTlsFiles{(dir / "edge.crt").string(), (dir / "edge.key").string(),
                     (dir / "ca.crt").string()},
      AlpnSet::agent_listener));
  auto client = must(make_client_context(
      ClientTlsFiles{(dir / "ca.crt").string(), (dir / "agent-7.crt").string(),
                     (dir / "agent-7.key").string()},
      AlpnSet::rhttp_client));
  const HandshakeResult r = run_handshake(server, client, "localhost");
  EXPECT_FALSE(r.server_error) << r.server_error.message();
  EXPECT_FALSE(r.client_error) << r.client_error.message();
  EXPECT_EQ(r.server_sees, std::vector<std::string>{"agent-7"});
  EXPECT_EQ(r.client_sees, (std::vector<std::string>{"edge", "localhost"}));
  EXPECT_EQ(r.server_alpn, "h2");

  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace dialback
