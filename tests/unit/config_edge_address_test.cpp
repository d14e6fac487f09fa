// Edge addresses (edges[i].address, --edge): host:port and Envoy's
// rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT, from tables.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "config/edge_address.hpp"

namespace dialback {
namespace {

struct ValidCase {
  const char* name;
  const char* text;
  EdgeAddress expected;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.name; }

EdgeAddress plain(std::string host, std::uint16_t port) {
  EdgeAddress out;
  out.host = std::move(host);
  out.port = port;
  return out;
}

EdgeAddress rc(std::string node, std::string cluster, std::string tenant, std::string host,
               std::uint16_t port, int count) {
  EdgeAddress out = plain(std::move(host), port);
  out.rc = true;
  out.count = count;
  out.identity = {std::move(node), std::move(cluster), std::move(tenant)};
  return out;
}

class EdgeAddressValid : public testing::TestWithParam<ValidCase> {};

TEST_P(EdgeAddressValid, Parses) {
  const ValidCase& c = GetParam();
  auto parsed = parse_edge_address(c.text);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->host, c.expected.host);
  EXPECT_EQ(parsed->port, c.expected.port);
  EXPECT_EQ(parsed->rc, c.expected.rc);
  EXPECT_EQ(parsed->count, c.expected.count);
  EXPECT_EQ(parsed->identity.node, c.expected.identity.node);
  EXPECT_EQ(parsed->identity.cluster, c.expected.identity.cluster);
  EXPECT_EQ(parsed->identity.tenant, c.expected.identity.tenant);
  EXPECT_EQ(*parsed, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EdgeAddressValid,
    testing::Values(
        ValidCase{"HostPort", "edge.example.com:8443", plain("edge.example.com", 8443)},
        ValidCase{"Ipv4", "10.0.0.1:443", plain("10.0.0.1", 443)},
        ValidCase{"Ipv6", "[2001:db8::1]:443", plain("2001:db8::1", 443)},
        ValidCase{"RcFull", "rc://node-1:web:acme@edge.example.com:8443:2",
                  rc("node-1", "web", "acme", "edge.example.com", 8443, 2)},
        ValidCase{"RcAllPartsEmpty", "rc://::@edge.example.com:8443:1",
                  rc("", "", "", "edge.example.com", 8443, 1)},
        ValidCase{"RcOnlyCluster", "rc://:web:@h:1:3", rc("", "web", "", "h", 1, 3)},
        ValidCase{"RcOnlyTenant", "rc://::acme@h:65535:64", rc("", "", "acme", "h", 65535, 64)},
        ValidCase{"RcIpv6", "rc://n_1.a:c:t@[::1]:8443:1", rc("n_1.a", "c", "t", "::1", 8443, 1)},
        ValidCase{"RcIpv4", "rc://n::@127.0.0.1:9000:4", rc("n", "", "", "127.0.0.1", 9000, 4)},
        ValidCase{"RcSchemeAnyCase", "RC://n:c:t@h:1:1", rc("n", "c", "t", "h", 1, 1)},
        ValidCase{"RcIdentity63",
                  "rc://nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn::@h:1:1",
                  rc(std::string(63, 'n'), "", "", "h", 1, 1)}),
    [](const testing::TestParamInfo<ValidCase>& info) { return std::string(info.param.name); });

struct InvalidAddress {
  const char* name;
  const char* text;
  const char* message;  // substring of the error
};

void PrintTo(const InvalidAddress& c, std::ostream* os) { *os << c.name; }

class EdgeAddressInvalid : public testing::TestWithParam<InvalidAddress> {};

TEST_P(EdgeAddressInvalid, SaysWhy) {
  const InvalidAddress& c = GetParam();
  auto parsed = parse_edge_address(c.text);
  ASSERT_FALSE(parsed) << "expected an error for " << c.text;
  EXPECT_NE(parsed.error().find(c.message), std::string::npos) << parsed.error();
  EXPECT_NE(parsed.error().find(c.text), std::string::npos)
      << "the error quotes the address: " << parsed.error();
}

INSTANTIATE_TEST_SUITE_P(
    Table, EdgeAddressInvalid,
    testing::Values(
        // host:port, as before
        InvalidAddress{"NoPort", "edge.test", "expected host:port"},
        InvalidAddress{"PortZero", "edge.test:0", "from 1 to 65535"},
        InvalidAddress{"OtherScheme", "https://edge.test:443",
                       "expected host:port or rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT"},
        // rc:// structure
        InvalidAddress{"MissingAt", "rc://n:c:t", "missing '@'"},
        InvalidAddress{"MissingAtHostOnly", "rc://edge.test:8443:1", "missing '@'"},
        InvalidAddress{"SchemeOnly", "rc://", "missing '@'"},
        InvalidAddress{"TwoAts", "rc://n:c:t@h@x:1:1", "more than one '@'"},
        InvalidAddress{"TooFewIdentityColons", "rc://n:c@h:8443:1",
                       "expected NODE:CLUSTER:TENANT before '@'"},
        InvalidAddress{"NoIdentityColons", "rc://n@h:8443:1",
                       "expected NODE:CLUSTER:TENANT before '@'"},
        InvalidAddress{"TooManyIdentityColons", "rc://n:c:t:x@h:8443:1",
                       "expected NODE:CLUSTER:TENANT before '@'"},
        InvalidAddress{"MissingCount", "rc://::@h:8443", "expected HOST:PORT:COUNT after '@'"},
        InvalidAddress{"HostOnly", "rc://::@h", "expected HOST:PORT:COUNT after '@'"},
        InvalidAddress{"TooManyTargetColons", "rc://::@h:8443:1:2", "too many ':'"},
        InvalidAddress{"Ipv6WithoutBrackets", "rc://::@::1:8443:1",
                       "write an IPv6 host in brackets"},
        InvalidAddress{"Ipv6MissingBracket", "rc://::@[::1:8443:1", "missing ']'"},
        InvalidAddress{"Ipv6MissingCount", "rc://::@[::1]:8443",
                       "expected HOST:PORT:COUNT after '@'"},
        // identity parts
        InvalidAddress{"NodeWithSpace", "rc://a b:c:t@h:8443:1",
                       "node \"a b\" must be 1-63 characters of"},
        InvalidAddress{"ClusterWithSlash", "rc://n:c/x:t@h:8443:1",
                       "cluster \"c/x\" must be 1-63 characters"},
        InvalidAddress{"TenantWithBang", "rc://n:c:t!@h:8443:1",
                       "tenant \"t!\" must be 1-63 characters"},
        InvalidAddress{
            "NodeTooLong",
            "rc://nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn::@h:1:1",
            "must be 1-63 characters"},
        // host and port
        InvalidAddress{"EmptyHost", "rc://::@:8443:1", "missing host"},
        InvalidAddress{"BadHostChar", "rc://::@ho/st:8443:1", "invalid character in host"},
        InvalidAddress{"PortZeroRc", "rc://::@h:0:1", "port must be a number from 1 to 65535"},
        InvalidAddress{"PortTooBig", "rc://::@h:65536:1", "port must be a number"},
        InvalidAddress{"PortNotANumber", "rc://::@h:https:1", "port must be a number"},
        InvalidAddress{"PortEmpty", "rc://::@h::1", "missing port"},
        // COUNT
        InvalidAddress{"CountZero", "rc://::@h:8443:0",
                       "COUNT must be a number from 1 to 64, got \"0\""},
        InvalidAddress{"CountTooBig", "rc://::@h:8443:65", "COUNT must be a number from 1 to 64"},
        InvalidAddress{"CountEmpty", "rc://::@h:8443:", "COUNT must be a number from 1 to 64"},
        InvalidAddress{"CountNegative", "rc://::@h:8443:-1", "COUNT must be a number from 1 to 64"},
        InvalidAddress{"CountNotANumber", "rc://::@h:8443:2x",
                       "COUNT must be a number from 1 to 64"}),
    [](const testing::TestParamInfo<InvalidAddress>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace dialback
