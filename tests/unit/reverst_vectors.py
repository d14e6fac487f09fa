#!/usr/bin/python3
"""Test vectors for the Reverst registration codec, written with Debian's
python3-msgpack so that no dialback code produces them.

  reverst_vectors.py             prints the C++ header (reverst_vectors.hpp)
  reverst_vectors.py --check F   exits 1 unless F is exactly what it prints

Reverst (github.com/flipt-io/reverst, pkg/protocol/protocol.go) sends

  type RegisterListenerRequest struct {
      Version     uint8
      TunnelGroup string
      Metadata    map[string]string
  }
  type RegisterListenerResponse struct {
      Version  uint8
      Code     ResponseCode // uint8
      Metadata map[string]string
      Body     []byte
  }

through vmihailenco/msgpack v5.4.1 with a default encoder (GetEncoder, then
Reset: no flags). The "go" vectors are the bytes that encoder writes, built
from the rules of its source:
  - a struct without tags: a map (EncodeMapLen: fixmap, map16, map32) of
    field name -> value, fields in declaration order (encode_map.go
    encodeStructValue; types.go getFields keeps f.Name as the key);
  - uint8 and ResponseCode: 0xcc NN always, UseCompactInts being off
    (encode_number.go encodeUint8Cond);
  - string: fixstr below 32 bytes, then str8, str16, str32
    (encode_slice.go encodeStringLen);
  - map[string]string: nil map -> nil (0xc0), else a map of str -> str in
    Go's map order, which is random; the vectors use key order, which is
    also what SetSortMapKeys(true) gives (encode_map.go
    encodeMapStringStringValue);
  - []byte: nil slice -> nil, else bin8, bin16, bin32 (encode_slice.go
    EncodeBytes).
python3-msgpack packs every piece; only the 0xcc prefix of a uint8 is
written by hand, since msgpack-python always picks the shortest integer.

The "accepted" vectors are other encodings Go's decoder reads into the same
structs (decode_map.go decodeStructValue, decode_number.go uint,
decode_string.go bytesLen, decode.go Skip); the "rejected" ones are values
Go's decoder refuses.

These were checked once against the Go library itself (msgpack v5.4.1 and
tagparser v2.0.0 built from source with go1.19, outside this repository):
the "go" vectors are byte-identical to what its encoder writes, its decoder
reads the "accepted" ones into the values reverst_registration_test.cpp
expects, and it refuses every "rejected" one.
"""

import base64
import struct
import sys
import textwrap

import msgpack


def pack(value):
    """One msgpack value, str as str and bytes as bin (the current spec)."""
    return msgpack.packb(value, use_bin_type=True)


def map_header(size):
    return msgpack.Packer().pack_map_header(size)


def array_header(size):
    return msgpack.Packer().pack_array_header(size)


def go_uint8(value):
    return bytes([0xCC, value])


def go_string(value):
    return pack(value)


def go_map_string_string(entries):
    if entries is None:
        return pack(None)
    out = map_header(len(entries))
    for key in sorted(entries):
        out += pack(key) + pack(entries[key])
    return out


def go_bytes(value):
    return pack(None) if value is None else pack(bytes(value))


def go_struct(fields):
    """fields: (name, encoded value) in struct order."""
    out = map_header(len(fields))
    for name, encoded in fields:
        out += pack(name) + encoded
    return out


def go_request(version, tunnel_group, metadata):
    return go_struct([
        ("Version", go_uint8(version)),
        ("TunnelGroup", go_string(tunnel_group)),
        ("Metadata", go_map_string_string(metadata)),
    ])


def go_response(version, code, metadata, body):
    return go_struct([
        ("Version", go_uint8(version)),
        ("Code", go_uint8(code)),
        ("Metadata", go_map_string_string(metadata)),
        ("Body", go_bytes(body)),
    ])


