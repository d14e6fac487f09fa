#include "tls/pki.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "tls/openssl_error.hpp"
#include "tls/openssl_handles.hpp"

namespace dialback {
namespace {

constexpr int kCaDays = 3650;
constexpr int kMaxDays = 36500;
constexpr long kBackdateSeconds = 3600;
constexpr std::size_t kMaxCommonName = 64;  // X.509 ub-common-name
constexpr std::size_t kMaxDnsName = 253;
constexpr std::size_t kMaxDnsLabel = 63;
constexpr int kSerialBytes = 16;

PkiError openssl_failure(const std::string& what) {
  const std::error_code ec = take_openssl_error();
  return {ec, what + ": " + ec.message()};
}

PkiError invalid(std::string detail) {
  return {std::make_error_code(std::errc::invalid_argument), std::move(detail)};
}

// Password callback for PEM reads: never prompt on a terminal; an encrypted
// key simply fails to load.
int no_password(char*, int, int, void*) noexcept { return 0; }

bool is_printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Letters, digits, '-', '_' in dot-separated labels; "*" only as the whole
// first label of a name with at least two more labels.
bool is_valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsName) return false;
  std::size_t start = 0;
  int label_index = 0;
  bool wildcard = false;
  while (true) {
    const std::size_t dot = name.find('.', start);
    const std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxDnsLabel) return false;
    if (label == "*") {
      if (label_index != 0) return false;
      wildcard = true;
    } else if (!std::all_of(label.begin(), label.end(), is_label_char)) {
      return false;
    }
    ++label_index;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !wildcard || label_index >= 3;
}

using OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<&ASN1_OCTET_STRING_free>>;

// The DER form of an IPv4/IPv6 literal; null when `text` is not one.
OctetStringPtr parse_ip(const std::string& text) {
  return OctetStringPtr(a2i_IPADDRESS(text.c_str()));
}

struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ips;
};

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

PkiResult<SubjectAltNames> collect_sans(const CertificateRequest& request) {
  SubjectAltNames sans;
  if (request.kind == CertificateRequest::Kind::client) {
    if (!is_valid_dns_name(request.name)) {
      return tl::unexpected(invalid("client name \"" + request.name +
                                    "\" cannot be a DNS subject alternative name"));
    }
    sans.dns.push_back(request.name);
  }
  for (const std::string& dns : request.dns) {
    if (parse_ip(dns)) {
      add_unique(sans.ips, dns);
    } else if (is_valid_dns_name(dns)) {
      add_unique(sans.dns, dns);
    } else {
      return tl::unexpected(invalid("invalid DNS name \"" + dns + "\""));
    }
  }
  for (const std::string& ip : request.ips) {
    if (!parse_ip(ip)) return tl::unexpected(invalid("invalid IP address \"" + ip + "\""));
    add_unique(sans.ips, ip);
  }
  if (sans.dns.empty() && sans.ips.empty()) {
    if (!is_valid_dns_name(request.name)) {
      return tl::unexpected(invalid("name \"" + request.name +
                                    "\" is not a DNS name; give the server's DNS names or IPs"));
    }
    sans.dns.push_back(request.name);
  }
  return sans;
}

bool push_name(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) {
    ASN1_STRING_free(value);
    return false;
  }
  GENERAL_NAME_set0_value(name, type, value);
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return false;
  }
  return true;
}

// Built field by field (not from a config string) so that no input can
// inject extra names.
bool add_subject_alt_names(X509* cert, const SubjectAltNames& sans) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return false;
  for (const std::string& dns : sans.dns) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr ||
        ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(value);
      return false;
    }
    if (!push_name(names.get(), GEN_DNS, value)) return false;
  }
  for (const std::string& ip : sans.ips) {
    OctetStringPtr value = parse_ip(ip);
    if (!value || !push_name(names.get(), GEN_IPADD, value.release())) return false;
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

// Adds one extension from its OpenSSL config-string form (constant strings only).
bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

bool set_random_serial(X509* cert) {
  std::array<unsigned char, kSerialBytes> bytes{};
  if (RAND_bytes(bytes.data(), kSerialBytes) != 1) return false;
  BignumPtr serial(BN_bin2bn(bytes.data(), kSerialBytes, nullptr));
  if (!serial) return false;
  if (BN_is_zero(serial.get()) && BN_one(serial.get()) != 1) return false;
  return BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
}

// A certificate with version, serial, validity, subject CN, issuer name and
// public key set; issuer == nullptr means self-signed.
PkiResult<X509Ptr> new_certificate(const std::string& common_name, EVP_PKEY* subject_key,
                                   X509* issuer, int days) {
  X509Ptr cert(X509_new());
  if (!cert) return tl::unexpected(openssl_failure("cannot allocate certificate"));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const bool ok =
      X509_set_version(cert.get(), X509_VERSION_3) == 1 && set_random_serial(cert.get()) &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) != nullptr &&
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) != nullptr &&
      X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) == 1 &&
      X509_set_pubkey(cert.get(), subject_key) == 1;
  if (!ok) return tl::unexpected(openssl_failure("cannot fill in certificate fields"));
  return cert;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

