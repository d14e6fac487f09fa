// The registration messages of Flipt's Reverst (github.com/flipt-io/reverst,
// pkg/protocol/protocol.go; wire in docs/protocol.md, "Reverst"). A Reverst
// agent opens the first bidirectional QUIC stream of a connection (ALPN
// kAlpn) and writes one RegisterListenerRequest; the server answers one
// RegisterListenerResponse on success, or closes the connection with one of
// the application error codes below. Both are Go structs without struct
// tags encoded by vmihailenco/msgpack v5: a msgpack map keyed by the Go
// field names, in field order.
//
// This is only the codec; it knows nothing of QUIC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dialback::reverst {

// TLS ALPN of a Reverst tunnel connection (protocol.Name).
inline constexpr std::string_view kAlpn = "quic-h3-tunnel";
// protocol.Version, the only version there is. Reverst's server does not
// check the version an agent sends.
inline constexpr std::uint8_t kVersion = 1;

// The Metadata key carrying the agent's credentials, "<Scheme> <payload>"
// (client/auth.go: "Bearer <token>", "Basic base64(user:pass)").
inline constexpr std::string_view kAuthorizationKey = "Authorization";

// protocol.ResponseCode, a uint8. Deprecated upstream: Reverst's server
// only ever sends ok (in the one response it writes, on success) and its
// client ignores the field; failures are told by closing the connection
// with an application error code instead.
enum class ResponseCode : std::uint8_t {
  ok = 0,
  bad_request = 1,
  not_found = 2,
  unauthorized = 3,
  server_error = 4,
};

// QUIC application error codes (protocol.ApplicationOK/Error/ClientError)
// for CONNECTION_CLOSE, with the reason phrase as the close reason.
// - ok: the connection is closed on purpose (shutdown), no error.
// - error: something went wrong, the agent may reconnect. Reverst's server
//   uses it for an unknown tunnel group (reason kReasonNotFound) and for a
//   request it cannot decode (reason: the decoder's error text).
// - client_error: the request was refused (reason kReasonUnauthorized).
//   The client maps the reasons kReasonUnauthorized, kReasonNotFound and
//   kReasonBadRequest under this code to its typed errors (client/client.go).
inline constexpr std::uint64_t kApplicationOk = 0x0;
inline constexpr std::uint64_t kApplicationError = 0x1;
inline constexpr std::uint64_t kApplicationClientError = 0x2;

inline constexpr std::string_view kReasonUnauthorized = "unauthorized";
inline constexpr std::string_view kReasonNotFound = "not found";
inline constexpr std::string_view kReasonBadRequest = "bad request";

// Bounds on what the decoders accept, so that a hostile peer cannot make
// them (or a caller that buffers until they finish) hold more. Go's decoder
// has no such bounds; real messages are well under 1 KiB.
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxMetadataEntries = 64;
// Nested maps and arrays, counting the message itself: only fields the
// decoder ignores can nest at all.
inline constexpr std::size_t kMaxNesting = 32;

// Go's map[string]string. Sorted, so that encoding is deterministic (Go
// writes a map in random order; any order decodes the same).
using Metadata = std::map<std::string, std::string>;

// protocol.RegisterListenerRequest. Members start at Go's zero values;
// an agent sets version to kVersion.
struct RegisterListenerRequest {
  std::uint8_t version = 0;
  std::string tunnel_group;
  Metadata metadata;  // empty here is Go's nil map

  bool operator==(const RegisterListenerRequest&) const = default;
};

// protocol.RegisterListenerResponse. What Reverst's server sends on success
// is {Version: 1, Code: ok} with nil Metadata and Body.
struct RegisterListenerResponse {
  std::uint8_t version = 0;
  ResponseCode code = ResponseCode::ok;
  Metadata metadata;  // empty here is Go's nil map
  std::string body;   // raw bytes; empty here is Go's nil []byte

  bool operator==(const RegisterListenerResponse&) const = default;
};

// The bytes Go's msgpack v5 writes for the message (default encoder, as
// Reverst uses it): a map of the fields in struct order, keyed by the Go
// field names; Version and Code as uint8 (0xcc NN, never compacted); strings
// as the shortest str form; empty Metadata and Body as nil (0xc0), as Go
// writes its nil map and slice; Metadata entries in key order.
std::string encode(const RegisterListenerRequest& request);
std::string encode(const RegisterListenerResponse& response);

// What a decoder made of the bytes received so far.
template <typename Message>
struct Decoded {
  enum class Status { complete, need_more, malformed };

  Status status = Status::need_more;
  Message message;           // complete: the decoded message
  std::size_t consumed = 0;  // complete: its length at the front of the input
  std::string error;         // malformed: why, for logs and close reasons
};

// Decoders over the bytes received so far on the stream, from its first
// byte (each call parses from the start; messages are small). They accept
// every encoding Go's decoder does for these structs:
// - the message as a map (any map width, fields in any order, repeated
//   fields: the last wins, repeated Metadata maps merge), as an array of
//   exactly the struct's fields in order, as an empty array or as nil (Go's
//   zero value);
// - field names matched exactly, case-sensitively; unknown ones skipped
//   whatever their value;
// - integers of any width and sign, truncated to 8 bits as Go's SetUint does
//   (257 reads as 1, -1 as 255); nil as 0;
// - strings and bytes as str or bin, nil as empty; nil Metadata as empty.
// Stricter than Go: at most kMaxMessageBytes (need_more is returned only
// while the input is shorter), kMaxMetadataEntries and kMaxNesting; and an
// ext header just before the Metadata map, which Go skips, is refused.
// Later than Go: a value of the wrong type is refused once all of it has
// arrived (Go refuses at its first byte). Bytes after the message are left
// alone (consumed tells where it ended).
Decoded<RegisterListenerRequest> decode_request(std::string_view input);
Decoded<RegisterListenerResponse> decode_response(std::string_view input);

// The Authorization value of a request's metadata, if any.
std::optional<std::string_view> authorization(const Metadata& metadata);

// An Authorization value split as Reverst's server splits it
// (internal/auth/auth.go): surrounding white space trimmed (ASCII here; Go's
// TrimSpace also trims Unicode spaces), then cut at the first space. nullopt when there is no
// space. The payload is what follows that space, untrimmed. Reverst then picks a handler by the
// exact scheme and compares the scheme case-insensitively to "Basic" or "Bearer".
struct AuthorizationParts {
  std::string_view scheme;
  std::string_view payload;

  bool operator==(const AuthorizationParts&) const = default;
};
std::optional<AuthorizationParts> split_authorization(std::string_view value);

}  // namespace dialback::reverst
