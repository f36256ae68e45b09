// What a client's "gave up" error says about each node it tried.
#include "raftor/client/attempt_log.hpp"

#include <gtest/gtest.h>

namespace raftor::client {
namespace {

TEST(AttemptLog, KeepsTheLatestOutcomePerNodeInFirstTriedOrder) {
  AttemptLog log;
  EXPECT_EQ(log.summary(), "no node was tried");
  log.record(2, "node 2 at h:2", "unreachable (refused)");
  log.record(1, "node 1 at h:1", "not_leader: no leader known");
  log.record(2, "node 2 at h:2", "not_leader: leader is 1");
  EXPECT_EQ(log.attempts(), 3u);
  EXPECT_EQ(log.summary(), "node 2 at h:2: not_leader: leader is 1; node 1 at h:1: not_leader: no leader known");
}

TEST(AttemptLog, AnAttemptCutShortByTheDeadlineDoesNotHideWhatAFullOneFound) {
  AttemptLog log;
  log.record(1, "node 1 at h:1", "unreachable (Connection refused)");
  // The last attempt had only a few milliseconds of the call's deadline left.
  log.record(1, "node 1 at h:1", "unreachable (Connection timed out)", /*cut_short=*/true);
  EXPECT_EQ(log.attempts(), 2u);
  EXPECT_EQ(log.summary(), "node 1 at h:1: unreachable (Connection refused)");
}

TEST(AttemptLog, ACutShortAttemptIsReportedWhenItIsAllThereIs) {
  AttemptLog log;
  log.record(3, "node 3 at h:3", "unreachable (Connection timed out)", /*cut_short=*/true);
  EXPECT_EQ(log.summary(), "node 3 at h:3: unreachable (Connection timed out)");
}

}  // namespace
}  // namespace raftor::client
