// Translation between HTTP/1.1 message heads (Beast) and tunnel heads.
// Edge: public request -> RequestHead, ResponseHead -> public response.
// Agent: RequestHead -> upstream request, upstream response -> ResponseHead.
#pragma once

#include <string>

#include "core/asio.hpp"
#include "http1/trace_context.hpp"
#include "tunnel/message.hpp"

namespace dialback::http1 {

struct ForwardingInfo {
  std::string client_ip;   // address of the public client
  std::string scheme;      // "http" or "https"
  std::string request_id;  // used when the request carries no X-Request-Id
  TraceparentGenerator* traceparents = nullptr;  // makes one when the request has none
  // The peer is a trusted proxy (public.trusted_proxies): its forwarding
  // headers are believed and extended. Otherwise they are replaced.
  bool trusted_peer = false;
  // With a trusted peer: its X-Forwarded-Host becomes the authority (routing).
  bool route_by_forwarded_host = false;
};

// The tunnel form of a public HTTP/1.1 request head: method, authority
// (Host), target, and the end-to-end headers lower-cased (hop-by-hop ones
// and those named by Connection stripped). No scheme, no forwarding headers
// yet: see add_forwarding_headers().
RequestHead tunnel_request_from(const http::request_header<>& request);

// For a public request of either protocol: sets the scheme; sets
// Forwarded, X-Forwarded-For/-Proto/-Host, X-Real-IP and X-Request-Id; keeps
// a valid traceparent and replaces a missing or malformed one. From an
// untrusted peer the incoming forwarding headers are dropped first, so a
// local service can believe them; from a trusted proxy Forwarded and
// X-Forwarded-For are extended and its X-Real-IP, X-Forwarded-Proto and
// X-Forwarded-Host kept. `head` holds end-to-end headers
// only. Returns the request id in effect (the client's, when it sent a
// valid one, else info.request_id).
std::string add_forwarding_headers(RequestHead& head, const ForwardingInfo& info);

// Copies a tunnel response head into an HTTP/1.1 response (no hop-by-hop headers).
void apply_response_head(const ResponseHead& head, http::response_header<>& response);

// Agent side: the request to the local service. `base_path` is prefixed to the path.
void apply_request_head(const RequestHead& head, const std::string& base_path,
                        http::request_header<>& request);

// Agent side, after apply_request_head: when `host` is not empty, the local
// service gets `Host: <host>` instead of the public one. The public Host
// stays in X-Forwarded-Host (added from head.authority when the edge did not
// send one) and in Forwarded.
void apply_host_rewrite(const RequestHead& head, const std::string& host,
                        http::request_header<>& request);

// Agent side: the local service's response as a tunnel head.
ResponseHead tunnel_response_from(const http::response_header<>& response);

// True when a response with this status to this method carries no body.
bool response_has_no_body(std::string_view method, int status);

}  // namespace dialback::http1
