// The Reverst registration codec (transport/reverst): byte-for-byte equal to
// what Go's msgpack v5 writes, reading every encoding Go's decoder reads,
// need_more on every prefix, and malformed (never a crash, never unbounded)
// on hostile input. The vectors come from python3-msgpack
// (reverst_vectors.py), not from our code.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "reverst_vectors.hpp"
#include "transport/reverst/reverst_registration.hpp"

namespace dialback::reverst {
namespace {

using RequestStatus = Decoded<RegisterListenerRequest>::Status;
using ResponseStatus = Decoded<RegisterListenerResponse>::Status;

const Metadata kBearer{{"Authorization", "Bearer secret-token"}};

Metadata many_metadata(std::size_t count) {
  Metadata metadata;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
    metadata.emplace("key-" + n, "value-" + n);
  }
  return metadata;
}

std::string body_300() {
  std::string body;
  for (int i = 0; i < 256; ++i) body.push_back(static_cast<char>(i));
  body.append(44, '\0');
  return body;
}

// The Go values the "go" vectors encode.
std::vector<std::pair<std::string_view, RegisterListenerRequest>> go_requests() {
  return {
      {vectors::kGoRequestNoAuth, {1, "default", {}}},
      {vectors::kGoRequestBearer, {1, "default", kBearer}},
      {vectors::kGoRequestBasic,
       {1, "flipt.example.com", {{"Authorization", "Basic YWdlbnQ6czNjcmV0"}}}},
      {vectors::kGoRequestZero, {}},
      {vectors::kGoRequestManyMetadata, {1, "default", many_metadata(16)}},
      {vectors::kGoRequestGroup40, {1, std::string(40, 'g'), {}}},
      {vectors::kGoRequestGroup300, {1, "group-" + std::string(294, 'x'), {}}},
  };
}

std::vector<std::pair<std::string_view, RegisterListenerResponse>> go_responses() {
  return {
      {vectors::kGoResponseOk, {1, ResponseCode::ok, {}, ""}},
      {vectors::kGoResponseWithBody,
       {1, ResponseCode::unauthorized, {{"Reason", "bad token"}}, "denied"}},
      {vectors::kGoResponseBody300, {1, ResponseCode::server_error, {}, body_300()}},
  };
}

// What Go's decoder makes of the "accepted" vectors.
std::vector<std::pair<std::string_view, RegisterListenerRequest>> accepted_requests() {
  return {
      {vectors::kAcceptedRequestCompactInts, {1, "default", kBearer}},
      {vectors::kAcceptedRequestWideVersion, {1, "default", {}}},
      {vectors::kAcceptedRequestTruncatedVersion, {1, "default", {}}},
      {vectors::kAcceptedRequestNegativeVersion, {255, "default", {}}},
      {vectors::kAcceptedRequestBinStrings, {1, "default", kBearer}},
      {vectors::kAcceptedRequestRawStrings, {1, std::string(40, 'g'), {}}},
      {vectors::kAcceptedRequestReordered, {1, "default", kBearer}},
      {vectors::kAcceptedRequestCaseMismatch, {}},
      {vectors::kAcceptedRequestArray, {1, "default", kBearer}},
      {vectors::kAcceptedRequestEmptyArray, {}},
      {vectors::kAcceptedRequestNil, {}},
      {vectors::kAcceptedRequestMap16, {1, "default", kBearer}},
      {vectors::kAcceptedRequestNilStrings, {1, "", {{"Authorization", ""}}}},
      {vectors::kAcceptedRequestRepeated, {1, "default", {{"a", "1"}, {"b", "4"}}}},
      {vectors::kAcceptedRequestThenMore, {1, "default", {}}},
  };
}

std::vector<std::pair<std::string_view, RegisterListenerResponse>> accepted_responses() {
  return {
      {vectors::kAcceptedResponseLoose,
       {1, ResponseCode::unauthorized, {{"Reason", "bad token"}}, "denied"}},
      {vectors::kAcceptedResponseArray, {1, ResponseCode::ok, {}, ""}},
  };
}

TEST(ReverstRegistration, TablesCoverEveryVector) {
  EXPECT_EQ(go_requests().size(), std::size(vectors::kGoRequests));
  EXPECT_EQ(go_responses().size(), std::size(vectors::kGoResponses));
  EXPECT_EQ(accepted_requests().size(), std::size(vectors::kAcceptedRequests));
  EXPECT_EQ(accepted_responses().size(), std::size(vectors::kAcceptedResponses));
}

TEST(ReverstRegistration, EncodesRequestsAsGoDoes) {
  for (const auto& [bytes, request] : go_requests()) {
    EXPECT_EQ(encode(request), bytes) << request.tunnel_group;
  }
}

TEST(ReverstRegistration, EncodesResponsesAsGoDoes) {
  for (const auto& [bytes, response] : go_responses()) {
    EXPECT_EQ(encode(response), bytes) << static_cast<int>(response.code);
  }
}

TEST(ReverstRegistration, DecodesWhatGoWrites) {
  for (const auto& [bytes, request] : go_requests()) {
    const auto decoded = decode_request(bytes);
    ASSERT_EQ(decoded.status, RequestStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, request);
    EXPECT_EQ(decoded.consumed, bytes.size());
  }
  for (const auto& [bytes, response] : go_responses()) {
    const auto decoded = decode_response(bytes);
    ASSERT_EQ(decoded.status, ResponseStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, response);
    EXPECT_EQ(decoded.consumed, bytes.size());
  }
}

TEST(ReverstRegistration, DecodesOtherEncodingsGoAccepts) {
  for (const auto& [bytes, request] : accepted_requests()) {
    const auto decoded = decode_request(bytes);
    ASSERT_EQ(decoded.status, RequestStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, request) << request.tunnel_group;
  }
  for (const auto& [bytes, response] : accepted_responses()) {
    const auto decoded = decode_response(bytes);
    ASSERT_EQ(decoded.status, ResponseStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, response);
  }
}

TEST(ReverstRegistration, LeavesBytesAfterTheMessage) {
  const auto decoded = decode_request(vectors::kAcceptedRequestThenMore);
  ASSERT_EQ(decoded.status, RequestStatus::complete);
  EXPECT_EQ(decoded.consumed, vectors::kGoRequestNoAuth.size());
  EXPECT_EQ(vectors::kAcceptedRequestThenMore.size() - decoded.consumed, 3u);
}

TEST(ReverstRegistration, EveryPrefixNeedsMore) {
  // Go writes a message byte by byte to the QUIC stream: it may arrive in
  // any number of pieces.
  std::vector<std::string_view> requests, responses;
  for (const auto& v : vectors::kGoRequests) requests.push_back(v.bytes);
  for (const auto& v : vectors::kAcceptedRequests) requests.push_back(v.bytes);
  for (const auto& v : vectors::kGoResponses) responses.push_back(v.bytes);
  for (const auto& v : vectors::kAcceptedResponses) responses.push_back(v.bytes);
  for (std::string_view bytes : requests) {
    const std::size_t length = decode_request(bytes).consumed;
    ASSERT_GT(length, 0u);
    for (std::size_t n = 0; n < length; ++n) {
      EXPECT_EQ(decode_request(bytes.substr(0, n)).status, RequestStatus::need_more)
          << n << " of " << length;
    }
  }
  for (std::string_view bytes : responses) {
    const std::size_t length = decode_response(bytes).consumed;
    ASSERT_GT(length, 0u);
    for (std::size_t n = 0; n < length; ++n) {
      EXPECT_EQ(decode_response(bytes.substr(0, n)).status, ResponseStatus::need_more)
          << n << " of " << length;
    }
  }
}

TEST(ReverstRegistration, RefusesWhatGoRefuses) {
  for (const auto& v : vectors::kRejectedRequests) {
    const auto decoded = decode_request(v.bytes);
    EXPECT_EQ(decoded.status, RequestStatus::malformed) << v.name;
    EXPECT_FALSE(decoded.error.empty()) << v.name;
    // No prefix of it is a message either.
    for (std::size_t n = 0; n < v.bytes.size(); ++n) {
      EXPECT_NE(decode_request(v.bytes.substr(0, n)).status, RequestStatus::complete) << v.name;
    }
  }
}

TEST(ReverstRegistration, ErrorsNameTheField) {
  EXPECT_EQ(decode_request(vectors::kRejectedRequestVersionString).error,
            "Version: a string where an integer was expected");
  EXPECT_EQ(decode_request(vectors::kRejectedRequestMetadataArray).error,
            "Metadata: an array where a map was expected");
  EXPECT_EQ(decode_request(vectors::kRejectedRequestArrayLength).error,
            "message: an array of 2 values, not 3 fields");
  EXPECT_EQ(decode_request(vectors::kRejectedRequestReservedByte).error,
            "not msgpack: byte 0xc1 at offset 9");
}

TEST(ReverstRegistration, ResponseFieldsAreNotRequestFields) {
  // Each decoder knows only its struct's names: Go skips the others.
  const auto as_request = decode_request(vectors::kGoResponseWithBody);
  ASSERT_EQ(as_request.status, RequestStatus::complete);
  EXPECT_EQ(as_request.message, (RegisterListenerRequest{1, "", {{"Reason", "bad token"}}}));
  const auto as_response = decode_response(vectors::kGoRequestBearer);
  ASSERT_EQ(as_response.status, ResponseStatus::complete);
  EXPECT_EQ(as_response.message, (RegisterListenerResponse{1, ResponseCode::ok, kBearer, ""}));
}

TEST(ReverstRegistration, RoundTrips) {
  const std::vector<RegisterListenerRequest> requests = {
      {},
      {kVersion, "default", kBearer},
      {7, std::string(70, 'a'), many_metadata(kMaxMetadataEntries)},
      {kVersion, std::string(300, 'b'), {{"", ""}, {std::string(40, 'k'), std::string(300, 'v')}}},
      {kVersion, std::string("nul\0inside", 10), {{"k", std::string(1, '\0')}}},
  };
  for (const auto& request : requests) {
    const std::string bytes = encode(request);
    const auto decoded = decode_request(bytes);
    ASSERT_EQ(decoded.status, RequestStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, request);
    EXPECT_EQ(decoded.consumed, bytes.size());
  }
  const std::vector<RegisterListenerResponse> responses = {
      {},
      {kVersion, ResponseCode::ok, {}, ""},
      {kVersion, ResponseCode::not_found, kBearer, std::string(40000, 'z')},
      {kVersion, static_cast<ResponseCode>(200), {{"a", "b"}}, std::string(1, '\0')},
  };
  for (const auto& response : responses) {
    const std::string bytes = encode(response);
    const auto decoded = decode_response(bytes);
    ASSERT_EQ(decoded.status, ResponseStatus::complete) << decoded.error;
    EXPECT_EQ(decoded.message, response);
  }
}

// A request map with one field whose value is `value`.
std::string request_with(std::string_view name, std::string_view value) {
  std::string bytes = "\x81";
  bytes.push_back(static_cast<char>(0xa0 | name.size()));
  bytes.append(name);
  bytes.append(value);
  return bytes;
}

TEST(ReverstRegistration, BoundsTheMessageSize) {
  // Exactly kMaxMessageBytes is fine...
  RegisterListenerRequest request{kVersion, std::string(1000, 'x'), {}};
  const std::size_t overhead = encode(request).size() - 1000;
  request.tunnel_group.assign(kMaxMessageBytes - overhead, 'x');
  const std::string largest = encode(request);
  ASSERT_EQ(largest.size(), kMaxMessageBytes);
  EXPECT_EQ(decode_request(largest).status, RequestStatus::complete);
  // ...one byte more is not, however much of it has arrived.
  request.tunnel_group.push_back('x');
  const std::string larger = encode(request);
  EXPECT_EQ(decode_request(std::string_view(larger).substr(0, kMaxMessageBytes - 1)).status,
            RequestStatus::need_more);
  const auto refused = decode_request(std::string_view(larger).substr(0, kMaxMessageBytes));
  EXPECT_EQ(refused.status, RequestStatus::malformed);
  EXPECT_EQ(refused.error, "message longer than 65536 bytes");
  EXPECT_EQ(decode_request(larger).status, RequestStatus::malformed);
}

TEST(ReverstRegistration, HugeDeclaredLengthsAllocateNothing) {
  // str32, bin32, array32, map32 and ext32 headers claiming 4 GiB: the decoder
  // waits (need_more) without reserving anything, and refuses at the bound.
  const std::string headers[] = {
      std::string("\xdb\xff\xff\xff\xff", 5),  // TunnelGroup str32
      std::string("\xc6\xff\xff\xff\xff", 5),  // TunnelGroup bin32
  };
  for (const std::string& header : headers) {
    std::string bytes = request_with("TunnelGroup", header);
    EXPECT_EQ(decode_request(bytes).status, RequestStatus::need_more);
    bytes.resize(kMaxMessageBytes, 'a');
    EXPECT_EQ(decode_request(bytes).status, RequestStatus::malformed);
  }
  // An ignored field's array32 of 2^32-1 elements, filled with fixints.
  std::string array = request_with("X", std::string("\xdd\xff\xff\xff\xff", 5));
  EXPECT_EQ(decode_request(array).status, RequestStatus::need_more);
  array.resize(kMaxMessageBytes + 100, '\x01');
  EXPECT_EQ(decode_request(array).status, RequestStatus::malformed);
  // Metadata map32 of 2^32-1 entries is refused at once.
  const auto metadata = decode_request(request_with("Metadata", "\xdf\xff\xff\xff\xff"));
  EXPECT_EQ(metadata.status, RequestStatus::malformed);
  EXPECT_EQ(metadata.error, "Metadata: more than 64 entries");
  // ext32 of length 0xffffffff, which msgpack-c refuses by throwing where
  // size_t has 32 bits.
  std::string ext = request_with("X", std::string("\xc9\xff\xff\xff\xff\x01", 6));
  EXPECT_EQ(decode_request(ext).status, RequestStatus::need_more);
  ext.resize(kMaxMessageBytes, '\0');
  EXPECT_EQ(decode_request(ext).status, RequestStatus::malformed);
}

TEST(ReverstRegistration, BoundsMetadataEntries) {
  RegisterListenerRequest request{kVersion, "default", many_metadata(kMaxMetadataEntries)};
  EXPECT_EQ(decode_request(encode(request)).status, RequestStatus::complete);
  request.metadata.emplace("one-more", "x");
  EXPECT_EQ(decode_request(encode(request)).status, RequestStatus::malformed);

  // Two Metadata fields, each within the bound, merge beyond it.
  std::string twice = "\x82";
  for (char prefix : {'a', 'b'}) {
    twice += "\xa8Metadata\xde";
    twice.push_back('\0');
    twice.push_back(static_cast<char>(40));
    for (int i = 0; i < 40; ++i) {
      const std::string key = std::string(1, prefix) + std::to_string(100 + i);
      twice.push_back(static_cast<char>(0xa0 | key.size()));
      twice += key;
      twice += "\xa1v";
    }
  }
  const auto merged = decode_request(twice);
  EXPECT_EQ(merged.status, RequestStatus::malformed);
  EXPECT_EQ(merged.error, "Metadata: more than 64 entries");
}

TEST(ReverstRegistration, BoundsNesting) {
  // The message map plus n nested arrays in an ignored field.
  auto nested = [](std::size_t n) {
    return request_with("X", std::string(n, '\x91') + std::string("\xc0"));
  };
  EXPECT_EQ(decode_request(nested(kMaxNesting - 1)).status, RequestStatus::complete);
  const auto deep = decode_request(nested(kMaxNesting));
  EXPECT_EQ(deep.status, RequestStatus::malformed);
  EXPECT_EQ(deep.error, "nested deeper than 32 levels");
  // Even when the rest has not arrived.
  EXPECT_EQ(decode_request(request_with("X", std::string(1000, '\x91'))).status,
            RequestStatus::malformed);
}

TEST(ReverstRegistration, SurvivesMutatedVectors) {
  // Mutations of every vector: any outcome but a crash (run it under the
  // sanitizers too), and a complete message never claims bytes it lacks.
  std::mt19937 random(20240611);
  std::vector<std::string_view> seeds;
  for (const auto& v : vectors::kGoRequests) seeds.push_back(v.bytes);
  for (const auto& v : vectors::kGoResponses) seeds.push_back(v.bytes);
  for (const auto& v : vectors::kAcceptedRequests) seeds.push_back(v.bytes);
  for (const auto& v : vectors::kRejectedRequests) seeds.push_back(v.bytes);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(seeds[random() % seeds.size()]);
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const std::size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0: bytes[at] = static_cast<char>(random()); break;
        case 1: bytes.erase(at, 1 + random() % 8); break;
        case 2: bytes.insert(at, 1, static_cast<char>(random())); break;
      }
    }
    const auto request = decode_request(bytes);
    if (request.status == RequestStatus::complete) {
      EXPECT_LE(request.consumed, bytes.size());
      EXPECT_GT(request.consumed, 0u);
    }
    const auto response = decode_response(bytes);
    if (response.status == ResponseStatus::complete) {
      EXPECT_LE(response.consumed, bytes.size());
    }
  }
}

