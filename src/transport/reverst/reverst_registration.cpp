#include "transport/reverst/reverst_registration.hpp"

#include <span>
#include <utility>
#include <vector>

#include <msgpack/null_visitor.hpp>
#include <msgpack/pack.hpp>
#include <msgpack/parse.hpp>
#include <msgpack/unpack.hpp>  // the parser's load<>/value<> helpers
#include <msgpack/unpack_exception.hpp>

namespace dialback::reverst {
namespace {

// The Go field names: without struct tags, msgpack v5 keys each field by
// its Go name (types.go getFields: field.name = f.Name).
constexpr std::string_view kVersionName = "Version";
constexpr std::string_view kTunnelGroupName = "TunnelGroup";
constexpr std::string_view kMetadataName = "Metadata";
constexpr std::string_view kCodeName = "Code";
constexpr std::string_view kBodyName = "Body";

// ---- encoding ----------------------------------------------------------

// msgpack::packer writes to anything with write(const char*, size_t).
struct StringSink {
  std::string& out;
  void write(const char* data, std::size_t size) {
    if (size != 0) out.append(data, size);  // data may be null when empty
  }
};

using Packer = msgpack::packer<StringSink>;

// msgpack-c's pack_str/pack_bin/pack_map choose the same widths as Go's
// encodeStringLen/EncodeBytesLen/EncodeMapLen (fix, 8, 16, 32 bits at the
// same thresholds). Their lengths are 32-bit, like msgpack's; a
// registration is far shorter (or our own decoder would refuse it).
void pack_string(Packer& packer, std::string_view value) {
  packer.pack_str(static_cast<std::uint32_t>(value.size()));
  packer.pack_str_body(value.data(), static_cast<std::uint32_t>(value.size()));
}

// Go's encodeUint8CondValue without UseCompactInts (Reverst's encoder is
// msgpack.GetEncoder() then Reset, which clears every flag): always 0xcc NN.
void pack_uint8(Packer& packer, std::uint8_t value) { packer.pack_fix_uint8(value); }

// Go writes a nil map as nil; our empty Metadata stands for it.
void pack_metadata(Packer& packer, const Metadata& metadata) {
  if (metadata.empty()) {
    packer.pack_nil();
    return;
  }
  packer.pack_map(static_cast<std::uint32_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    pack_string(packer, key);
    pack_string(packer, value);
  }
}

// Go's EncodeBytes: nil for a nil slice, else bin.
void pack_bytes(Packer& packer, std::string_view bytes) {
  if (bytes.empty()) {
    packer.pack_nil();
    return;
  }
  packer.pack_bin(static_cast<std::uint32_t>(bytes.size()));
  packer.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
}

// ---- decoding ----------------------------------------------------------

// Where the next msgpack value goes.
enum class Slot {
  message,     // the top-level value
  field_name,  // a key of the message map
  version,     // the value of a field ...
  code,
  tunnel_group,
  metadata,
  body,
  ignored,         // an unknown field's value, or anything inside one
  metadata_key,    // a key of the Metadata map
  metadata_value,  // a value of the Metadata map
};

struct FieldName {
  std::string_view name;
  Slot slot;
};

// In Go struct order: an array-encoded struct lists the fields in it.
constexpr FieldName kRequestFields[] = {
    {kVersionName, Slot::version},
    {kTunnelGroupName, Slot::tunnel_group},
    {kMetadataName, Slot::metadata},
};
constexpr FieldName kResponseFields[] = {
    {kVersionName, Slot::version},
    {kCodeName, Slot::code},
    {kMetadataName, Slot::metadata},
    {kBodyName, Slot::body},
};

// The fields of both messages; each decoder reads the ones it has.
struct Fields {
  std::uint8_t version = 0;
  std::uint8_t code = 0;
  std::string tunnel_group;
  Metadata metadata;
  std::string body;
};

const char* slot_name(Slot slot) {
  switch (slot) {
    case Slot::message: return "message";
    case Slot::field_name: return "field name";
    case Slot::version: return "Version";
    case Slot::code: return "Code";
    case Slot::tunnel_group: return "TunnelGroup";
    case Slot::metadata: return "Metadata";
    case Slot::body: return "Body";
    case Slot::ignored: return "ignored field";
    case Slot::metadata_key: return "Metadata key";
    case Slot::metadata_value: return "Metadata value";
  }
  return "value";
}

// What msgpack-c's parser reports, event by event, turned into Fields with
// the rules of Go's decoder (decode_map.go decodeStructValue/decodeStruct,
// decode_number.go uint, decode_string.go bytesLen, decode_map.go
// decodeMapStringStringPtr, decode.go Skip). Returning false stops the
// parser: the input is malformed and error() says why. Declared lengths
// reserve nothing: msgpack-c reports a str or bin once all of it is there,
// and a container's size is only a count. What the visitor allocates is the
// strings it keeps (bounded by the input) and a level per nesting (bounded
// by kMaxNesting, which also bounds msgpack-c's own stack).
class MessageVisitor : public msgpack::null_visitor {
 public:
  explicit MessageVisitor(std::span<const FieldName> fields) : fields_(fields) {}

