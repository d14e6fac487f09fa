#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "tls/certificate_names.hpp"
#include "tls/file_io.hpp"
#include "tls/openssl_handles.hpp"
#include "tls/pki.hpp"
#include "tls/pki_files.hpp"

namespace dialback {
namespace {

namespace fs = std::filesystem;

X509Ptr parse_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

EvpPkeyPtr parse_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string common_name(X509* cert) {
  char buffer[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof buffer);
  return buffer;
}

int validity_days(X509* cert) {
  int days = 0;
  int seconds = 0;
  EXPECT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)),
            1);
  return days;
}

// Verifies `leaf` against `ca` for the given purpose (X509_PURPOSE_SSL_SERVER/CLIENT).
int verify_chain(X509* ca, X509* leaf, int purpose) {
  std::unique_ptr<X509_STORE, OpenSslDeleter<&X509_STORE_free>> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<&X509_STORE_CTX_free>> ctx(X509_STORE_CTX_new());
  X509_STORE_add_cert(store.get(), ca);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

void expect_p256(const std::string& key_pem, X509* cert) {
  EvpPkeyPtr key = parse_key(key_pem);
  ASSERT_TRUE(key);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  char group[64] = {};
  EXPECT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof group, nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(cert, key.get()), 1);
}

PemPair must(PkiResult<PemPair> result) {
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message());
  return result ? std::move(*result) : PemPair{};
}

TEST(Pki, MakeCa) {
  const PemPair ca = must(make_ca("Test Root"));
  X509Ptr cert = parse_cert(ca.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(common_name(cert.get()), "Test Root");
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);  // self-signed
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_NEAR(validity_days(cert.get()), 3650, 1);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  expect_p256(ca.key_pem, cert.get());

  EvpPkeyPtr pub(X509_get_pubkey(cert.get()));
  EXPECT_EQ(X509_verify(cert.get(), pub.get()), 1);
}

TEST(Pki, SerialsAreRandom128Bit) {
  const PemPair a = must(make_ca("A"));
  const PemPair b = must(make_ca("A"));
  X509Ptr ca = parse_cert(a.cert_pem);
  X509Ptr cb = parse_cert(b.cert_pem);
  ASSERT_TRUE(ca && cb);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()), X509_get0_serialNumber(cb.get())),
            0);
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca.get()), nullptr));
  EXPECT_LE(BN_num_bits(serial.get()), 128);
  EXPECT_GT(BN_num_bits(serial.get()), 64);  // fails with probability 2^-64
  EXPECT_FALSE(BN_is_negative(serial.get()));
}