TEST(ReverstRegistration, FindsAndSplitsAuthorization) {
  EXPECT_EQ(authorization(kBearer), "Bearer secret-token");
  EXPECT_EQ(authorization({{"authorization", "Bearer x"}}), std::nullopt);  // exact key
  EXPECT_EQ(authorization({}), std::nullopt);

  EXPECT_EQ(split_authorization("Bearer secret-token"),
            (AuthorizationParts{"Bearer", "secret-token"}));
  EXPECT_EQ(split_authorization("  Basic YWdlbnQ6czNjcmV0\r\n"),
            (AuthorizationParts{"Basic", "YWdlbnQ6czNjcmV0"}));
  // Cut at the first space only; the rest is the payload as it is.
  EXPECT_EQ(split_authorization("Bearer  two  spaces"),
            (AuthorizationParts{"Bearer", " two  spaces"}));
  EXPECT_EQ(split_authorization("Bearer"), std::nullopt);
  EXPECT_EQ(split_authorization("Bearer\ttoken"), std::nullopt);  // a space, not a tab
  EXPECT_EQ(split_authorization("   "), std::nullopt);
}

TEST(ReverstRegistration, ConstantsAreReverstsOwn) {
  EXPECT_EQ(kAlpn, "quic-h3-tunnel");
  EXPECT_EQ(kVersion, 1);
  EXPECT_EQ(kApplicationOk, 0x0u);
  EXPECT_EQ(kApplicationError, 0x1u);
  EXPECT_EQ(kApplicationClientError, 0x2u);
  EXPECT_EQ(static_cast<int>(ResponseCode::server_error), 4);
}

}  // namespace
}  // namespace dialback::reverst
