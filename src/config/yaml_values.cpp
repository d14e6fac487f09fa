#include "config/yaml_values.hpp"

#include <algorithm>
#include <charconv>

#include "config/byte_size.hpp"
#include "config/duration.hpp"

namespace dialback::config_detail {

Field parse_document(const ParseContext& ctx, std::string_view yaml) {
  const YAML::Node root = [&] {
    try {
      return YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      ctx.fail(e.mark.is_null() ? 0 : e.mark.line + 1, "", "YAML syntax error: " + e.msg);
    }
  }();
  if (root.IsNull()) ctx.fail(0, "", "the configuration is empty");
  if (!root.IsMap()) ctx.fail(root.Mark().line + 1, "", "expected a mapping at the top level");
  return Field{root, "", 0};
}

std::string read_string(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected a string");
  return field.node.Scalar();
}

std::vector<Field> read_list(ParseContext& ctx, const Field& field) {
  if (!field.node.IsSequence()) ctx.fail(field.line, field.key, "expected a list");
  std::vector<Field> out;
  out.reserve(field.node.size());
  for (std::size_t i = 0; i < field.node.size(); ++i) {
    const YAML::Node element = field.node[i];
    // A null element has no position of its own; use the list's line.
    const int line = element.Mark().is_null() ? field.line : element.Mark().line + 1;
    std::string key = field.key + "[" + std::to_string(i) + "]";
    ctx.note(key, line);
    out.push_back(Field{element, std::move(key), line});
  }
  return out;
}

std::vector<std::string> read_string_list(ParseContext& ctx, const Field& field) {
  if (!field.node.IsSequence()) ctx.fail(field.line, field.key, "expected a list of strings");
  std::vector<std::string> out;
  for (const Field& element : read_list(ctx, field)) {
    if (!element.node.IsScalar()) ctx.fail(element.line, element.key, "expected a string");
    out.push_back(element.node.Scalar());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> read_string_map(ParseContext& ctx, const Field& field) {
  MapReader map(ctx, field);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : map.entries()) out.emplace_back(name, read_string(ctx, value));
  return out;
}

int read_int(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected an integer");
  const std::string& text = field.node.Scalar();
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    ctx.fail(field.line, field.key, "expected an integer, got \"" + text + "\"");
  }
  return value;
}

bool read_bool(const ParseContext& ctx, const Field& field) {
  if (field.node.IsScalar()) {
    const std::string& text = field.node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  ctx.fail(field.line, field.key, "expected true or false");
}

RateLimit read_rate_limit(ParseContext& ctx, const Field& field) {
  if (field.node.IsScalar() && field.node.Scalar() == "off") return {};
  if (!field.node.IsMap()) ctx.fail(field.line, field.key, "expected off or {rate: N, burst: N}");
  MapReader map(ctx, field, {"rate", "burst"});
  const Field rate_field = map.require("rate");
  const std::string& text = rate_field.node.IsScalar() ? rate_field.node.Scalar() : std::string();
  double rate = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(rate > 0) ||
      rate > 1e9) {
    ctx.fail(rate_field.line, rate_field.key, "expected a number of tokens per second above 0");
  }
  const std::size_t burst = read_count(ctx, map.require("burst"), 1);
  return RateLimit{rate, static_cast<std::uint32_t>(burst)};
}

std::vector<IpNetwork> read_networks(ParseContext& ctx, const Field& field) {
  std::vector<IpNetwork> out;
  for (const Field& item : read_list(ctx, field)) {
    const std::string text = read_string(ctx, item);
    auto network = IpNetwork::parse(text);
    if (!network) {
      ctx.fail(item.line, item.key, "expected an address or CIDR range, got \"" + text + "\"");
    }
    out.push_back(*network);
  }
  return out;
}

std::chrono::milliseconds read_duration(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected a duration");
  auto parsed = parse_duration(field.node.Scalar());
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return *parsed;
}

std::uint64_t read_byte_size(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected a size");
  auto parsed = parse_byte_size(field.node.Scalar());
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return *parsed;
}

ListenAddress read_listen_address(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected an address (host:port)");
  auto parsed = parse_listen_address(field.node.Scalar());
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return *parsed;
}

ListenAddress read_connect_address(const ParseContext& ctx, const Field& field) {
  if (!field.node.IsScalar()) ctx.fail(field.line, field.key, "expected an address (host:port)");
  auto parsed = parse_connect_address(field.node.Scalar());
  if (!parsed) ctx.fail(field.line, field.key, parsed.error());
  return *parsed;
}

std::string read_path(const ParseContext& ctx, const Field& field) {
  std::string path = read_string(ctx, field);
  if (path.empty()) ctx.fail(field.line, field.key, "empty path");
  return ctx.resolve_path(path);
}

std::size_t read_count(const ParseContext& ctx, const Field& field, int minimum) {
  const int value = read_int(ctx, field);
  if (value < minimum) {
    ctx.fail(field.line, field.key,
             minimum <= 0 ? "must not be negative" : "must be at least " + std::to_string(minimum));
  }
  return static_cast<std::size_t>(value);
}

void read_flow_windows(const ParseContext& ctx, const MapReader& map, FlowWindows& out) {
  auto window = [&ctx](const Field& field) {
    const std::uint64_t bytes = read_byte_size(ctx, field);
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, 0xffff'ffffu));
  };
  if (auto f = map.find("stream_window")) out.stream = window(*f);
  if (auto f = map.find("connection_window")) out.connection = window(*f);
}

void read_quic_settings(ParseContext& ctx, const MapReader& map, QuicSettings& out) {
  if (auto f = map.find("idle_timeout")) out.idle_timeout = read_duration(ctx, *f);
  if (auto f = map.find("keep_alive")) out.keep_alive = read_duration(ctx, *f);
  if (auto f = map.find("handshake_timeout")) out.handshake_timeout = read_duration(ctx, *f);
  // Negative values are refused here, before the unsigned conversion; the
  // validator checks the range.
  if (auto f = map.find("max_streams")) out.max_streams = read_count(ctx, *f, 0);
  if (auto f = map.find("windows")) {
    const MapReader windows(ctx, *f, {"stream_window", "connection_window"});
    read_flow_windows(ctx, windows, out.windows);
  }
  if (auto f = map.find("congestion_control")) {
    const std::string word = read_string(ctx, *f);
    if (word == "bbr2") {
      out.congestion_control = CongestionControl::bbr2;
    } else if (word == "cubic") {
      out.congestion_control = CongestionControl::cubic;
    } else {
      ctx.fail(f->line, f->key,
               "unknown congestion control \"" + word + "\": expected bbr2 or cubic");
    }
  }
}

}  // namespace dialback::config_detail
