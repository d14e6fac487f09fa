#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/authorization_header.hpp"
#include "auth/authorize.hpp"
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
  TunnelAuthPolicy policy{make_set({"good-token"}), {"agent-1", "agent-2.example.test"}};
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
    EXPECT_EQ(authorize(policy, Credentials{c.token, c.cert_names}), c.expected) << c.name;
  }
}

TEST(Authorize, EmptyPolicyAllowsNothing) {
  const TunnelAuthPolicy policy;
  EXPECT_EQ(authorize(policy, Credentials{"x", {}}), AuthOutcome::unauthorized);
  EXPECT_EQ(authorize(policy, Credentials{std::nullopt, {"agent-1"}}), AuthOutcome::forbidden);
  TunnelAuthPolicy with_empty_name{TokenSet{}, {""}};
  EXPECT_EQ(authorize(with_empty_name, Credentials{std::nullopt, {""}}), AuthOutcome::forbidden);
}

}  // namespace
}  // namespace dialback
