#include "config/map_reader.hpp"

#include <algorithm>

namespace dialback::config_detail {

MapReader::MapReader(ParseContext& ctx, const Field& field) : ctx_(ctx), key_(field.key), line_(field.line) {
  read(field, nullptr);
}

MapReader::MapReader(ParseContext& ctx, const Field& field, std::initializer_list<std::string_view> allowed)
    : ctx_(ctx), key_(field.key), line_(field.line) {
  read(field, &allowed);
}

void MapReader::read(const Field& field, const std::initializer_list<std::string_view>* allowed) {
  if (!field.node.IsMap()) ctx_.fail(field.line, key_, "expected a mapping");
  for (const auto& entry : field.node) {  // entry is a value (key/value node pair), not a reference
    const YAML::Node& key_node = entry.first;
    const int line = key_node.Mark().line + 1;
    if (!key_node.IsScalar()) ctx_.fail(line, key_, "keys must be strings");
    const std::string name = key_node.Scalar();
    std::string path = key_.empty() ? name : key_ + "." + name;
    if (allowed != nullptr && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
      ctx_.fail(line, std::move(path), "unknown key");
    }
    const bool seen =
        std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == name; });
    if (seen) ctx_.fail(line, std::move(path), "duplicate key");
    ctx_.note(path, line);
    entries_.emplace_back(name, Field{entry.second, std::move(path), line});
  }
}

std::optional<Field> MapReader::find(std::string_view name) const {
  for (const auto& [entry_name, field] : entries_) {
    if (entry_name == name) {
      if (field.node.IsNull()) return std::nullopt;
      return field;
    }
  }
  return std::nullopt;
}

Field MapReader::require(std::string_view name) const {
  for (const auto& [entry_name, field] : entries_) {
    if (entry_name == name) {
      if (field.node.IsNull()) ctx_.fail(field.line, field.key, "missing value");
      return field;
    }
  }
  const std::string path = key_.empty() ? std::string(name) : key_ + "." + std::string(name);
  ctx_.fail(line_, path, "missing required key");
}

}  // namespace dialback::config_detail
