// `dialback edge --config edge.yaml`.
#include "cli_common.hpp"
#include "commands.hpp"
#include "config/edge_config.hpp"
#include "edge/edge.hpp"

namespace dialback::cli {
namespace {

struct EdgeArgs {
  std::string config;
  LogFlags log;
};

int run_edge(const EdgeArgs& args) {
  auto log_options = args.log.options();
  if (!log_options) {
    print_error(log_options.error());
    return kExitUsage;
  }
  auto config = load_edge_config(args.config);
  if (!config) {
    print_error(config.error().to_string());
    return kExitUsage;
  }
  const auto drain = config->edge.drain_timeout;
  asio::io_context io(1);
  auto logger = make_logger("edge", *log_options);
  edge::Edge edge(io.get_executor(), std::move(*config), logger);
  if (auto started = edge.start(); !started) {
    print_error(started.error());
    return kExitFailure;
  }
  run_until_signal(io, logger, drain, [&edge](auto deadline) { return edge.shutdown(deadline); });
  return kExitOk;
}

}  // namespace

Command add_edge_command(CLI::App& app) {
  auto* edge = app.add_subcommand("edge", "Run the public edge that agents dial");
  auto args = std::make_shared<EdgeArgs>();
  edge->add_option("--config", args->config, "edge config file (YAML)")->required();
  args->log.add_to(*edge);
  return {edge, [args] { return run_edge(*args); }};
}

}  // namespace dialback::cli
