// The names a certificate vouches for, as dialback compares them.
#pragma once

#include <string>
#include <vector>

#include <openssl/types.h>

namespace dialback {

// Subject CN(s) first, then DNS subject alternative names, without
// duplicates. Names that are empty or contain a NUL byte are skipped.
std::vector<std::string> certificate_names(const X509* cert);

// certificate_names() of the peer's certificate, but only when one was
// presented and verified (SSL_get_verify_result() == X509_V_OK); empty
// otherwise. Call after the handshake.
std::vector<std::string> peer_certificate_names(const SSL* ssl);

}  // namespace dialback
