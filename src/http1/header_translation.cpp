#include "http1/header_translation.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "core/ascii.hpp"
#include "http1/hop_by_hop.hpp"
#include "http1/request_validation.hpp"

namespace dialback::http1 {
namespace {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

// Fields of `in` that may cross a hop, lower-cased.
template <class Fields>
void copy_end_to_end(const Fields& in, HeaderList& out) {
  for (const auto& field : in) {
    std::string name = to_lower_ascii(field.name_string());
    if (is_hop_by_hop(name) || name == "host" || is_named_by_connection(in, name)) continue;
    out.push_back(HeaderField{std::move(name), std::string(field.value())});
  }
}

std::string forwarded_for(const std::string& ip) {
  if (ip.find(':') != std::string::npos) return "\"[" + ip + "]\"";
  return ip;
}

void take_header(HeaderList& headers, std::string_view name, std::string& value) {
  for (auto it = headers.begin(); it != headers.end();) {
    if (it->name == name) {
      if (!value.empty()) value += ", ";
      value += it->value;
      it = headers.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

RequestHead tunnel_request_from(const http::request_header<>& request) {
  RequestHead head;
  head.method = std::string(request.method_string());
  head.authority = std::string(request[http::field::host]);
  head.path = std::string(request.target());
  // Room for the forwarding headers the edge adds (add_forwarding_headers).
  head.headers.reserve(std::distance(request.begin(), request.end()) + 7);
  copy_end_to_end(request, head.headers);
  return head;
}

std::string add_forwarding_headers(RequestHead& head, const ForwardingInfo& info) {
  head.scheme = info.scheme;
  std::string xff, forwarded, real_ip, proto, host;
  take_header(head.headers, "x-forwarded-for", xff);
  take_header(head.headers, "forwarded", forwarded);
  take_header(head.headers, "x-real-ip", real_ip);
  take_header(head.headers, "x-forwarded-proto", proto);
  take_header(head.headers, "x-forwarded-host", host);
  if (!info.trusted_peer) {
    xff.clear();
    forwarded.clear();
    real_ip.clear();
    proto.clear();
    host.clear();
  }
  if (info.route_by_forwarded_host && !host.empty()) {
    // The first entry is the host the original client asked for; anything
    // an authority cannot hold is not used (nor quoted into Forwarded).
    const std::string_view first = std::string_view(host).substr(0, host.find(','));
    if (!first.empty() && is_valid_authority(first)) head.authority = std::string(first);
  }
  xff += xff.empty() ? info.client_ip : ", " + info.client_ip;
  if (!forwarded.empty()) forwarded += ", ";
  forwarded += "for=" + forwarded_for(info.client_ip) + ";host=\"" + head.authority +
               "\";proto=" + info.scheme;
  if (real_ip.empty()) real_ip = info.client_ip;
  if (proto.empty()) proto = info.scheme;
  if (host.empty()) host = head.authority;
  std::string client_id;
  take_header(head.headers, "x-request-id", client_id);
  std::string request_id = valid_request_id(client_id) ? client_id : info.request_id;

  head.headers.push_back({"x-forwarded-for", std::move(xff)});
  head.headers.push_back({"x-forwarded-proto", std::move(proto)});
  head.headers.push_back({"x-forwarded-host", std::move(host)});
  head.headers.push_back({"x-real-ip", std::move(real_ip)});
  head.headers.push_back({"forwarded", std::move(forwarded)});
  head.headers.push_back({"x-request-id", request_id});
  if (info.traceparents != nullptr) {
    std::string traceparent;
    take_header(head.headers, "traceparent", traceparent);
    if (!is_valid_traceparent(traceparent)) {
      traceparent = info.traceparents->next();
      std::string ignored_state;
      take_header(head.headers, "tracestate", ignored_state);  // belongs to the replaced trace
    }
    head.headers.push_back({"traceparent", std::move(traceparent)});
  }
  return request_id;
}

void apply_response_head(const ResponseHead& head, http::response_header<>& response) {
  response.result(static_cast<unsigned>(head.status));
  for (const auto& field : head.headers) {
    if (is_hop_by_hop(field.name)) continue;
    response.insert(field.name, field.value);
  }
}

void apply_request_head(const RequestHead& head, const std::string& base_path,
                        http::request_header<>& request) {
  request.method_string(head.method);
  request.target(base_path.empty() ? head.path : base_path + head.path);
  request.set(http::field::host, head.authority);
  for (const auto& field : head.headers) {
    if (is_hop_by_hop(field.name)) continue;
    request.insert(field.name, field.value);
  }
}

void apply_host_rewrite(const RequestHead& head, const std::string& host,
                        http::request_header<>& request) {
  if (host.empty()) return;
  request.set(http::field::host, host);
  if (request.count("x-forwarded-host") == 0 && !head.authority.empty()) {
    request.set("x-forwarded-host", head.authority);
  }
}

ResponseHead tunnel_response_from(const http::response_header<>& response) {
  ResponseHead head;
  head.status = static_cast<int>(response.result_int());
  head.headers.reserve(std::distance(response.begin(), response.end()));
  copy_end_to_end(response, head.headers);
  return head;
}

bool response_has_no_body(std::string_view method, int status) {
  return method == "HEAD" || (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace dialback::http1
