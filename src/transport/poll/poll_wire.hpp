// The requests of the `poll` transport (docs/protocol.md §12): paths,
// header names and timing both ends share.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dialback::poll {

inline constexpr std::string_view kPathPrefix = "/.well-known/dialback/v1/poll/";
inline constexpr std::string_view kRegisterPath = "/.well-known/dialback/v1/poll/register";
inline constexpr std::string_view kNextPath = "/.well-known/dialback/v1/poll/next";
inline constexpr std::string_view kSendPath = "/.well-known/dialback/v1/poll/send";
inline constexpr std::string_view kClosePath = "/.well-known/dialback/v1/poll/close";

inline constexpr std::string_view kHeaderSession = "Dialback-Poll-Session";  // the session token
inline constexpr std::string_view kHeaderSeq = "Dialback-Poll-Seq";          // a batch's number
inline constexpr std::string_view kHeaderAck = "Dialback-Poll-Ack";  // batches received in order
inline constexpr std::string_view kContentType = "application/octet-stream";

// How long the edge holds a `next` without bytes to send before it answers 204.
inline constexpr std::chrono::seconds kNextWait{25};
// The most bytes in one batch, either way.
inline constexpr std::size_t kMaxBatch = 1024 * 1024;

// A batch number or acknowledgement: decimal digits, at most 19; nullopt otherwise.
std::optional<std::uint64_t> parse_seq(std::string_view text);

}  // namespace dialback::poll
