#include <functional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/asio.hpp"
#include "registration_wire.hpp"
#include "tunnel/registration.hpp"
#include "tunnel/registration_request.hpp"

namespace dialback {
namespace {

using Request = http::request<http::empty_body>;
using test::parse_request_wire;
using test::serialize;

RegistrationRequest full_request() {
  RegistrationRequest r;
  r.host = "edge.example.test";
  r.tunnel = "web";
  r.node = "host-1.4242";
  r.cluster = "eu_west";
  r.tenant = "acme";
  r.labels = {{"zone", "eu-west-1a"}, {"version", "1.2.3"}};
  r.session_id = "0123456789abcdef0123456789abcdef";
  r.authorization = "Bearer s3cr3t";
  r.user_agent = "dialback-agent/0.1.0";
  return r;
}

// ---- identity and session ids ---------------------------------------------

TEST(Registration, IdentityValidation) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"a", true},           {"web", true},          {"A-Z_a.z-0.9", true},
      {std::string(63, 'x'), true}, {"", false},     {std::string(64, 'x'), false},
      {"has space", false},  {"semi;colon", false},  {"slash/x", false},
      {"é", false},          {"a,b", false},         {"k=v", false},
  };
  for (const auto& [value, valid] : cases) EXPECT_EQ(is_valid_identity(value), valid) << value;
}

TEST(Registration, SessionIdsAreRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    const std::string id = generate_session_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 64u);
}

// ---- request round trip ----------------------------------------------------

TEST(RegistrationRequest, BuildsTheProtocolHeaders) {
  const Request req = build_registration_request(full_request());
  EXPECT_EQ(req.method(), http::verb::get);
  EXPECT_EQ(req.target(), "/.well-known/dialback/v1/tunnel");
  EXPECT_EQ(req.version(), 11u);
  EXPECT_EQ(req[http::field::host], "edge.example.test");
  EXPECT_EQ(req[http::field::connection], "Upgrade");
  EXPECT_EQ(req[http::field::upgrade], "ptth");
  EXPECT_EQ(req["ALPN"], "h2");
  EXPECT_EQ(req[http::field::authorization], "Bearer s3cr3t");
  EXPECT_EQ(req["Dialback-Tunnel"], "web");
  EXPECT_EQ(req["Dialback-Node"], "host-1.4242");
  EXPECT_EQ(req["Dialback-Cluster"], "eu_west");
  EXPECT_EQ(req["Dialback-Tenant"], "acme");
  EXPECT_EQ(req["Dialback-Labels"], "zone=eu-west-1a, version=1.2.3");
  EXPECT_EQ(req["Dialback-Session"], "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(req[http::field::user_agent], "dialback-agent/0.1.0");
}

TEST(RegistrationRequest, RoundTripsThroughTheWire) {
  const RegistrationRequest original = full_request();
  const auto parsed =
      parse_registration_request(parse_request_wire(serialize(build_registration_request(original))));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, original);
}

