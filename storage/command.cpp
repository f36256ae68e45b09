#include "raftor/storage/command.hpp"

namespace raftor::command {

namespace {
std::string serialize(const pb::Command& cmd) {
  std::string out;
  cmd.SerializeToString(&out);
  return out;
}
}  // namespace

std::string put(std::string_view key, std::string_view value) {
  pb::Command cmd;
  cmd.mutable_put()->set_key(std::string(key));
  cmd.mutable_put()->set_value(std::string(value));
  return serialize(cmd);
}

std::string del(std::string_view key) {
  pb::Command cmd;
  cmd.mutable_del()->set_key(std::string(key));
  return serialize(cmd);
}

std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value) {
  pb::Command cmd;
  auto* op = cmd.mutable_cas();
  op->set_key(std::string(key));
  if (expected) op->set_expected(std::string(*expected));
  op->set_value(std::string(value));
  return serialize(cmd);
}

// --- tagged with the client's id and sequence ---------------------------------------------

namespace {
pb::Command tagged(ClientSequence tag) {
  pb::Command cmd;
  cmd.set_client_id(tag.client_id);
  cmd.set_sequence(tag.sequence);
  return cmd;
}
}  // namespace

std::string put(std::string_view key, std::string_view value, ClientSequence tag) {
  pb::Command cmd = tagged(tag);
  cmd.mutable_put()->set_key(std::string(key));
  cmd.mutable_put()->set_value(std::string(value));
  return serialize(cmd);
}

std::string del(std::string_view key, ClientSequence tag) {
  pb::Command cmd = tagged(tag);
  cmd.mutable_del()->set_key(std::string(key));
  return serialize(cmd);
}

std::string cas(std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, ClientSequence tag) {
  pb::Command cmd = tagged(tag);
  auto* op = cmd.mutable_cas();
  op->set_key(std::string(key));
  if (expected) op->set_expected(std::string(*expected));
  op->set_value(std::string(value));
  return serialize(cmd);
}

std::string noop() {
  pb::Command cmd;
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

}  // namespace raftor::command
