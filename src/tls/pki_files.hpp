// The on-disk CA used by `dialback pki`: one directory holding ca.crt,
// ca.key and NAME.crt / NAME.key per issued certificate. Keys are written
// with mode 0600, certificates 0644.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "tls/pki.hpp"
#include "tls/pki_error.hpp"

namespace dialback {

struct PkiPaths {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// True for 1-63 characters of [A-Za-z0-9._-] (the identity alphabet of
// docs/protocol.md §2), excluding "ca" in any case, which names the CA's files.
bool is_valid_pki_name(std::string_view name);

// Creates `dir` (mode 0700 when created here) and a new CA in dir/ca.crt and
// dir/ca.key. Refuses, with std::errc::file_exists, when dir/ca.key already
// exists: an existing CA is never overwritten.
PkiResult<PkiPaths> pki_init(const std::filesystem::path& dir,
                             const std::string& common_name = "dialback CA");

// Issues a certificate for `request` from dir/ca.crt + dir/ca.key and writes
// dir/NAME.crt and dir/NAME.key (NAME = request.name, which must pass
// is_valid_pki_name). Existing NAME files are replaced atomically
// (re-issuing a certificate is a normal operation).
PkiResult<PkiPaths> pki_issue(const std::filesystem::path& dir, const CertificateRequest& request);

}  // namespace dialback