TEST(RegistrationRequest, AllocationRequestsRoundTrip) {
  RegistrationRequest original = full_request();
  original.allocation = {
      AllocationRequest::Kind::preferred, 9005, AllocationRequest::Kind::any, {}};
  Request req = build_registration_request(original);
  EXPECT_EQ(req["Dialback-Request-Port"], "9005");
  EXPECT_EQ(req["Dialback-Request-Host"], "auto");
  auto parsed = parse_registration_request(parse_request_wire(serialize(req)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, original);

  original.allocation = {AllocationRequest::Kind::any, 0, AllocationRequest::Kind::preferred,
                         "my-app"};
  req = build_registration_request(original);
  EXPECT_EQ(req["Dialback-Request-Port"], "auto");
  EXPECT_EQ(req["Dialback-Request-Host"], "my-app");
  parsed = parse_registration_request(parse_request_wire(serialize(req)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, original);

  // Nothing asked: no headers.
  req = build_registration_request(full_request());
  EXPECT_EQ(req.count("Dialback-Request-Port"), 0u);
  EXPECT_EQ(req.count("Dialback-Request-Host"), 0u);
}

TEST(AllocationRequest, HeaderValues) {
  std::uint16_t value = 0;
  EXPECT_EQ(parse_port_request("auto", value), AllocationRequest::Kind::any);
  EXPECT_EQ(parse_port_request("9005", value), AllocationRequest::Kind::preferred);
  EXPECT_EQ(value, 9005);
  for (const char* bad : {"", "0", "65536", "90a", "-1", "123456", " 9005"}) {
    EXPECT_FALSE(parse_port_request(bad, value).has_value()) << bad;
  }
  std::string label;
  EXPECT_EQ(parse_host_request("auto", label), AllocationRequest::Kind::any);
  EXPECT_EQ(parse_host_request("my-app2", label), AllocationRequest::Kind::preferred);
  EXPECT_EQ(label, "my-app2");
  const std::string too_long(64, 'a');
  for (const std::string& bad :
       {std::string(), std::string("-app"), std::string("app-"), std::string("My"),
        std::string("a.b"), std::string("a_b"), too_long}) {
    EXPECT_FALSE(parse_host_request(bad, label).has_value()) << bad;
  }
}

TEST(RegistrationRequest, MinimalRequestGetsDefaults) {
  RegistrationRequest minimal;
  minimal.host = "edge.example.test";
  minimal.tunnel = "web";
  minimal.node = "n1";
  minimal.session_id = generate_session_id();
  const Request req = build_registration_request(minimal);
  EXPECT_EQ(req.count("Dialback-Cluster"), 0u);
  EXPECT_EQ(req.count("Dialback-Labels"), 0u);
  EXPECT_EQ(req.count(http::field::authorization), 0u);

  const auto parsed = parse_registration_request(parse_request_wire(serialize(req)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->cluster, "web");
  EXPECT_EQ(parsed->tenant, "default");
  EXPECT_TRUE(parsed->labels.empty());
  EXPECT_EQ(parsed->authorization, std::nullopt);
  EXPECT_EQ(parsed->user_agent, "");
  EXPECT_EQ(parsed->session_id, minimal.session_id);
}

// Accepted variations of a valid request, each checked against a field.
struct AcceptCase {
  std::string name;
  std::function<void(Request&)> mutate;
  std::function<void(const RegistrationRequest&)> check;
};

void PrintTo(const AcceptCase& c, std::ostream* os) { *os << c.name; }

class RegistrationRequestAccepts : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(RegistrationRequestAccepts, Parses) {
  Request req = build_registration_request(full_request());
  GetParam().mutate(req);
  const auto parsed = parse_registration_request(parse_request_wire(serialize(req)));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  GetParam().check(*parsed);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RegistrationRequestAccepts,
    ::testing::Values(
        AcceptCase{"upgrade_list_mixed_case",
                   [](Request& r) { r.set(http::field::upgrade, "websocket, PTTH"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.tunnel, "web"); }},
        AcceptCase{"connection_list",
                   [](Request& r) { r.set(http::field::connection, "keep-alive, UPGRADE"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.node, "host-1.4242"); }},
        AcceptCase{"no_alpn_header", [](Request& r) { r.erase("ALPN"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.tunnel, "web"); }},
        AcceptCase{"alpn_list", [](Request& r) { r.set("ALPN", "h3, h2"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.tunnel, "web"); }},
        AcceptCase{"query_ignored",
                   [](Request& r) { r.target("/.well-known/dialback/v1/tunnel?debug=1"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.tunnel, "web"); }},
        AcceptCase{"upper_case_session",
                   [](Request& r) { r.set("Dialback-Session", "0123456789ABCDEF0123456789ABCDEF"); },
                   [](const RegistrationRequest& p) {
                     EXPECT_EQ(p.session_id, "0123456789abcdef0123456789abcdef");
                   }},
        AcceptCase{"labels_empty_elements_and_ows",
                   [](Request& r) { r.set("Dialback-Labels", " a=1 ,, \tb=2,"); },
                   [](const RegistrationRequest& p) {
                     const std::vector<std::pair<std::string, std::string>> want = {{"a", "1"},
                                                                                    {"b", "2"}};
                     EXPECT_EQ(p.labels, want);
                   }},
        AcceptCase{"labels_on_two_lines",
                   [](Request& r) {
                     r.set("Dialback-Labels", "a=1");
                     r.insert("Dialback-Labels", "b=2");
                   },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.labels.size(), 2u); }},
        AcceptCase{"empty_labels_header", [](Request& r) { r.set("Dialback-Labels", ""); },
                   [](const RegistrationRequest& p) { EXPECT_TRUE(p.labels.empty()); }},
        AcceptCase{"unknown_dialback_header_ignored",
                   [](Request& r) { r.set("Dialback-Future", "whatever"); },
                   [](const RegistrationRequest& p) { EXPECT_EQ(p.tunnel, "web"); }}),
    [](const ::testing::TestParamInfo<AcceptCase>& info) { return info.param.name; });

// ---- request rejections ----------------------------------------------------

struct RejectCase {
  std::string name;
  std::function<void(Request&)> mutate;
  int status;
  std::string code;
  std::string message_part;  // the message must name the problem
};

void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.name; }

class RegistrationRequestRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RegistrationRequestRejects, Rejects) {
  const RejectCase& c = GetParam();
  Request req = build_registration_request(full_request());
  c.mutate(req);
  const auto parsed = parse_registration_request(parse_request_wire(serialize(req)));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().status, c.status);
  EXPECT_EQ(parsed.error().code, c.code);
  EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
      << parsed.error().message;
  EXPECT_EQ(parsed.error().retry_after_seconds, std::nullopt);
}

void set_header(Request& r, std::string_view name, std::string_view value) { r.set(name, value); }

RejectCase bad(std::string name, std::function<void(Request&)> mutate, std::string part) {
  return {std::move(name), std::move(mutate), 400, "bad_request", std::move(part)};
}

INSTANTIATE_TEST_SUITE_P(
    Table, RegistrationRequestRejects,
    ::testing::Values(
        RejectCase{"other_path", [](Request& r) { r.target("/"); }, 404, "not_found",
                   "/.well-known/dialback/v1/tunnel"},
        RejectCase{"other_version_path",
                   [](Request& r) { r.target("/.well-known/dialback/v2/tunnel"); }, 404,
                   "not_found", "GET"},
        bad(
            "port_not_a_number", [](Request& r) { r.set("Dialback-Request-Port", "ssh"); },
            "Dialback-Request-Port must be auto or a port"),
        bad(
            "port_zero", [](Request& r) { r.set("Dialback-Request-Port", "0"); },
            "Dialback-Request-Port"),
        bad(
            "two_ports",
            [](Request& r) {
              r.set("Dialback-Request-Port", "9000");
              r.insert("Dialback-Request-Port", "9001");
            },
            "duplicate Dialback-Request-Port"),
        bad(
            "host_not_a_label", [](Request& r) { r.set("Dialback-Request-Host", "a.b"); },
            "Dialback-Request-Host must be auto or a DNS label"),
        bad(
            "host_upper_case", [](Request& r) { r.set("Dialback-Request-Host", "App"); },
            "Dialback-Request-Host"),
        bad(
            "post", [](Request& r) { r.method(http::verb::post); }, "GET"),
        bad(
            "http_1_0", [](Request& r) { r.version(10); }, "HTTP/1.1"),
        bad(
            "no_host", [](Request& r) { r.erase(http::field::host); }, "Host"),
        bad(
            "two_hosts", [](Request& r) { r.insert(http::field::host, "x.test"); }, "Host"),
        bad(
            "no_upgrade", [](Request& r) { r.erase(http::field::upgrade); }, "Upgrade"),
        bad(
            "upgrade_websocket", [](Request& r) { r.set(http::field::upgrade, "websocket"); },
            "ptth"),
        bad(
            "no_connection", [](Request& r) { r.erase(http::field::connection); }, "Connection"),
        bad(
            "connection_close", [](Request& r) { r.set(http::field::connection, "close"); },
            "upgrade"),
        bad(
            "alpn_not_h2", [](Request& r) { r.set("ALPN", "http%2F1.1"); }, "ALPN"),
        bad(
            "no_tunnel", [](Request& r) { r.erase("Dialback-Tunnel"); }, "Dialback-Tunnel"),
        bad(
            "empty_tunnel", [](Request& r) { set_header(r, "Dialback-Tunnel", ""); },
            "Dialback-Tunnel must be 1-63"),
        bad(
            "tunnel_bad_char", [](Request& r) { set_header(r, "Dialback-Tunnel", "we/b"); },
            "Dialback-Tunnel must be 1-63"),
        bad(
            "tunnel_too_long",
            [](Request& r) { set_header(r, "Dialback-Tunnel", std::string(64, 't')); },
            "Dialback-Tunnel must be 1-63"),
        bad(
            "two_tunnels", [](Request& r) { r.insert("Dialback-Tunnel", "api"); },
            "duplicate Dialback-Tunnel"),
        bad(
            "no_node", [](Request& r) { r.erase("Dialback-Node"); }, "Dialback-Node"),
        bad(
            "node_space", [](Request& r) { set_header(r, "Dialback-Node", "my node"); },
            "Dialback-Node must be 1-63"),
        bad(
            "cluster_bad", [](Request& r) { set_header(r, "Dialback-Cluster", "a:b"); },
            "Dialback-Cluster must be 1-63"),
        bad(
            "cluster_empty", [](Request& r) { set_header(r, "Dialback-Cluster", ""); },
            "Dialback-Cluster must be 1-63"),
        bad(
            "tenant_bad", [](Request& r) { set_header(r, "Dialback-Tenant", "t*"); },
            "Dialback-Tenant must be 1-63"),
        bad(
            "two_tenants", [](Request& r) { r.insert("Dialback-Tenant", "other"); },
            "duplicate Dialback-Tenant"),
        bad(
            "label_without_equals", [](Request& r) { set_header(r, "Dialback-Labels", "a=1, b"); },
            "key=value"),
        bad(
            "label_empty_value", [](Request& r) { set_header(r, "Dialback-Labels", "a="); },
            "keys and values"),
        bad(
            "label_empty_key", [](Request& r) { set_header(r, "Dialback-Labels", "=1"); },
            "keys and values"),
        bad(
            "label_bad_value", [](Request& r) { set_header(r, "Dialback-Labels", "a=b=c"); },
            "keys and values"),
        bad(
            "label_duplicate_key",
            [](Request& r) { set_header(r, "Dialback-Labels", "a=1, b=2, a=3"); }, "duplicate key"),
        bad(
            "too_many_labels",
            [](Request& r) {
              std::string labels;
              for (std::size_t i = 0; i <= kMaxLabels; ++i) {
                labels += "k" + std::to_string(i) + "=v, ";
              }
              set_header(r, "Dialback-Labels", labels);
            },
            "more than 32"),
        bad(
            "no_session", [](Request& r) { r.erase("Dialback-Session"); }, "Dialback-Session"),
        bad(
            "short_session",
            [](Request& r) { set_header(r, "Dialback-Session", "0123456789abcdef"); }, "32 hex"),
        bad(
            "long_session",
            [](Request& r) {
              set_header(r, "Dialback-Session", "0123456789abcdef0123456789abcdef0");
            },
            "32 hex"),
        bad(
            "non_hex_session",
            [](Request& r) {
              set_header(r, "Dialback-Session", "0123456789abcdef0123456789abcdeg");
            },
            "32 hex"),
        bad(
            "two_sessions", [](Request& r) { r.insert("Dialback-Session", generate_session_id()); },
            "duplicate Dialback-Session"),
        bad(
            "two_authorizations",
            [](Request& r) { r.insert(http::field::authorization, "Bearer other"); },
            "duplicate Authorization")),
    [](const ::testing::TestParamInfo<RejectCase>& info) { return info.param.name; });

}  // namespace
}  // namespace dialback