TEST(Pki, IssueServerCertificate) {
  const PemPair ca = must(make_ca("Test Root"));
  CertificateRequest request{"edge", {"edge.example.test", "*.tunnels.example.test"},
                             {"127.0.0.1", "::1"}, CertificateRequest::Kind::server};
  const PemPair leaf = must(issue_certificate(ca, request));
  X509Ptr ca_cert = parse_cert(ca.cert_pem);
  X509Ptr cert = parse_cert(leaf.cert_pem);
  ASSERT_TRUE(cert && ca_cert);

  EXPECT_EQ(common_name(cert.get()), "edge");
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_check_host(cert.get(), "edge.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "a.tunnels.example.test", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  const uint32_t eku = X509_get_extended_key_usage(cert.get());
  EXPECT_TRUE(eku & XKU_SSL_SERVER);
  EXPECT_FALSE(eku & XKU_SSL_CLIENT);
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_NEAR(validity_days(cert.get()), 825, 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_cert.get())),
            0);
  EXPECT_EQ(verify_chain(ca_cert.get(), cert.get(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_NE(verify_chain(ca_cert.get(), cert.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  expect_p256(leaf.key_pem, cert.get());
  EXPECT_EQ(certificate_names(cert.get()),
            (std::vector<std::string>{"edge", "edge.example.test", "*.tunnels.example.test"}));
}

TEST(Pki, ServerDefaultsToNameAsDnsAndMovesIpLiterals) {
  const PemPair ca = must(make_ca("Test Root"));
  X509Ptr plain = parse_cert(must(issue_certificate(ca, {"localhost", {}, {}})).cert_pem);
  ASSERT_TRUE(plain);
  EXPECT_EQ(X509_check_host(plain.get(), "localhost", 0, 0, nullptr), 1);

  X509Ptr ip = parse_cert(must(issue_certificate(ca, {"edge", {"10.1.2.3"}, {}})).cert_pem);
  ASSERT_TRUE(ip);
  EXPECT_EQ(X509_check_ip_asc(ip.get(), "10.1.2.3", 0), 1);
  EXPECT_NE(X509_check_host(ip.get(), "edge", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr),
            1);  // explicit SANs only
}

TEST(Pki, IssueClientCertificate) {
  const PemPair ca = must(make_ca("Test Root"));
  CertificateRequest request{"agent-1", {}, {}, CertificateRequest::Kind::client, 30};
  const PemPair leaf = must(issue_certificate(ca, request));
  X509Ptr ca_cert = parse_cert(ca.cert_pem);
  X509Ptr cert = parse_cert(leaf.cert_pem);
  ASSERT_TRUE(cert && ca_cert);
  EXPECT_EQ(common_name(cert.get()), "agent-1");
  EXPECT_EQ(X509_check_host(cert.get(), "agent-1", 0, 0, nullptr), 1);
  const uint32_t eku = X509_get_extended_key_usage(cert.get());
  EXPECT_TRUE(eku & XKU_SSL_CLIENT);
  EXPECT_FALSE(eku & XKU_SSL_SERVER);
  EXPECT_NEAR(validity_days(cert.get()), 30, 1);
  EXPECT_EQ(verify_chain(ca_cert.get(), cert.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(certificate_names(cert.get()), std::vector<std::string>{"agent-1"});
}

TEST(Pki, RejectsInvalidRequests) {
  const PemPair ca = must(make_ca("Test Root"));
  using Kind = CertificateRequest::Kind;
  const std::vector<CertificateRequest> bad = {
      {"", {}, {}, Kind::server},
      {std::string(65, 'a'), {}, {}, Kind::server},
      {"edge", {"a.example,DNS:evil.example"}, {}, Kind::server},
      {"edge", {"bad..name"}, {}, Kind::server},
      {"edge", {"*"}, {}, Kind::server},
      {"edge", {}, {"300.1.1.1"}, Kind::server},
      {"edge", {}, {}, Kind::server, 0},
      {"edge", {}, {}, Kind::server, 40000},
      {"has space", {}, {}, Kind::client},
      {"has space", {}, {}, Kind::server},  // no SANs given and not a DNS name
  };
  for (const CertificateRequest& request : bad) {
    auto result = issue_certificate(ca, request);
    ASSERT_FALSE(result.has_value()) << request.name;
    EXPECT_EQ(result.error().code, std::errc::invalid_argument) << result.error().message();
    EXPECT_FALSE(result.error().message().empty());
  }
  EXPECT_FALSE(make_ca("").has_value());
}

TEST(Pki, RejectsBrokenCa) {
  const PemPair ca = must(make_ca("Root A"));
  const PemPair other = must(make_ca("Root B"));
  const PemPair leaf = must(issue_certificate(ca, {"edge", {}, {}}));
  const CertificateRequest request{"x", {}, {}};

  auto mismatched = issue_certificate(PemPair{ca.cert_pem, other.key_pem}, request);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_NE(mismatched.error().message().find("does not match"), std::string::npos);

  auto not_a_ca = issue_certificate(leaf, request);
  ASSERT_FALSE(not_a_ca.has_value());
  EXPECT_NE(not_a_ca.error().message().find("not a certificate authority"), std::string::npos);

  EXPECT_FALSE(issue_certificate(PemPair{"garbage", ca.key_pem}, request).has_value());
  EXPECT_FALSE(issue_certificate(PemPair{ca.cert_pem, "garbage"}, request).has_value());
}

class PkiFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dialback-pki-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ / "pki";  // does not exist yet: pki_init creates it
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static mode_t mode_of(const fs::path& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
  }

  fs::path root_;
  fs::path dir_;
};

TEST_F(PkiFilesTest, InitCreatesCaFiles) {
  auto paths = pki_init(dir_);
  ASSERT_TRUE(paths.has_value()) << paths.error().message();
  EXPECT_EQ(paths->cert, dir_ / "ca.crt");
  EXPECT_EQ(paths->key, dir_ / "ca.key");
  EXPECT_EQ(mode_of(dir_ / "ca.key"), 0600u);
  EXPECT_EQ(mode_of(dir_ / "ca.crt"), 0644u);
  EXPECT_EQ(mode_of(dir_), 0700u);
  auto cert = read_small_file(dir_ / "ca.crt");
  ASSERT_TRUE(cert.has_value());
  X509Ptr parsed = parse_cert(*cert);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(common_name(parsed.get()), "dialback CA");
}

TEST_F(PkiFilesTest, InitRefusesToOverwriteCaKey) {
  ASSERT_TRUE(pki_init(dir_).has_value());
  auto key_before = read_small_file(dir_ / "ca.key");
  ASSERT_TRUE(key_before.has_value());

  auto again = pki_init(dir_, "Another CA");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, std::errc::file_exists);
  EXPECT_NE(again.error().message().find("ca.key"), std::string::npos);
  EXPECT_NE(again.error().message().find("refusing"), std::string::npos);
  EXPECT_EQ(*read_small_file(dir_ / "ca.key"), *key_before);
}

TEST_F(PkiFilesTest, IssueWritesCertificateAndKey) {
  ASSERT_TRUE(pki_init(dir_).has_value());
  auto paths = pki_issue(dir_, {"agent-1", {}, {}, CertificateRequest::Kind::client});
  ASSERT_TRUE(paths.has_value()) << paths.error().message();
  EXPECT_EQ(paths->cert, dir_ / "agent-1.crt");
  EXPECT_EQ(paths->key, dir_ / "agent-1.key");
  EXPECT_EQ(mode_of(paths->key), 0600u);
  EXPECT_EQ(mode_of(paths->cert), 0644u);

  X509Ptr ca = parse_cert(*read_small_file(dir_ / "ca.crt"));
  X509Ptr cert = parse_cert(*read_small_file(paths->cert));
  ASSERT_TRUE(ca && cert);
  EXPECT_EQ(verify_chain(ca.get(), cert.get(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EvpPkeyPtr key = parse_key(*read_small_file(paths->key));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);

  // Re-issuing replaces both files, keeping the key private.
  auto again = pki_issue(dir_, {"agent-1", {}, {}, CertificateRequest::Kind::client});
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*read_small_file(paths->key), *read_small_file(dir_ / "ca.key"));
  EXPECT_EQ(mode_of(paths->key), 0600u);
  X509Ptr reissued = parse_cert(*read_small_file(paths->cert));
  ASSERT_TRUE(reissued);
  EXPECT_NE(X509_cmp(reissued.get(), cert.get()), 0);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  }
}

TEST_F(PkiFilesTest, IssueValidatesName) {
  ASSERT_TRUE(pki_init(dir_).has_value());
  const std::vector<std::string> names = {"", "ca", "CA", "../evil", "a/b", "sp ace",
                                          std::string(64, 'x')};
  for (const std::string& name : names) {
    auto result = pki_issue(dir_, {name, {"ok.example"}, {}});
    ASSERT_FALSE(result.has_value()) << name;
    EXPECT_EQ(result.error().code, std::errc::invalid_argument);
  }
  EXPECT_TRUE(is_valid_pki_name("edge-1.prod_x"));
  EXPECT_TRUE(is_valid_pki_name(std::string(63, 'x')));
}

TEST_F(PkiFilesTest, IssueWithoutCaFails) {
  auto result = pki_issue(dir_, {"edge", {}, {}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, std::errc::no_such_file_or_directory);
  EXPECT_NE(result.error().message().find("ca.crt"), std::string::npos);
}

}  // namespace
}  // namespace dialback
