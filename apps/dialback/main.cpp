// dialback: command line entry point. Parses flags and runs one subcommand.
#include <iostream>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace dialback::cli;
  CLI::App app{"dialback: a self-hosted reverse tunnel (edge, agent, demo, pki, token)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dialback 0.1.0");
  const std::vector<Command> commands = {add_edge_command(app), add_agent_command(app),
                                         add_demo_command(app), add_pki_command(app),
                                         add_token_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return kExitUsage;
}
