// Internal to src/config: typed reads of YAML values. Each fails through
// ParseContext::fail with the field's line and key on a wrong type or format.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/flow_windows.hpp"
#include "config/listen_address.hpp"
#include "config/map_reader.hpp"
#include "config/parse_context.hpp"
#include "config/quic_settings.hpp"
#include "core/ip_network.hpp"
#include "core/token_bucket.hpp"

namespace dialback::config_detail {

// The document root of `yaml`; fails on syntax errors, an empty document or
// a root that is not a mapping.
Field parse_document(const ParseContext& ctx, std::string_view yaml);

std::string read_string(const ParseContext& ctx, const Field& field);
// A sequence of strings; notes each element as "key[i]".
std::vector<std::string> read_string_list(ParseContext& ctx, const Field& field);
// A sequence; each element keyed "key[i]" with its own line.
std::vector<Field> read_list(ParseContext& ctx, const Field& field);
// A mapping of string to string, in file order.
std::vector<std::pair<std::string, std::string>> read_string_map(ParseContext& ctx, const Field& field);
int read_int(const ParseContext& ctx, const Field& field);
// An integer of at least `minimum` (0 or 1): "must not be negative" / "must be at least 1".
std::size_t read_count(const ParseContext& ctx, const Field& field, int minimum);
// `true` or `false` (also True/TRUE/False/FALSE, the YAML 1.2 core schema);
// not yes/no/on/off.
bool read_bool(const ParseContext& ctx, const Field& field);
std::chrono::milliseconds read_duration(const ParseContext& ctx, const Field& field);
// A rate limit: `off`, or {rate: TOKENS_PER_SECOND (> 0, may be a
// fraction), burst: COUNT (>= 1)}.
RateLimit read_rate_limit(ParseContext& ctx, const Field& field);
// A list of CIDR ranges ("10.0.0.0/8", "::1").
std::vector<IpNetwork> read_networks(ParseContext& ctx, const Field& field);
// A byte size (config/byte_size.hpp): "65536", "64KiB", "10MiB".
std::uint64_t read_byte_size(const ParseContext& ctx, const Field& field);
// `stream_window` and `connection_window` of `map`, when present: byte
// sizes; values past 32 bits saturate (the validator reports the range).
void read_flow_windows(const ParseContext& ctx, const MapReader& map, FlowWindows& out);
// The QuicSettings keys of `map`, when present: idle_timeout, keep_alive,
// handshake_timeout, max_streams and windows ({stream_window,
// connection_window}). Keys not written keep their value in `out`, so the
// caller sets the defaults first (the windows of the same side).
void read_quic_settings(ParseContext& ctx, const MapReader& map, QuicSettings& out);
ListenAddress read_listen_address(const ParseContext& ctx, const Field& field);
ListenAddress read_connect_address(const ParseContext& ctx, const Field& field);
// A non-empty file path, resolved against the config file's directory.
std::string read_path(const ParseContext& ctx, const Field& field);

}  // namespace dialback::config_detail
