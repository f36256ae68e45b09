#include "raftor/storage/command.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace raftor::command {

namespace {
pb::Command with_id(RequestId id) {
  pb::Command cmd;
  cmd.set_client_id(id.client_id);
  cmd.set_sequence(id.sequence);
  return cmd;
}

std::string serialize(const pb::Command& cmd) {
  std::string out;
  cmd.SerializeToString(&out);
  return out;
}
}  // namespace

std::string put(std::string_view key, std::string_view value, RequestId id) {
  pb::Command cmd = with_id(id);
  cmd.mutable_put()->set_key(std::string(key));
  cmd.mutable_put()->set_value(std::string(value));
  return serialize(cmd);
}

std::string del(std::string_view key, RequestId id) {
  pb::Command cmd = with_id(id);
  cmd.mutable_del()->set_key(std::string(key));
  return serialize(cmd);
}

std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, RequestId id) {
  pb::Command cmd = with_id(id);
  auto* op = cmd.mutable_cas();
  op->set_key(std::string(key));
  if (expected) op->set_expected(std::string(*expected));
  op->set_value(std::string(value));
  return serialize(cmd);
}

std::string noop(RequestId id) {
  pb::Command cmd = with_id(id);
  cmd.mutable_noop();
  return serialize(cmd);
}

Status decode(std::string_view payload, pb::Command& out) {
  if (!out.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return make_error(ErrorCode::malformed_entry, "payload is not a Command (" +
                                                      std::to_string(payload.size()) + " bytes)");
  }
  if (out.op_case() == pb::Command::OP_NOT_SET) {
    return make_error(ErrorCode::malformed_entry, "command names no operation");
  }
  return {};
}

Status decode(const Entry& entry, pb::Command& out) {
  if (auto s = decode(std::string_view(entry.payload), out); !s) {
    return make_error(s.error().code,
                      "entry " + std::to_string(entry.index) + ": " + s.error().message);
  }
  return {};
}

std::optional<RequestId> request_id(std::string_view payload) {
  using google::protobuf::internal::WireFormatLite;
  constexpr std::uint32_t client_id_tag =
      WireFormatLite::MakeTag(pb::Command::kClientIdFieldNumber, WireFormatLite::WIRETYPE_VARINT);
  constexpr std::uint32_t sequence_tag =
      WireFormatLite::MakeTag(pb::Command::kSequenceFieldNumber, WireFormatLite::WIRETYPE_VARINT);
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(payload.data()),
                                            static_cast<int>(payload.size()));
  RequestId id;
  // Fields may come in any order and repeat (the last one wins), as in a full parse.
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (!in.ConsumedEntireMessage()) return std::nullopt;
      return id;
    }
    bool ok = true;
    if (tag == client_id_tag) {
      ok = in.ReadVarint64(&id.client_id);
    } else if (tag == sequence_tag) {
      ok = in.ReadVarint64(&id.sequence);
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok) return std::nullopt;
  }
}

}  // namespace raftor::command
