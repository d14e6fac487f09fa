// The subcommands of the `dialback` binary. Each adds itself to the CLI11
// app and returns the exit code when selected.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace dialback::cli {

struct Command {
  CLI::App* app;              // the subcommand, to see whether it was selected
  std::function<int()> run;   // runs it; returns the exit code
};

Command add_edge_command(CLI::App& app);
Command add_agent_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_pki_command(CLI::App& app);
Command add_token_command(CLI::App& app);

}  // namespace dialback::cli
