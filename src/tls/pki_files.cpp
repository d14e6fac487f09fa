#include "tls/pki_files.hpp"

#include <algorithm>
#include <sys/stat.h>

#include "core/ascii.hpp"
#include "tls/file_io.hpp"

namespace dialback {
namespace {

constexpr std::size_t kMaxName = 63;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

PkiError file_error(const std::error_code& ec, const std::string& what,
                    const std::filesystem::path& path) {
  return {ec, what + " " + path.string() + ": " + ec.message()};
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

bool is_valid_pki_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  if (!std::all_of(name.begin(), name.end(), is_name_char)) return false;
  return !iequals(name, "ca");
}

PkiResult<PkiPaths> pki_init(const std::filesystem::path& dir, const std::string& common_name) {
  const PkiPaths paths{dir / "ca.crt", dir / "ca.key"};
  std::error_code ec;
  if (std::filesystem::create_directories(dir, ec)) {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) return tl::unexpected(file_error(ec, "cannot create directory", dir));
  if (std::filesystem::exists(std::filesystem::symlink_status(paths.key, ec))) {
    return tl::unexpected(PkiError{std::make_error_code(std::errc::file_exists),
                                   paths.key.string() +
                                       " already exists; refusing to overwrite the CA key "
                                       "(move it away first to create a new CA)"});
  }

  auto ca = make_ca(common_name);
  if (!ca) return tl::unexpected(std::move(ca.error()));
  // O_EXCL: a CA key that appears meanwhile is still never overwritten.
  if (auto written = write_new_file(paths.key, ca->key_pem, kKeyMode); !written) {
    return tl::unexpected(file_error(written.error(), "cannot write", paths.key));
  }
  if (auto written = replace_file(paths.cert, ca->cert_pem, kCertMode); !written) {
    std::filesystem::remove(paths.key, ec);  // no key without its certificate
    return tl::unexpected(file_error(written.error(), "cannot write", paths.cert));
  }
  return paths;
}

PkiResult<PkiPaths> pki_issue(const std::filesystem::path& dir, const CertificateRequest& request) {
  if (!is_valid_pki_name(request.name)) {
    return tl::unexpected(PkiError{std::make_error_code(std::errc::invalid_argument),
                                   "invalid name \"" + request.name +
                                       "\": use 1-63 characters of [A-Za-z0-9._-], not \"ca\""});
  }
  const std::filesystem::path ca_cert_path = dir / "ca.crt";
  const std::filesystem::path ca_key_path = dir / "ca.key";
  auto ca_cert = read_small_file(ca_cert_path);
  if (!ca_cert) return tl::unexpected(file_error(ca_cert.error(), "cannot read", ca_cert_path));
  auto ca_key = read_small_file(ca_key_path);
  if (!ca_key) return tl::unexpected(file_error(ca_key.error(), "cannot read", ca_key_path));

  auto issued = issue_certificate(PemPair{std::move(*ca_cert), std::move(*ca_key)}, request);
  if (!issued) return tl::unexpected(std::move(issued.error()));

  const PkiPaths paths{dir / (request.name + ".crt"), dir / (request.name + ".key")};
  if (auto written = replace_file(paths.key, issued->key_pem, kKeyMode); !written) {
    return tl::unexpected(file_error(written.error(), "cannot write", paths.key));
  }
  if (auto written = replace_file(paths.cert, issued->cert_pem, kCertMode); !written) {
    return tl::unexpected(file_error(written.error(), "cannot write", paths.cert));
  }
  return paths;
}

}  // namespace dialback