  Fields& fields() { return values_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

  bool visit_nil() {
    switch (slot()) {
      case Slot::message: return true;  // Go: a nil struct is the zero value
      case Slot::field_name: return name_field({});
      case Slot::version: values_.version = 0; return true;
      case Slot::code: values_.code = 0; return true;
      case Slot::tunnel_group: values_.tunnel_group.clear(); return true;
      case Slot::metadata: values_.metadata.clear(); return true;  // Go: nil map
      case Slot::body: values_.body.clear(); return true;
      case Slot::ignored: return true;
      case Slot::metadata_key: return metadata_key({});
      case Slot::metadata_value: return metadata_value({});
    }
    return true;
  }
  bool visit_boolean(bool) { return scalar("a boolean"); }
  bool visit_float32(float) { return scalar("a float"); }
  bool visit_float64(double) { return scalar("a float"); }
  bool visit_ext(const char*, std::uint32_t) { return scalar("an ext value"); }
  bool visit_positive_integer(std::uint64_t value) { return integer(value); }
  // msgpack-c reports every int8..int64 here, non-negative ones too.
  bool visit_negative_integer(std::int64_t value) {
    return integer(static_cast<std::uint64_t>(value));
  }
  bool visit_str(const char* data, std::uint32_t size) { return bytes(data, size); }
  bool visit_bin(const char* data, std::uint32_t size) { return bytes(data, size); }

  bool start_array(std::uint32_t size) {
    if (!room_to_nest()) return false;
    const Slot here = slot();
    if (here == Slot::message) {
      // Go's array-encoded struct: exactly every field, in order; an empty
      // array is the zero value.
      if (size != 0 && size != fields_.size()) {
        return fail("message: an array of " + std::to_string(size) + " values, not " +
                    std::to_string(fields_.size()) + " fields");
      }
      levels_.emplace_back(Level::message_array);
      return true;
    }
    if (here == Slot::ignored) {
      levels_.emplace_back(Level::ignored);
      return true;
    }
    return mismatch(here, "an array");
  }
  bool end_array_item() {
    if (levels_.back().kind == Level::message_array) ++levels_.back().index;
    return true;
  }
  bool end_array() {
    levels_.pop_back();
    return true;
  }

  bool start_map(std::uint32_t size) {
    if (!room_to_nest()) return false;
    const Slot here = slot();
    switch (here) {
      case Slot::message: levels_.emplace_back(Level::message_map); return true;
      case Slot::metadata:
        if (size > kMaxMetadataEntries) return too_much_metadata();
        levels_.emplace_back(Level::metadata);
        return true;
      case Slot::ignored: levels_.emplace_back(Level::ignored); return true;
      default: return mismatch(here, "a map");
    }
  }
  bool start_map_key() {
    levels_.back().in_key = true;
    return true;
  }
  bool start_map_value() {
    levels_.back().in_key = false;
    return true;
  }
  bool end_map() {
    levels_.pop_back();
    return true;
  }

  // msgpack-c calls this for a byte that starts no msgpack value (0xc1,
  // the one the format leaves unused) with its offset.
  void parse_error(std::size_t, std::size_t offset) {
    fail("not msgpack: byte 0x" + hex(offset) + " at offset " + std::to_string(offset));
  }

  // The input, to name the offending byte of a parse error.
  void set_input(std::string_view input) { input_ = input; }

 private:
  struct Level {
    enum Kind { message_map, message_array, metadata, ignored };
    explicit Level(Kind kind) : kind(kind) {}
    Kind kind;
    bool in_key = true;
    Slot field = Slot::ignored;  // message_map: the field whose value comes next
    std::size_t index = 0;       // message_array: the field whose value comes next
    std::string key;             // metadata: the key whose value comes next
  };

  Slot slot() const {
    if (levels_.empty()) return Slot::message;
    const Level& level = levels_.back();
    switch (level.kind) {
      case Level::message_map: return level.in_key ? Slot::field_name : level.field;
      case Level::message_array: return fields_[level.index].slot;
      case Level::metadata: return level.in_key ? Slot::metadata_key : Slot::metadata_value;
      case Level::ignored: return Slot::ignored;
    }
    return Slot::ignored;
  }

  bool integer(std::uint64_t value) {
    // Go: DecodeUint64, then reflect's SetUint, which keeps the low 8 bits.
    const Slot here = slot();
    if (here == Slot::version) {
      values_.version = static_cast<std::uint8_t>(value);
    } else if (here == Slot::code) {
      values_.code = static_cast<std::uint8_t>(value);
    } else if (here != Slot::ignored) {
      return mismatch(here, "an integer");
    }
    return true;
  }

  // str and bin alike: Go's bytesLen takes either for strings and []byte.
  bool bytes(const char* data, std::uint32_t size) {
    // msgpack-c passes a null pointer for an empty fixstr.
    const std::string_view value = size == 0 ? std::string_view() : std::string_view(data, size);
    switch (const Slot here = slot()) {
      case Slot::field_name: return name_field(value);
      case Slot::tunnel_group: values_.tunnel_group.assign(value); return true;
      case Slot::body: values_.body.assign(value); return true;
      case Slot::metadata_key: return metadata_key(value);
      case Slot::metadata_value: return metadata_value(value);
      case Slot::ignored: return true;
      default: return mismatch(here, "a string");
    }
  }

  bool scalar(const char* what) {
    const Slot here = slot();
    return here == Slot::ignored || mismatch(here, what);
  }

  // Go's decodeStruct looks the name up as is: case-sensitive, and nil
  // reads as "", which names no field.
  bool name_field(std::string_view name) {
    Slot field = Slot::ignored;
    for (const FieldName& candidate : fields_) {
      if (candidate.name == name) field = candidate.slot;
    }
    levels_.back().field = field;
    return true;
  }

  bool metadata_key(std::string_view key) {
    levels_.back().key.assign(key);
    return true;
  }

  // Later entries replace earlier ones with the same key, and a repeated
  // Metadata field adds to the map (Go decodes into the existing map).
  bool metadata_value(std::string_view value) {
    values_.metadata.insert_or_assign(std::move(levels_.back().key), std::string(value));
    if (values_.metadata.size() > kMaxMetadataEntries) return too_much_metadata();
    return true;
  }

  bool room_to_nest() {
    if (levels_.size() < kMaxNesting) return true;
    return fail("nested deeper than " + std::to_string(kMaxNesting) + " levels");
  }

  bool too_much_metadata() {
    return fail("Metadata: more than " + std::to_string(kMaxMetadataEntries) + " entries");
  }

  bool mismatch(Slot slot, const char* what) {
    const std::string expected = slot == Slot::message                         ? "a map"
                                 : slot == Slot::version || slot == Slot::code ? "an integer"
                                 : slot == Slot::metadata                      ? "a map"
                                                                               : "a string";
    return fail(std::string(slot_name(slot)) + ": " + what + " where " + expected +
                " was expected");
  }

  std::string hex(std::size_t offset) const {
    static constexpr char kDigits[] = "0123456789abcdef";
    if (offset >= input_.size()) return "??";
    const auto byte = static_cast<unsigned char>(input_[offset]);
    return {kDigits[byte >> 4], kDigits[byte & 0xf]};
  }

  bool fail(std::string message) {
    if (!failed_) error_ = std::move(message);
    failed_ = true;
    return false;
  }

  std::span<const FieldName> fields_;
  std::vector<Level> levels_;
  Fields values_;
  std::string_view input_;
  bool failed_ = false;
  std::string error_;
};

template <typename Message>
Decoded<Message> with_status(typename Decoded<Message>::Status status) {
  Decoded<Message> result;
  result.status = status;
  return result;
}

template <typename Message>
Decoded<Message> malformed(std::string error) {
  auto result = with_status<Message>(Decoded<Message>::Status::malformed);
  result.error = std::move(error);
  return result;
}

// Parses the front of `input` into Fields; on success `consumed` is the
// message's length.
template <typename Message>
Decoded<Message> decode_fields(std::string_view input, std::span<const FieldName> names,
                               Fields& fields, std::size_t& consumed) {
  // Never look past the bound: a message longer than that is refused
  // however it would have gone on.
  const std::string_view bounded = input.substr(0, kMaxMessageBytes);
  MessageVisitor visitor(names);
  visitor.set_input(bounded);
  std::size_t offset = 0;
  bool complete = false;
  try {
    complete = msgpack::parse(bounded.data(), bounded.size(), offset, visitor);
  } catch (const msgpack::unpack_error& e) {
    // ext_size_overflow: an ext32 of length 0xffffffff where size_t has 32
    // bits. Nothing else in the parser throws.
    return malformed<Message>(std::string("not msgpack: ") + e.what());
  }
  if (complete) {
    fields = std::move(visitor.fields());
    consumed = offset;
    return with_status<Message>(Decoded<Message>::Status::complete);
  }
  if (visitor.failed()) return malformed<Message>(visitor.error());
  if (input.size() >= kMaxMessageBytes) {
    return malformed<Message>("message longer than " + std::to_string(kMaxMessageBytes) + " bytes");
  }
  return with_status<Message>(Decoded<Message>::Status::need_more);
}

bool is_go_space(char c) {
  // The ASCII part of Go's unicode.IsSpace (strings.TrimSpace also trims
  // U+0085, U+00A0 and other Unicode spaces, which no credential starts or
  // ends with).
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

std::string encode(const RegisterListenerRequest& request) {
  std::string out;
  StringSink sink{out};
  Packer packer(sink);
  packer.pack_map(3);
  pack_string(packer, kVersionName);
  pack_uint8(packer, request.version);
  pack_string(packer, kTunnelGroupName);
  pack_string(packer, request.tunnel_group);
  pack_string(packer, kMetadataName);
  pack_metadata(packer, request.metadata);
  return out;
}

std::string encode(const RegisterListenerResponse& response) {
  std::string out;
  StringSink sink{out};
  Packer packer(sink);
  packer.pack_map(4);
  pack_string(packer, kVersionName);
  pack_uint8(packer, response.version);
  pack_string(packer, kCodeName);
  pack_uint8(packer, static_cast<std::uint8_t>(response.code));
  pack_string(packer, kMetadataName);
  pack_metadata(packer, response.metadata);
  pack_string(packer, kBodyName);
  pack_bytes(packer, response.body);
  return out;
}

Decoded<RegisterListenerRequest> decode_request(std::string_view input) {
  Fields fields;
  std::size_t consumed = 0;
  auto result = decode_fields<RegisterListenerRequest>(input, kRequestFields, fields, consumed);
  if (result.status == Decoded<RegisterListenerRequest>::Status::complete) {
    result.message.version = fields.version;
    result.message.tunnel_group = std::move(fields.tunnel_group);
    result.message.metadata = std::move(fields.metadata);
    result.consumed = consumed;
  }
  return result;
}

Decoded<RegisterListenerResponse> decode_response(std::string_view input) {
  Fields fields;
  std::size_t consumed = 0;
  auto result = decode_fields<RegisterListenerResponse>(input, kResponseFields, fields, consumed);
  if (result.status == Decoded<RegisterListenerResponse>::Status::complete) {
    result.message.version = fields.version;
    result.message.code = static_cast<ResponseCode>(fields.code);
    result.message.metadata = std::move(fields.metadata);
    result.message.body = std::move(fields.body);
    result.consumed = consumed;
  }
  return result;
}

std::optional<std::string_view> authorization(const Metadata& metadata) {
  const auto it = metadata.find(std::string(kAuthorizationKey));
  if (it == metadata.end()) return std::nullopt;
  return it->second;
}

std::optional<AuthorizationParts> split_authorization(std::string_view value) {
  while (!value.empty() && is_go_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_go_space(value.back())) value.remove_suffix(1);
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  return AuthorizationParts{value.substr(0, space), value.substr(space + 1)};
}

}  // namespace dialback::reverst
