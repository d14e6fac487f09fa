#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/authorization_header.hpp"
#include "auth/authorize.hpp"
#include "auth/basic_credential_set.hpp"
#include "auth/external_auth_cache.hpp"
#include "auth/token.hpp"
#include "auth/token_set.hpp"

namespace dialback {
namespace {

constexpr const char* kTestHash =
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

TokenSet make_set(const std::vector<std::string>& entries) {
  auto set = TokenSet::from_entries(entries);
  EXPECT_TRUE(set.has_value()) << (set ? "" : set.error());
  return set ? std::move(*set) : TokenSet{};
}

TEST(HashToken, KnownVector) {
  EXPECT_EQ(hash_token("test"), kTestHash);
  EXPECT_EQ(hash_token(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(GenerateToken, LengthCharsetUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string token = generate_token();
    ASSERT_EQ(token.size(), 47u);
    ASSERT_EQ(token.substr(0, 4), "dbt_") << token;  // never starts with '-'
    for (char c : token.substr(4)) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_';
      ASSERT_TRUE(ok) << "unexpected character '" << c << "' in " << token;
    }
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Authorization, Bearer) {
  EXPECT_EQ(token_from_authorization("Bearer abc.DEF-123"), "abc.DEF-123");
  EXPECT_EQ(token_from_authorization("bearer abc"), "abc");
  EXPECT_EQ(token_from_authorization("BEARER abc"), "abc");
  EXPECT_EQ(token_from_authorization("  Bearer \t abc  "), "abc");
}

TEST(Authorization, BearerMalformed) {
  EXPECT_EQ(token_from_authorization(""), std::nullopt);
  EXPECT_EQ(token_from_authorization("Bearer"), std::nullopt);
  EXPECT_EQ(token_from_authorization("Bearer   "), std::nullopt);
  EXPECT_EQ(token_from_authorization("Bearer a b"), std::nullopt);
  EXPECT_EQ(token_from_authorization(std::string("Bearer a\0b", 10)), std::nullopt);
  EXPECT_EQ(token_from_authorization("Bearerabc"), std::nullopt);
  EXPECT_EQ(token_from_authorization("Token abc"), std::nullopt);
  EXPECT_EQ(token_from_authorization("Digest username=\"x\""), std::nullopt);
  EXPECT_EQ(token_from_authorization("Bearer " + std::string(9000, 'a')), std::nullopt);
}

TEST(Authorization, Basic) {
  EXPECT_EQ(token_from_authorization("Basic dXNlcjpwYXNz"), "pass");    // user:pass
  EXPECT_EQ(token_from_authorization("basic YWdlbnQ6"), "agent");       // agent:
  EXPECT_EQ(token_from_authorization("Basic OnNlY3JldA=="), "secret");  // :secret
  EXPECT_EQ(token_from_authorization("Basic dTpwOnE="), "p:q");         // u:p:q
}

TEST(Authorization, BasicMalformed) {
  EXPECT_EQ(token_from_authorization("Basic Og=="), std::nullopt);          // ":"
  EXPECT_EQ(token_from_authorization("Basic bm9jb2xvbg=="), std::nullopt);  // no colon
  EXPECT_EQ(token_from_authorization("Basic not-base64!"), std::nullopt);
  EXPECT_EQ(token_from_authorization("Basic dXNlcjpwYXN"), std::nullopt);   // bad length
  EXPECT_EQ(token_from_authorization("Basic dXNl=jpwYXNz"), std::nullopt);  // inner '='
  EXPECT_EQ(token_from_authorization("Basic"), std::nullopt);
}

TEST(Authorization, BasicPair) {
  EXPECT_EQ(basic_from_authorization("Basic dXNlcjpwYXNz"), (BasicCredential{"user", "pass"}));
  EXPECT_EQ(basic_from_authorization("basic YWdlbnQ6"), (BasicCredential{"agent", ""}));
  EXPECT_EQ(basic_from_authorization("Basic OnNlY3JldA=="), (BasicCredential{"", "secret"}));
  EXPECT_EQ(basic_from_authorization("Basic dTpwOnE="), (BasicCredential{"u", "p:q"}));
  EXPECT_EQ(basic_from_authorization("Basic Og=="), std::nullopt);  // ":"
  EXPECT_EQ(basic_from_authorization("Basic bm9jb2xvbg=="), std::nullopt);
  EXPECT_EQ(basic_from_authorization("Bearer dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(basic_from_authorization("Basic not-base64!"), std::nullopt);
  EXPECT_EQ(basic_from_authorization(""), std::nullopt);
}

TEST(Authorization, BuildsHeaderValues) {
  EXPECT_EQ(basic_authorization("user", "pass"), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(basic_authorization("u", "p:q"), "Basic dTpwOnE=");
  EXPECT_EQ(bearer_authorization("abc"), "Bearer abc");
  // Round trip, with every padding length.
  for (const std::string password : {"p", "pw", "pwd", "pass-word-0123456789"}) {
    EXPECT_EQ(basic_from_authorization(basic_authorization("agent", password)),
              (BasicCredential{"agent", password}));
  }
}

TEST(Authorization, CredentialsFromHeader) {
  const Credentials basic = credentials_from("Basic dXNlcjpwYXNz", {"agent-1"});
  EXPECT_EQ(basic.token, "pass");  // the password still counts as a token
  EXPECT_EQ(basic.basic, (BasicCredential{"user", "pass"}));
  EXPECT_EQ(basic.authorization, "Basic dXNlcjpwYXNz");
  EXPECT_EQ(basic.cert_names, std::vector<std::string>{"agent-1"});
  const Credentials bearer = credentials_from("Bearer tok", {});
  EXPECT_EQ(bearer.token, "tok");
  EXPECT_EQ(bearer.basic, std::nullopt);
  const Credentials none = credentials_from("", {});
  EXPECT_EQ(none.token, std::nullopt);
  EXPECT_TRUE(none.authorization.empty());
}

BasicCredentialSet make_basic(const std::vector<BasicCredential>& entries) {
  auto set = BasicCredentialSet::from_entries(entries);
  EXPECT_TRUE(set.has_value()) << (set ? "" : set.error());
  return set ? std::move(*set) : BasicCredentialSet{};
}

TEST(BasicCredentialSet, Matching) {
  // "test" hashes to kTestHash: alice's password is stored hashed.
  const BasicCredentialSet set = make_basic({{"alice", kTestHash}, {"bob", "hunter2"}});
  EXPECT_EQ(set.size(), 2u);
  const struct {
    const char* what;
    const char* user;
    const char* password;
    bool matches;
  } rows[] = {
      {"plain password", "bob", "hunter2", true},
      {"sha256 password", "alice", "test", true},
      {"the hash itself is not the password", "alice", kTestHash, false},
      {"wrong user", "carol", "hunter2", false},
      {"user of another entry", "alice", "hunter2", false},
      {"wrong password", "bob", "hunter3", false},
      {"user case matters", "Bob", "hunter2", false},
      {"empty password", "bob", "", false},
      {"empty user", "", "hunter2", false},
      {"both empty", "", "", false},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(set.matches(row.user, row.password), row.matches) << row.what;
  }
  EXPECT_FALSE(BasicCredentialSet{}.matches("bob", "hunter2"));
}

TEST(BasicCredentialSet, MalformedEntries) {
  const auto no_user = BasicCredentialSet::from_entries({{"ok", "pw"}, {"", "pw"}});
  ASSERT_FALSE(no_user.has_value());
  EXPECT_NE(no_user.error().find("basic[1]"), std::string::npos) << no_user.error();
  const auto bad_hash = BasicCredentialSet::from_entries({{"u", "sha256:abcd"}});
  ASSERT_FALSE(bad_hash.has_value());
  EXPECT_NE(bad_hash.error().find("64 hex"), std::string::npos) << bad_hash.error();
  EXPECT_FALSE(BasicCredentialSet::from_entries({{"u", ""}}).has_value());
  const auto padded = BasicCredentialSet::from_entries({{"u", "secret-pw "}});
  ASSERT_FALSE(padded.has_value());
  EXPECT_EQ(padded.error().find("secret-pw"), std::string::npos);
}

TEST(ExternalAuthCache, KeysHoldNoCredentialAndDifferPerField) {
  ExternalAuthQuery query{"http://auth.test/check", "Bearer s3cret", {{"Dialback-Tunnel", "web"}}};
  const std::string key = external_auth_cache_key(query);
  EXPECT_EQ(key.size(), 7u + 64u);
  EXPECT_EQ(key.find("s3cret"), std::string::npos);
  EXPECT_EQ(external_auth_cache_key(query), key);
  ExternalAuthQuery other = query;
  other.authorization = "Bearer s3cre";
  EXPECT_NE(external_auth_cache_key(other), key);
  other = query;
  other.headers[0].second = "api";
  EXPECT_NE(external_auth_cache_key(other), key);
  other = query;
  other.url = "http://auth.test/check2";
  EXPECT_NE(external_auth_cache_key(other), key);
  // Length prefixes: moving a byte from one field to the next changes the key.
  other = query;
  other.url += "B";
  other.authorization = "earer s3cret";
  EXPECT_NE(external_auth_cache_key(other), key);
}

TEST(ExternalAuthCache, ExpiresAndStaysBounded) {
  using namespace std::chrono_literals;
  const auto t0 = ExternalAuthCache::Clock::time_point{} + 1h;
  ExternalAuthCache cache(3);
  cache.store("a", ExternalVerdict::allowed, t0 + 10s, t0);
  cache.store("b", ExternalVerdict::forbidden, t0 + 20s, t0);
  EXPECT_EQ(cache.find("a", t0 + 9s), ExternalVerdict::allowed);
  EXPECT_EQ(cache.find("a", t0 + 10s), std::nullopt);  // expired
  EXPECT_EQ(cache.find("b", t0 + 10s), ExternalVerdict::forbidden);
  EXPECT_EQ(cache.find("c", t0), std::nullopt);
  // Replacing keeps one entry per key.
  cache.store("b", ExternalVerdict::unauthorized, t0 + 30s, t0 + 1s);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b", t0 + 25s), ExternalVerdict::unauthorized);
  // Full: expired entries go first ("a" at t0 + 11s) ...
  cache.store("c", ExternalVerdict::allowed, t0 + 40s, t0 + 2s);
  EXPECT_EQ(cache.size(), 3u);
  cache.store("d", ExternalVerdict::allowed, t0 + 50s, t0 + 11s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("b", t0 + 12s), ExternalVerdict::unauthorized);
  // ... then the one expiring soonest ("b").
  cache.store("e", ExternalVerdict::allowed, t0 + 60s, t0 + 12s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("b", t0 + 12s), std::nullopt);
  EXPECT_EQ(cache.find("c", t0 + 12s), ExternalVerdict::allowed);
  EXPECT_EQ(cache.find("e", t0 + 12s), ExternalVerdict::allowed);
  // A flood of distinct keys never grows it past its capacity.
  for (int i = 0; i < 1000; ++i) {
    cache.store("k" + std::to_string(i), ExternalVerdict::unauthorized, t0 + 100s, t0 + 13s);
  }
  EXPECT_EQ(cache.size(), 3u);
  // Nothing stored that is already expired, nor in a cache of capacity 0.
  ExternalAuthCache none(0);
  none.store("a", ExternalVerdict::allowed, t0 + 10s, t0);
  EXPECT_EQ(none.size(), 0u);
  cache.store("z", ExternalVerdict::allowed, t0, t0);
  EXPECT_EQ(cache.find("z", t0 - 1s), std::nullopt);
}

TEST(TokenSet, PlainEntries) {
  const TokenSet set = make_set({"alpha", "beta"});
  EXPECT_FALSE(set.empty());
  EXPECT_TRUE(set.matches("alpha"));
  EXPECT_TRUE(set.matches("beta"));
  EXPECT_FALSE(set.matches("gamma"));
  EXPECT_FALSE(set.matches("alph"));
  EXPECT_FALSE(set.matches(""));
}

TEST(TokenSet, HashedEntries) {
  const TokenSet set = make_set({kTestHash});
  EXPECT_TRUE(set.matches("test"));
  EXPECT_FALSE(set.matches(kTestHash));  // the hash itself is not a credential
  EXPECT_FALSE(set.matches("Test"));

  const TokenSet upper = make_set(
      {"SHA256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"});
  EXPECT_TRUE(upper.matches("test"));
}

TEST(TokenSet, MixedEntries) {
  const std::string generated = generate_token();
  const TokenSet set = make_set({"plain-one", hash_token(generated)});
  EXPECT_TRUE(set.matches("plain-one"));
  EXPECT_TRUE(set.matches(generated));
  EXPECT_FALSE(set.matches(generate_token()));
}

TEST(TokenSet, EmptySetMatchesNothing) {
  const TokenSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.matches("anything"));
  EXPECT_TRUE(make_set({}).empty());
}

TEST(TokenSet, MalformedEntries) {
  const auto short_hash = TokenSet::from_entries({"ok", "sha256:abcd"});
  ASSERT_FALSE(short_hash.has_value());
  EXPECT_NE(short_hash.error().find("tokens[1]"), std::string::npos) << short_hash.error();
  EXPECT_NE(short_hash.error().find("64 hex"), std::string::npos) << short_hash.error();

  std::string not_hex = kTestHash;
  not_hex.back() = 'g';
  EXPECT_FALSE(TokenSet::from_entries({not_hex}).has_value());
  EXPECT_FALSE(TokenSet::from_entries({std::string(kTestHash) + "0"}).has_value());
  EXPECT_FALSE(TokenSet::from_entries({"sha256:"}).has_value());
  EXPECT_FALSE(TokenSet::from_entries({""}).has_value());
  EXPECT_FALSE(TokenSet::from_entries({" padded"}).has_value());
  EXPECT_FALSE(TokenSet::from_entries({"padded\n"}).has_value());

  // The error message never echoes the secret.
  const auto err = TokenSet::from_entries({"secret-value "});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().find("secret-value"), std::string::npos);
}

struct AuthCase {
  const char* name;
  std::optional<std::string> token;
  std::vector<std::string> cert_names;
  AuthOutcome expected;
};

TEST(Authorize, Matrix) {
  TunnelAuthPolicy policy{make_set({"good-token"}), {"agent-1", "agent-2.example.test"}, {}};
  const std::vector<AuthCase> cases = {
      {"nothing", std::nullopt, {}, AuthOutcome::unauthorized},
      {"good token", "good-token", {}, AuthOutcome::allowed},
      {"bad token", "bad-token", {}, AuthOutcome::unauthorized},
      {"empty token", "", {}, AuthOutcome::unauthorized},
      {"allowed cert CN", std::nullopt, {"agent-1"}, AuthOutcome::allowed},
      {"allowed cert SAN", std::nullopt, {"other", "agent-2.example.test"}, AuthOutcome::allowed},
      {"cert name case", std::nullopt, {"AGENT-1"}, AuthOutcome::allowed},
      {"unknown cert", std::nullopt, {"intruder"}, AuthOutcome::forbidden},
      {"unknown cert + good token", "good-token", {"intruder"}, AuthOutcome::allowed},
      {"unknown cert + bad token", "bad-token", {"intruder"}, AuthOutcome::forbidden},
      {"allowed cert + bad token", "bad-token", {"agent-1"}, AuthOutcome::allowed},
      {"empty cert name", std::nullopt, {""}, AuthOutcome::forbidden},
  };
  for (const AuthCase& c : cases) {
    Credentials credentials;
    credentials.token = c.token;
    credentials.cert_names = c.cert_names;
    EXPECT_EQ(authorize(policy, credentials), c.expected) << c.name;
  }
}

TEST(Authorize, BasicPairs) {
  TunnelAuthPolicy policy{make_set({"good-token"}), {"agent-1"},
                          make_basic({{"agent", "right-password"}})};
  const struct {
    const char* what;
    const char* authorization;
    std::vector<std::string> cert_names;
    AuthOutcome expected;
  } rows[] = {
      {"right pair", "Basic YWdlbnQ6cmlnaHQtcGFzc3dvcmQ=", {}, AuthOutcome::allowed},
      {"wrong password", "Basic YWdlbnQ6d3JvbmctcGFzc3dvcmQ=", {}, AuthOutcome::unauthorized},
      {"wrong user", "Basic b3RoZXI6cmlnaHQtcGFzc3dvcmQ=", {}, AuthOutcome::unauthorized},
      // The password as a token (today's rule): any user with the token.
      {"token as password", "Basic YW55b25lOmdvb2QtdG9rZW4=", {}, AuthOutcome::allowed},
      {"wrong pair, unknown cert", "Basic YWdlbnQ6d3JvbmctcGFzc3dvcmQ=", {"x"},
       AuthOutcome::forbidden},
      {"right pair, unknown cert", "Basic YWdlbnQ6cmlnaHQtcGFzc3dvcmQ=", {"x"},
       AuthOutcome::allowed},
      {"bearer of the password", "Bearer right-password", {}, AuthOutcome::unauthorized},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(authorize(policy, credentials_from(row.authorization, row.cert_names)), row.expected)
        << row.what;
  }
}

TEST(Authorize, EmptyPolicyAllowsNothing) {
  const TunnelAuthPolicy policy;
  EXPECT_EQ(authorize(policy, credentials_from("Bearer x", {})), AuthOutcome::unauthorized);
  EXPECT_EQ(authorize(policy, credentials_from("", {"agent-1"})), AuthOutcome::forbidden);
  TunnelAuthPolicy with_empty_name{TokenSet{}, {""}, {}};
  EXPECT_EQ(authorize(with_empty_name, credentials_from("", {""})), AuthOutcome::forbidden);
}

}  // namespace
}  // namespace dialback
