// `dialback pki init --dir DIR` and `dialback pki issue --dir DIR --name NAME ...`.
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "tls/pki_files.hpp"

namespace dialback::cli {
namespace {

struct PkiArgs {
  std::string dir;
  std::string name;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  bool client = false;
  bool server = false;
};

}  // namespace

Command add_pki_command(CLI::App& app) {
  auto* pki = app.add_subcommand("pki", "Make a CA and certificates for edges and agents");
  pki->require_subcommand(1);
  auto args = std::make_shared<PkiArgs>();
  auto* init = pki->add_subcommand("init", "Create DIR/ca.crt and DIR/ca.key");
  init->add_option("--dir", args->dir, "PKI directory")->required();
  auto* issue = pki->add_subcommand("issue", "Issue DIR/NAME.crt and DIR/NAME.key signed by the CA");
  issue->add_option("--dir", args->dir, "PKI directory holding ca.crt and ca.key")->required();
  issue->add_option("--name", args->name, "certificate name (client CN)")->required();
  issue->add_option("--dns", args->dns, "DNS subject alternative name (repeatable)");
  issue->add_option("--ip", args->ips, "IP subject alternative name (repeatable)");
  auto* client = issue->add_flag("--client", args->client, "client certificate (agent mTLS)");
  auto* server = issue->add_flag("--server", args->server, "server certificate (default)");
  client->excludes(server);

  return {pki, [init, issue, args]() -> int {
    if (init->parsed()) {
      auto made = pki_init(args->dir);
      if (!made) {
        print_error(made.error().message());
        return kExitFailure;
      }
      std::cout << made->cert.string() << "\n" << made->key.string() << "\n";
      return kExitOk;
    }
    if (issue->parsed()) {
      CertificateRequest request;
      request.name = args->name;
      request.dns = args->dns;
      request.ips = args->ips;
      request.kind = args->client ? CertificateRequest::Kind::client : CertificateRequest::Kind::server;
      auto made = pki_issue(args->dir, request);
      if (!made) {
        print_error(made.error().message());
        return kExitFailure;
      }
      std::cout << made->cert.string() << "\n" << made->key.string() << "\n";
      return kExitOk;
    }
    return kExitUsage;
  }};
}

}  // namespace dialback::cli
