// The edge and agent config loaders on the input as YAML text: they must
// return a config or an error, never throw (the target catches nothing, so
// an escaping exception is a crash) or crash.
//
// No file is read: paths stay as written (empty base_dir) and the loaders
// only store them, except the agent's token_file, which the loader reads.
// An input whose top-level mapping has a token_file key therefore skips
// the agent loader (the edge loader still runs).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "config/agent_config.hpp"
#include "config/edge_config.hpp"
#include "fuzz_support.hpp"

using namespace dialback;

namespace {

// True when the agent loader would read a token file. The key can only
// spell "token_file" without containing those bytes through a YAML escape
// ('\\') or another encoding (UTF-16/32: NUL bytes, or a BOM); only then, or
// when the bytes are there, is the input parsed here to look at the keys.
bool names_token_file(std::string_view yaml) {
  const bool maybe =
      yaml.find("token_file") != std::string_view::npos ||
      yaml.find_first_of(std::string_view("\\\0\xfe\xff", 4)) != std::string_view::npos;
  if (!maybe) return false;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) return false;
    for (const auto& entry : root) {
      if (entry.first.IsScalar() && entry.first.Scalar() == "token_file") return true;
    }
    return false;
  } catch (...) {
    return true;  // not sure: skip the agent loader
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml = fuzz::as_chars(data, size);
  auto edge = load_edge_config_from_string(yaml, "fuzz.yaml");
  if (edge) (void)validate_edge_config(*edge);  // the CLI validates again after flags
  if (!names_token_file(yaml)) {
    auto agent = load_agent_config_from_string(yaml, "fuzz.yaml");
    if (agent) (void)validate_agent_config(*agent);
  }
  return 0;
}