BASIC = "Basic " + base64.b64encode(b"agent:s3cret").decode()
MANY = {"key-%02d" % i: "value-%02d" % i for i in range(16)}
GROUP_40 = "g" * 40
GROUP_300 = "group-" + "x" * 294
BODY_300 = bytes(range(256)) + bytes(44)

# (name, Go value or description, bytes)
GO_REQUESTS = [
    ("kGoRequestNoAuth",
     'RegisterListenerRequest{Version: 1, TunnelGroup: "default"} '
     "(a client without Authenticator: nil Metadata)",
     go_request(1, "default", None)),
    ("kGoRequestBearer",
     'RegisterListenerRequest{Version: 1, TunnelGroup: "default", '
     'Metadata: {"Authorization": "Bearer secret-token"}} (BearerAuthenticator)',
     go_request(1, "default", {"Authorization": "Bearer secret-token"})),
    ("kGoRequestBasic",
     'RegisterListenerRequest{Version: 1, TunnelGroup: "flipt.example.com", '
     'Metadata: {"Authorization": "Basic base64(agent:s3cret)"}} (BasicAuthenticator)',
     go_request(1, "flipt.example.com", {"Authorization": BASIC})),
    ("kGoRequestZero",
     "RegisterListenerRequest{} (every field its zero value)",
     go_request(0, "", None)),
    ("kGoRequestManyMetadata",
     'RegisterListenerRequest{Version: 1, TunnelGroup: "default", Metadata: '
     '{"key-00": "value-00", ... "key-15": "value-15"}} (16 entries: map16)',
     go_request(1, "default", MANY)),
    ("kGoRequestGroup40",
     "RegisterListenerRequest{Version: 1, TunnelGroup: 40 x \"g\"} (str8)",
     go_request(1, GROUP_40, None)),
    ("kGoRequestGroup300",
     "RegisterListenerRequest{Version: 1, TunnelGroup: \"group-\" + 294 x \"x\"} (str16)",
     go_request(1, GROUP_300, None)),
]

GO_RESPONSES = [
    ("kGoResponseOk",
     "RegisterListenerResponse{Version: 1, Code: CodeOK} "
     "(what internal/server/server.go writes on success)",
     go_response(1, 0, None, None)),
    ("kGoResponseWithBody",
     'RegisterListenerResponse{Version: 1, Code: CodeUnauthorized, '
     'Metadata: {"Reason": "bad token"}, Body: []byte("denied")}',
     go_response(1, 3, {"Reason": "bad token"}, b"denied")),
    ("kGoResponseBody300",
     "RegisterListenerResponse{Version: 1, Code: CodeServerError, "
     "Body: bytes 0..255 then 44 zeros} (bin16)",
     go_response(1, 4, None, BODY_300)),
]

AUTH = {"Authorization": "Bearer secret-token"}

