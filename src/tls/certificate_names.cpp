#include "tls/certificate_names.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/openssl_handles.hpp"

namespace dialback {
namespace {

void add_name(std::vector<std::string>& names, const unsigned char* data, int length) {
  if (data == nullptr || length <= 0) return;
  std::string name(reinterpret_cast<const char*>(data), static_cast<std::size_t>(length));
  if (name.find('\0') != std::string::npos) return;  // embedded NUL: forged name
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
}

void add_common_names(std::vector<std::string>& names, const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, value);
    add_name(names, utf8, length);
    OPENSSL_free(utf8);
  }
}

void add_dns_names(std::vector<std::string>& names, const X509* cert) {
  GeneralNamesPtr alt_names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!alt_names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(alt_names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt_names.get(), i);
    if (name->type != GEN_DNS) continue;
    add_name(names, ASN1_STRING_get0_data(name->d.dNSName), ASN1_STRING_length(name->d.dNSName));
  }
}

}  // namespace

std::vector<std::string> certificate_names(const X509* cert) {
  std::vector<std::string> names;
  if (cert == nullptr) return names;
  add_common_names(names, cert);
  add_dns_names(names, cert);
  return names;
}

std::vector<std::string> peer_certificate_names(const SSL* ssl) {
  if (ssl == nullptr) return {};
  const X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  return certificate_names(peer);
}

}  // namespace dialback
