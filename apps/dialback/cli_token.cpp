// `dialback token new` and `dialback token hash TOKEN`.
#include <iostream>

#include "auth/token.hpp"
#include "cli_common.hpp"
#include "commands.hpp"

namespace dialback::cli {
namespace {

struct TokenArgs {
  std::string token;
};

}  // namespace

Command add_token_command(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Make and hash agent tokens");
  token->require_subcommand(1);
  auto* make = token->add_subcommand("new", "Print a new random token");
  auto* hash = token->add_subcommand("hash", "Print sha256:<hex> of TOKEN, for the edge config");
  auto args = std::make_shared<TokenArgs>();
  hash->add_option("TOKEN", args->token, "the token to hash")->required();
  return {token, [make, hash, args]() -> int {
    if (make->parsed()) {
      const std::string value = generate_token();
      if (value.empty()) {
        print_error("the random number generator failed");
        return kExitFailure;
      }
      std::cout << value << "\n";
      return kExitOk;
    }
    if (hash->parsed()) {
      std::cout << hash_token(args->token) << "\n";
      return kExitOk;
    }
    return kExitUsage;
  }};
}

}  // namespace dialback::cli