ACCEPTED_REQUESTS = [
    ("kAcceptedRequestCompactInts",
     "as kGoRequestBearer, Version as positive fixint (UseCompactInts)",
     go_struct([("Version", pack(1)), ("TunnelGroup", go_string("default")),
                ("Metadata", go_map_string_string(AUTH))])),
    ("kAcceptedRequestWideVersion",
     "as kGoRequestNoAuth, Version as uint64 0x0000000000000001",
     go_struct([("Version", b"\xcf" + struct.pack(">Q", 1)),
                ("TunnelGroup", go_string("default")),
                ("Metadata", pack(None))])),
    ("kAcceptedRequestTruncatedVersion",
     "Version as uint16 257: Go's SetUint keeps the low 8 bits, 1",
     go_struct([("Version", b"\xcd" + struct.pack(">H", 257)),
                ("TunnelGroup", go_string("default")),
                ("Metadata", pack(None))])),
    ("kAcceptedRequestNegativeVersion",
     "Version as negative fixint -1: Go reads 255",
     go_struct([("Version", pack(-1)), ("TunnelGroup", go_string("default")),
                ("Metadata", pack(None))])),
    ("kAcceptedRequestBinStrings",
     "as kGoRequestBearer, every string (field names too) as bin",
     map_header(3)
     + pack(b"Version") + go_uint8(1)
     + pack(b"TunnelGroup") + pack(b"default")
     + pack(b"Metadata") + map_header(1)
     + pack(b"Authorization") + pack(b"Bearer secret-token")),
    ("kAcceptedRequestRawStrings",
     "as kGoRequestGroup40, strings in the old raw form (no str8: raw16)",
     msgpack.packb({"Version": 1, "TunnelGroup": GROUP_40, "Metadata": None},
                   use_bin_type=False)),
    ("kAcceptedRequestReordered",
     "as kGoRequestBearer, fields in another order, with unknown fields "
     "(array, map, float, bool, ext, timestamp, nil) that Go skips",
     pack({"Metadata": AUTH,
           "Extra": [1, [2, {"a": [3.5, True]}], None],
           "TunnelGroup": "default",
           "Nested": {"x": {"y": {"z": msgpack.ExtType(7, b"abc")}}},
           "When": msgpack.Timestamp(1700000000, 5),
           "Float": 1.25,
           "Version": 1})),
    ("kAcceptedRequestCaseMismatch",
     "keys version/tunnelGroup/METADATA: Go matches names exactly, so all are "
     "ignored and the request is the zero value",
     pack({"version": 1, "tunnelGroup": "default", "METADATA": AUTH})),
    ("kAcceptedRequestArray",
     "as kGoRequestBearer, array-encoded (UseArrayEncodedStructs)",
     pack([1, "default", AUTH])),
    ("kAcceptedRequestEmptyArray",
     "an empty array: Go's zero value",
     pack([])),
    ("kAcceptedRequestNil",
     "nil: Go's zero value",
     pack(None)),
    ("kAcceptedRequestMap16",
     "as kGoRequestNoAuth, the struct map as map16 and Metadata as map32",
     b"\xde" + struct.pack(">H", 3)
     + pack("Version") + go_uint8(1)
     + pack("TunnelGroup") + pack("default")
     + pack("Metadata") + b"\xdf" + struct.pack(">I", 1)
     + pack("Authorization") + pack("Bearer secret-token")),
    ("kAcceptedRequestNilStrings",
     "TunnelGroup nil, a Metadata value nil, a nil field name (Go: \"\", no such field)",
     map_header(4)
     + pack("Version") + go_uint8(1)
     + pack("TunnelGroup") + pack(None)
     + pack(None) + pack("skipped")
     + pack("Metadata") + map_header(1) + pack("Authorization") + pack(None)),
    ("kAcceptedRequestRepeated",
     "Version twice (the last wins), Metadata twice (Go merges into one map), "
     "a Metadata key twice (the last wins)",
     map_header(5)
     + pack("Version") + go_uint8(9)
     + pack("Metadata") + map_header(2) + pack("a") + pack("1") + pack("b") + pack("2")
     + pack("TunnelGroup") + pack("default")
     + pack("Metadata") + map_header(2) + pack("b") + pack("3") + pack("b") + pack("4")
     + pack("Version") + go_uint8(1)),
    ("kAcceptedRequestThenMore",
     "kGoRequestNoAuth followed by 3 unrelated bytes",
     go_request(1, "default", None) + b"\x01\x02\x03"),
]

ACCEPTED_RESPONSES = [
    ("kAcceptedResponseLoose",
     "as kGoResponseWithBody, Code as int8, Body as str, Metadata value as bin",
     go_struct([("Version", pack(1)), ("Code", b"\xd0\x03"),
                ("Metadata", map_header(1) + pack("Reason") + pack(b"bad token")),
                ("Body", pack("denied"))])),
    ("kAcceptedResponseArray",
     "as kGoResponseOk, array-encoded, Code and Body nil",
     pack([1, None, None, None])),
]

