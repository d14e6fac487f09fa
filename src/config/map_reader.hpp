// Internal to src/config: reads one YAML mapping of a config file, rejecting
// unknown and duplicate keys and recording where each key was written.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/parse_context.hpp"

namespace dialback::config_detail {

// One value in the document and where it was written. Never copy-assign a
// Field: YAML::Node's assignment rewrites the node it refers to.
struct Field {
  YAML::Node node;
  std::string key;  // dotted path; "" for the document root
  int line = 0;     // 1-based line of the key or list element; 0 for the root
};

class MapReader {
 public:
  // Any key allowed (tunnel names, labels).
  MapReader(ParseContext& ctx, const Field& field);
  // Only `allowed` keys; the first other key in file order is an error.
  MapReader(ParseContext& ctx, const Field& field, std::initializer_list<std::string_view> allowed);

  // The value of `name`, or nullopt when the key is absent or its value null.
  std::optional<Field> find(std::string_view name) const;
  // The value of `name`; fails when absent or null.
  Field require(std::string_view name) const;
  // Every entry in file order (null values included).
  const std::vector<std::pair<std::string, Field>>& entries() const noexcept { return entries_; }

 private:
  void read(const Field& field, const std::initializer_list<std::string_view>* allowed);

  ParseContext& ctx_;
  std::string key_;
  int line_;
  std::vector<std::pair<std::string, Field>> entries_;
};

}  // namespace dialback::config_detail
