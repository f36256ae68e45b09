// command::request_id: the cheap read of a command's (client id, sequence) agrees with a
// full parse, whatever the field order, and refuses what is not protobuf.
#include "raftor/storage/command.hpp"

#include <gtest/gtest.h>

namespace raftor {
namespace {

TEST(CommandTest, RequestIdOfEncodedCommands) {
  EXPECT_EQ(command::request_id(command::put("k", "v", {7, 3})), (RequestId{7, 3}));
  EXPECT_EQ(command::request_id(command::del("k", {1, 1})), (RequestId{1, 1}));
  EXPECT_EQ(command::request_id(command::cas("k", std::nullopt, "v", {9, 2})), (RequestId{9, 2}));
  EXPECT_EQ(command::request_id(command::noop({5, 8})), (RequestId{5, 8}));
  EXPECT_EQ(command::request_id(command::put("k", std::string(1000, 'v'))), (RequestId{0, 0}));
  EXPECT_FALSE((RequestId{0, 0}).tracked());
}

TEST(CommandTest, RequestIdAgreesWithAFullParseInAnyFieldOrder) {
  // Operation first, then the id fields, then the client id again (the last one wins):
  // concatenated messages merge, as a full parse does.
  pb::Command id_only;
  id_only.set_client_id(4);
  id_only.set_sequence(6);
  pb::Command client_again;
  client_again.set_client_id(0x7fff);
  const std::string payload = command::put("key", "value") + id_only.SerializeAsString() +
                              client_again.SerializeAsString();
  pb::Command full;
  ASSERT_TRUE(command::decode(payload, full));
  const auto id = command::request_id(payload);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->client_id, full.client_id());
  EXPECT_EQ(id->sequence, full.sequence());
  EXPECT_EQ(id->sequence, 6u);
}

TEST(CommandTest, RequestIdRefusesMalformedPayloads) {
  EXPECT_FALSE(command::request_id(std::string("\xff\xfe garbage", 10)).has_value());
  const std::string put = command::put("key", "value", {1, 2});
  EXPECT_FALSE(command::request_id(put.substr(0, put.size() - 2)).has_value()) << "truncated";
}

}  // namespace
}  // namespace raftor