REJECTED_REQUESTS = [
    ("kRejectedRequestNotMap",
     "a string where the struct should be",
     pack("Version")),
    ("kRejectedRequestVersionString",
     "Version as a string",
     pack({"Version": "1", "TunnelGroup": "default"})),
    ("kRejectedRequestVersionFloat",
     "Version as a float",
     pack({"Version": 1.0, "TunnelGroup": "default"})),
    ("kRejectedRequestGroupInteger",
     "TunnelGroup as an integer",
     pack({"Version": 1, "TunnelGroup": 7})),
    ("kRejectedRequestMetadataArray",
     "Metadata as an array",
     pack({"Version": 1, "Metadata": ["Authorization", "Bearer x"]})),
    ("kRejectedRequestMetadataNumber",
     "a Metadata value as an integer",
     pack({"Version": 1, "Metadata": {"Authorization": 5}})),
    ("kRejectedRequestIntegerKey",
     "an integer field name",
     pack({1: 1, "TunnelGroup": "default"})),
    ("kRejectedRequestArrayLength",
     "an array of 2 values (Go: the struct has 3 fields)",
     pack([1, "default"])),
    ("kRejectedRequestReservedByte",
     "0xc1, the byte msgpack never uses, as a field value",
     map_header(1) + pack("Version") + b"\xc1"),
]


def c_literal(data):
    """Adjacent C++ string literals, every byte as \\xNN, 16 a line."""
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        lines.append('"' + "".join("\\x%02x" % b for b in chunk) + '"')
    return lines or ['""']


def emit(out, group):
    for name, comment, data in group:
        out.extend(textwrap.wrap(comment, width=100, initial_indent="// ",
                                 subsequent_indent="// "))
        out.append("inline constexpr std::string_view %s{" % name)
        literal = c_literal(data)
        for line in literal[:-1]:
            out.append("    " + line)
        out.append("    %s," % literal[-1])
        out.append("    %d};" % len(data))
        out.append("")


def emit_list(out, list_name, group):
    out.append("inline constexpr Vector %s[] = {" % list_name)
    for name, _, _ in group:
        out.append('    {"%s", %s},' % (name, name))
    out.append("};")
    out.append("")


def header():
    out = [
        "// Generated by tests/unit/reverst_vectors.py (python3-msgpack); do not edit.",
        "// Regenerate: /usr/bin/python3 tests/unit/reverst_vectors.py > tests/unit/reverst_vectors.hpp",
        "// The ctest reverst_vectors_current fails when this file and the script differ.",
        "#pragma once",
        "",
        "#include <string_view>",
        "",
        "namespace dialback::reverst::vectors {",
        "",
        "struct Vector {",
        "  std::string_view name;",
        "  std::string_view bytes;",
        "};",
        "",
        "// ---- What Go's msgpack v5 writes (our encoder must match byte for byte)",
        "",
    ]
    emit(out, GO_REQUESTS + GO_RESPONSES)
    out.append("// ---- Other encodings Go's decoder accepts")
    out.append("")
    emit(out, ACCEPTED_REQUESTS + ACCEPTED_RESPONSES)
    out.append("// ---- Encodings Go's decoder refuses")
    out.append("")
    emit(out, REJECTED_REQUESTS)
    emit_list(out, "kGoRequests", GO_REQUESTS)
    emit_list(out, "kGoResponses", GO_RESPONSES)
    emit_list(out, "kAcceptedRequests", ACCEPTED_REQUESTS)
    emit_list(out, "kAcceptedResponses", ACCEPTED_RESPONSES)
    emit_list(out, "kRejectedRequests", REJECTED_REQUESTS)
    out.append("}  // namespace dialback::reverst::vectors")
    return "\n".join(out) + "\n"


def main(argv):
    text = header()
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2], encoding="utf-8") as f:
            committed = f.read()
        if committed != text:
            print("%s differs from what %s generates; regenerate it:\n"
                  "  /usr/bin/python3 %s > %s" % (argv[2], argv[0], argv[0], argv[2]),
                  file=sys.stderr)
            return 1
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
