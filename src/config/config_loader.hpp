// Internal to src/config: the steps shared by the edge and agent loaders.
#pragma once

#include <yaml-cpp/yaml.h>

#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "config/config_error.hpp"
#include "config/map_reader.hpp"
#include "config/parse_context.hpp"
#include "config/yaml_values.hpp"

namespace dialback::config_detail {

// The whole file; an error names the file (line 0, no key) when it is
// missing, unreadable or a directory.
tl::expected<std::string, ConfigError> read_config_file(const std::string& path);

// Absolute directory of a config file, for resolving relative paths in it.
std::filesystem::path config_base_dir(const std::string& path);

// Parses `yaml` with `parse(ParseContext&, const Field& root) -> Config`,
// then runs `validate(const Config&) -> std::optional<ConfigError>` and
// locates its error in the file. No exception leaves this function.
template <class Config, class Parse, class Validate>
tl::expected<Config, ConfigError> load_config(std::string_view yaml, std::string file,
                                              std::filesystem::path base_dir, Parse parse,
                                              Validate validate) {
  ParseContext ctx(std::move(file), std::move(base_dir));
  try {
    Config config = parse(ctx, parse_document(ctx, yaml));
    if (std::optional<ConfigError> error = validate(config))
      return tl::unexpected(ctx.locate(std::move(*error)));
    return config;
  } catch (const ConfigFailure& failure) {
    return tl::unexpected(failure.error());
  } catch (const YAML::Exception& e) {
    return tl::unexpected(ConfigError{ctx.file(), e.mark.is_null() ? 0 : e.mark.line + 1, "", e.msg});
  } catch (const std::exception& e) {
    return tl::unexpected(ConfigError{ctx.file(), 0, "", e.what()});
  }
}

}  // namespace dialback::config_detail