PkiResult<PemPair> to_pem(X509* cert, EVP_PKEY* key) {
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return tl::unexpected(openssl_failure("cannot encode certificate or key as PEM"));
  }
  return PemPair{bio_contents(cert_bio.get()), bio_contents(key_bio.get())};
}

std::optional<PkiError> validate_common_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxCommonName || !is_printable_ascii(name)) {
    return invalid("common name \"" + name + "\" must be 1-64 printable ASCII characters");
  }
  return std::nullopt;
}

struct LoadedCa {
  X509Ptr cert;
  EvpPkeyPtr key;
};

PkiResult<LoadedCa> load_ca(const PemPair& ca) {
  BioPtr cert_bio(BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size())));
  BioPtr key_bio(BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  if (!cert_bio || !key_bio) return tl::unexpected(openssl_failure("cannot read CA"));
  LoadedCa loaded{X509Ptr(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)),
                  EvpPkeyPtr(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &no_password,
                                                     nullptr))};
  if (!loaded.cert) return tl::unexpected(openssl_failure("cannot parse CA certificate"));
  if (!loaded.key) {
    return tl::unexpected(
        openssl_failure("cannot parse CA key (encrypted keys are not supported)"));
  }
  if (X509_check_private_key(loaded.cert.get(), loaded.key.get()) != 1) {
    return tl::unexpected(openssl_failure("CA key does not match the CA certificate"));
  }
  if (X509_check_ca(loaded.cert.get()) == 0) {
    ERR_clear_error();
    return tl::unexpected(invalid("the CA certificate is not a certificate authority"));
  }
  return loaded;
}

}  // namespace

PkiResult<PemPair> make_ca(std::string common_name) {
  if (auto error = validate_common_name(common_name)) return tl::unexpected(std::move(*error));
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return tl::unexpected(openssl_failure("cannot generate CA key"));
  auto cert = new_certificate(common_name, key.get(), nullptr, kCaDays);
  if (!cert) return tl::unexpected(std::move(cert.error()));
  X509* c = cert->get();
  const bool ok = add_extension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
                  add_extension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") &&
                  add_extension(c, c, NID_subject_key_identifier, "hash") &&
                  X509_sign(c, key.get(), EVP_sha256()) > 0;
  if (!ok) return tl::unexpected(openssl_failure("cannot build CA certificate"));
  return to_pem(c, key.get());
}

PkiResult<PemPair> issue_certificate(const PemPair& ca, const CertificateRequest& request) {
  if (auto error = validate_common_name(request.name)) return tl::unexpected(std::move(*error));
  if (request.days < 1 || request.days > kMaxDays) {
    return tl::unexpected(invalid("validity must be 1-36500 days, not " +
                                  std::to_string(request.days)));
  }
  auto sans = collect_sans(request);
  if (!sans) return tl::unexpected(std::move(sans.error()));
  auto loaded = load_ca(ca);
  if (!loaded) return tl::unexpected(std::move(loaded.error()));

  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return tl::unexpected(openssl_failure("cannot generate key"));
  auto cert = new_certificate(request.name, key.get(), loaded->cert.get(), request.days);
  if (!cert) return tl::unexpected(std::move(cert.error()));
  X509* c = cert->get();
  X509* issuer = loaded->cert.get();
  const bool server = request.kind == CertificateRequest::Kind::server;
  const bool ok =
      add_extension(c, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
      add_extension(c, issuer, NID_key_usage, "critical,digitalSignature") &&
      add_extension(c, issuer, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") &&
      add_extension(c, issuer, NID_subject_key_identifier, "hash") &&
      add_extension(c, issuer, NID_authority_key_identifier, "keyid:always") &&
      add_subject_alt_names(c, *sans) && X509_sign(c, loaded->key.get(), EVP_sha256()) > 0;
  if (!ok) return tl::unexpected(openssl_failure("cannot build certificate for " + request.name));
  return to_pem(c, key.get());
}

}  // namespace dialback
