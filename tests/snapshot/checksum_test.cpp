#include "raftor/snapshot/checksum.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace raftor::snapshot {
namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& content) {
  auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(Checksum, IsSixteenNonZeroBytesAndStable) {
  const Checksum a = checksum_of("hello");
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, Checksum(16, '\0'));
  EXPECT_EQ(a, checksum_of("hello"));
  EXPECT_NE(a, checksum_of("hellp"));
}

TEST(Checksum, IncrementalEqualsOneShot) {
  Hasher h;
  h.update("hel");
  h.update("lo");
  EXPECT_EQ(h.digest(), checksum_of("hello"));
}

TEST(Checksum, FileMatchesBytes) {
  const std::string content(3 << 20, 'x');  // spans several read buffers
  auto path = write_temp("checksum_file_matches", content);
  auto sum = checksum_file(path);
  ASSERT_TRUE(sum.ok()) << sum.error().to_string();
  EXPECT_EQ(*sum, checksum_of(content));
  EXPECT_TRUE(verify_file_checksum(path, *sum).ok());
}

TEST(Checksum, VerifyRefusesMismatchEmptyAndMissing) {
  auto path = write_temp("checksum_verify", "data");
  auto wrong = verify_file_checksum(path, checksum_of("datb"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::checksum_mismatch);
  EXPECT_NE(wrong.error().message.find(to_hex(checksum_of("datb"))), std::string::npos);

  auto empty = verify_file_checksum(path, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::checksum_mismatch);

  auto missing = verify_file_checksum(path.string() + ".absent", checksum_of("data"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::io_error);
}

TEST(Checksum, Hex) { EXPECT_EQ(to_hex(std::string("\x00\xab\xff", 3)), "00abff"); }

}  // namespace
}  // namespace raftor::snapshot
