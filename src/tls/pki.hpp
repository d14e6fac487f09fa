// In-memory certificate authority: make a CA, issue server and client
// certificates. Used by `dialback pki` and by every TLS test.
//
// All keys are EC P-256, all signatures ECDSA-SHA256, serials 128-bit random.
// Validity starts one hour in the past to tolerate clock skew.
#pragma once

#include <string>
#include <vector>

#include "tls/pki_error.hpp"

namespace dialback {

struct PemPair {
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8
};

struct CertificateRequest {
  enum class Kind { server, client };

  std::string name;              // CN; 1-64 printable ASCII characters
  std::vector<std::string> dns;  // DNS SANs; IP literals found here become IP SANs
  std::vector<std::string> ips;  // IP SANs (v4 or v6 text)
  Kind kind = Kind::server;
  int days = 825;                // 1..36500
};

// A self-signed CA: CN = common_name, basicConstraints critical CA:TRUE
// pathlen:0, keyUsage critical keyCertSign+cRLSign, valid 10 years.
PkiResult<PemPair> make_ca(std::string common_name);

// A leaf certificate signed by `ca` (checked: key matches, certificate is a CA).
//   server: CN = name; SANs = dns + ips, or DNS:name when both are empty;
//           EKU serverAuth.
//   client: CN = name; SANs = DNS:name + dns + ips; EKU clientAuth.
// Both: basicConstraints critical CA:FALSE, keyUsage critical
// digitalSignature, subject and authority key identifiers.
// Fails with std::errc::invalid_argument for a bad name, DNS name, IP or days.
PkiResult<PemPair> issue_certificate(const PemPair& ca, const CertificateRequest& request);

}  // namespace dialback
