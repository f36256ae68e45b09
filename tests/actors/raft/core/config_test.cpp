// RaftConfig::validate() and describe(Message).
#include "core_test_util.hpp"

namespace raftor::raft::test {
namespace {

// Expects validate() to fail with invalid_argument and a message containing `needle`.
void expect_invalid(const RaftConfig& cfg, const std::string& needle) {
  Status s = cfg.validate();
  ASSERT_FALSE(s.ok()) << "expected an error mentioning " << needle;
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
}

TEST(RaftConfigValidation, AcceptsDefaultsAndLearners) {
  EXPECT_TRUE(make_config(1, {1, 2, 3}).validate().ok());
  EXPECT_TRUE(make_config(4, {1, 2, 3}, {4}).validate().ok());
  RaftConfig lease = make_config(1, {1});
  lease.lease_ticks = 8;  // 8 + 1 < 10
  EXPECT_TRUE(lease.validate().ok());
}

TEST(RaftConfigValidation, RejectsHeartbeatNotBelowElection) {
  RaftConfig cfg = make_config(1, {1, 2, 3});
  cfg.heartbeat_ticks = 10;
  expect_invalid(cfg, "heartbeat_ticks (10) must be below election_ticks (10)");
}

TEST(RaftConfigValidation, RejectsLeaseNotBelowElectionMinusDrift) {
  RaftConfig cfg = make_config(1, {1, 2, 3});
  cfg.lease_ticks = 9;  // 9 + 1 >= 10
  expect_invalid(cfg, "lease_ticks (9)");
  cfg.lease_ticks = 7;
  cfg.lease_drift_ticks = 3;
  expect_invalid(cfg, "lease_drift_ticks");
}

TEST(RaftConfigValidation, RejectsIdInNeitherList) {
  expect_invalid(make_config(9, {1, 2, 3}), "id 9 is in neither voters nor learners");
  expect_invalid(make_config(0, {1, 2, 3}), "id must not be 0");
}

TEST(RaftConfigValidation, RejectsDuplicates) {
  expect_invalid(make_config(1, {1, 2, 2}), "node 2 listed twice");
  expect_invalid(make_config(1, {1, 2, 3}, {3}), "node 3 listed twice");
  expect_invalid(make_config(1, {1, 0}), "node id 0");
}

TEST(RaftConfigValidation, RejectsEmptyVoters) {
  expect_invalid(make_config(1, {}, {1}), "voters is empty");
}

TEST(RaftConfigValidation, RejectsZeroTicksOrWindow) {
  RaftConfig cfg = make_config(1, {1});
  cfg.election_ticks = 0;
  expect_invalid(cfg, "election_ticks must be > 0");
  cfg = make_config(1, {1});
  cfg.heartbeat_ticks = 0;
  expect_invalid(cfg, "heartbeat_ticks must be > 0");
  cfg = make_config(1, {1});
  cfg.max_inflight_appends = 0;
  expect_invalid(cfg, "max_inflight_appends");
  cfg = make_config(1, {1});
  cfg.max_append_bytes = 0;
  expect_invalid(cfg, "max_append_bytes");
}

TEST(RaftMessages, DescribeRendersOneLine) {
  EXPECT_EQ(describe(append(1, 2, 3, {4, 2}, entry_run(5, 7, 3), 4, 9)),
            "AppendRequest 1->2 term=3 prev=(4,2) entries=[5..7] commit=4 ctx=9");
  EXPECT_EQ(describe(append(1, 2, 3, {4, 2})),
            "AppendRequest 1->2 term=3 prev=(4,2) entries=[] commit=0 ctx=0");
  EXPECT_EQ(describe(append_ok(2, 1, 3, 7, 9)), "AppendResponse 2->1 term=3 success match=7 ctx=9");
  EXPECT_EQ(describe(append_reject(2, 1, 3, {4, 1})),
            "AppendResponse 2->1 term=3 reject conflict=(4,1) ctx=0");
  EXPECT_EQ(describe(vote_request(1, 2, 3, {4, 2}, true)),
            "VoteRequest 1->2 term=3 last=(4,2) pre_vote");
  EXPECT_EQ(describe(vote_response(2, 1, 3, true)), "VoteResponse 2->1 term=3 granted");
  EXPECT_EQ(describe(vote_response(2, 1, 3, false, true)),
            "VoteResponse 2->1 term=3 rejected pre_vote");
}

}  // namespace
}  // namespace raftor::raft::test
