// ClientSessions: the deduplication table's rules, eviction order, and that observing
// entries in chunks (with rollbacks) gives the same table as entry by entry.
#include "raftor/actors/state_machine_handler/client_sessions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace raftor {
namespace {

// Observes one request and commits it with `outcome` when it is fresh.
Observation apply(ClientSessions& sessions, RequestId id, std::uint64_t index,
                  ApplyOutcome outcome = ApplyOutcome::applied) {
  const Observation seen = sessions.observe(id, index);
  if (seen.verdict == RequestVerdict::fresh) sessions.set_outcome(id.client_id, index, outcome);
  sessions.commit();
  return seen;
}

TEST(ClientSessionsTest, RequestsWithoutClientIdOrSequenceAreNeverDeduplicated) {
  ClientSessions sessions;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(apply(sessions, {0, 1}, i).verdict, RequestVerdict::untracked);
    EXPECT_EQ(apply(sessions, {5, 0}, 10 + i).verdict, RequestVerdict::untracked);
  }
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(ClientSessionsTest, RepeatReportsTheRecordedOutcome) {
  ClientSessions sessions;
  EXPECT_EQ(apply(sessions, {7, 1}, 1, ApplyOutcome::cas_mismatch).verdict, RequestVerdict::fresh);
  const Observation again = apply(sessions, {7, 1}, 2);
  EXPECT_EQ(again.verdict, RequestVerdict::repeat);
  EXPECT_EQ(again.original_index, 1u);
  ASSERT_TRUE(again.outcome.has_value());
  EXPECT_EQ(*again.outcome, ApplyOutcome::cas_mismatch) << "a retried CAS reports the original";
  EXPECT_EQ(sessions.latest_sequence(7), 1u);
}

TEST(ClientSessionsTest, HigherSequenceIsFreshLowerIsStale) {
  ClientSessions sessions;
  apply(sessions, {7, 1}, 1);
  EXPECT_EQ(apply(sessions, {7, 5}, 2).verdict, RequestVerdict::fresh) << "gaps are allowed";
  const Observation old = apply(sessions, {7, 3}, 3);
  EXPECT_EQ(old.verdict, RequestVerdict::stale);
  EXPECT_EQ(old.outcome, ApplyOutcome::already_applied);
  EXPECT_EQ(apply(sessions, {7, 1}, 4).verdict, RequestVerdict::stale);
  EXPECT_EQ(sessions.latest_sequence(7), 5u);
  // Other clients are independent.
  EXPECT_EQ(apply(sessions, {8, 1}, 5).verdict, RequestVerdict::fresh);
}

TEST(ClientSessionsTest, EvictsTheLeastRecentlyActiveClient) {
  ClientSessions sessions(3);
  apply(sessions, {1, 1}, 1);
  apply(sessions, {2, 1}, 2);
  apply(sessions, {3, 1}, 3);
  apply(sessions, {1, 1}, 4);  // a retry is activity too
  EXPECT_EQ(sessions.clients_by_activity(), (std::vector<std::uint64_t>{2, 3, 1}));
  apply(sessions, {4, 1}, 5);  // full: client 2 goes
  EXPECT_EQ(sessions.clients_by_activity(), (std::vector<std::uint64_t>{3, 1, 4}));
  EXPECT_FALSE(sessions.latest_sequence(2).has_value());
  // An evicted client is forgotten: its retry is fresh again (documented limit).
  EXPECT_EQ(apply(sessions, {2, 1}, 6).verdict, RequestVerdict::fresh);
  EXPECT_EQ(sessions.clients_by_activity(), (std::vector<std::uint64_t>{1, 4, 2}));
  EXPECT_EQ(sessions.size(), 3u);
}

TEST(ClientSessionsTest, RepeatOfARequestInTheOpenBatchHasNoOutcomeYet) {
  ClientSessions sessions;
  EXPECT_EQ(sessions.observe({7, 1}, 10).verdict, RequestVerdict::fresh);
  const Observation again = sessions.observe({7, 1}, 11);
  EXPECT_EQ(again.verdict, RequestVerdict::repeat);
  EXPECT_EQ(again.original_index, 10u);
  EXPECT_FALSE(again.outcome.has_value()) << "known only once the chunk is applied";
  sessions.set_outcome(7, 10, ApplyOutcome::cas_mismatch);
  sessions.commit();
  EXPECT_EQ(apply(sessions, {7, 1}, 12).outcome, ApplyOutcome::cas_mismatch);
}

TEST(ClientSessionsTest, RollbackUndoesInsertsUpdatesAndEvictions) {
  ClientSessions sessions(3);
  apply(sessions, {1, 1}, 1, ApplyOutcome::cas_mismatch);
  apply(sessions, {2, 1}, 2);
  apply(sessions, {3, 1}, 3);
  const auto order = sessions.clients_by_activity();

  sessions.observe({2, 2}, 4);  // update, moves 2 last
  sessions.observe({4, 1}, 5);  // insert, evicts 1
  sessions.observe({5, 1}, 6);  // insert, evicts 3
  sessions.observe({1, 1}, 7);  // client 1 is fresh again, evicts 2
  sessions.observe({4, 1}, 8);  // repeat of a request of this batch
  sessions.set_outcome(4, 5, ApplyOutcome::applied);
  sessions.rollback();

  EXPECT_EQ(sessions.clients_by_activity(), order);
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(sessions.latest_sequence(2), 1u);
  EXPECT_FALSE(sessions.latest_sequence(4).has_value());
  const Observation first = apply(sessions, {1, 1}, 4);
  EXPECT_EQ(first.verdict, RequestVerdict::repeat);
  EXPECT_EQ(first.outcome, ApplyOutcome::cas_mismatch) << "the recorded outcome survived";
}

TEST(ClientSessionsTest, ClearForgetsEveryClient) {
  ClientSessions sessions;
  apply(sessions, {1, 1}, 1);
  apply(sessions, {2, 1}, 2);
  sessions.clear();
  EXPECT_EQ(sessions.size(), 0u);
  EXPECT_EQ(apply(sessions, {1, 1}, 3).verdict, RequestVerdict::fresh);
}

// The rules written the obvious way, one request at a time: the reference the table must
// match however the entries are grouped into chunks.
class ReferenceTable {
 public:
  explicit ReferenceTable(std::size_t max) : max_(max) {}

  RequestVerdict observe(RequestId id, std::uint64_t index) {
    if (!id.tracked()) return RequestVerdict::untracked;
    auto it = latest_.find(id.client_id);
    RequestVerdict verdict = RequestVerdict::fresh;
    if (it != latest_.end()) {
      verdict = id.sequence > it->second.first    ? RequestVerdict::fresh
                : id.sequence == it->second.first ? RequestVerdict::repeat
                                                  : RequestVerdict::stale;
    }
    if (verdict == RequestVerdict::fresh) latest_[id.client_id].first = id.sequence;
    latest_[id.client_id].second = index;
    if (latest_.size() > max_) {
      auto oldest = std::min_element(latest_.begin(), latest_.end(), [](auto& a, auto& b) {
        return a.second.second < b.second.second;
      });
      latest_.erase(oldest);
    }
    return verdict;
  }

 private:
  std::size_t max_;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> latest_;  // seq, active
};

TEST(ClientSessionsTest, ChunkingAndRollbacksDoNotChangeTheVerdicts) {
  // Every replica must take the same decisions, whatever its chunk boundaries (they
  // depend on timing) and whether a chunk was rolled back.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t max = 1 + rng() % 6;
    std::vector<RequestId> requests;
    std::map<std::uint64_t, std::uint64_t> next_sequence;
    for (int i = 0; i < 400; ++i) {
      const std::uint64_t client = rng() % 10;  // 0: untracked
      std::uint64_t& next = next_sequence[client];
      const auto pick = rng() % 10;
      // Mostly new requests, some retries of the latest, a few older ones.
      const std::uint64_t seq = pick < 6 ? ++next : pick < 9 ? next : (next > 2 ? next - 2 : next);
      requests.push_back({client, seq});
    }

    ReferenceTable reference(max);
    std::vector<RequestVerdict> expected;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      expected.push_back(reference.observe(requests[i], i + 1));
    }

    ClientSessions one_by_one(max);
    ClientSessions chunked(max);
    std::size_t i = 0;
    while (i < requests.size()) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 40, requests.size() - i);
      if (rng() % 4 == 0) {  // a chunk that fails first, then is applied again
        for (std::size_t k = i; k < i + n; ++k) chunked.observe(requests[k], k + 1);
        chunked.rollback();
      }
      for (std::size_t k = i; k < i + n; ++k) {
        const auto index = k + 1;
        EXPECT_EQ(chunked.observe(requests[k], index).verdict, expected[k])
            << "seed " << seed << " entry " << index;
        EXPECT_EQ(apply(one_by_one, requests[k], index).verdict, expected[k]);
      }
      chunked.commit();
      i += n;
    }
    EXPECT_EQ(chunked.clients_by_activity(), one_by_one.clients_by_activity());
    EXPECT_LE(chunked.size(), max);
  }
}

// The outcome each fresh request gets in these tests: a function of its index, so that
// every table that applied the same entries recorded the same outcomes.
ApplyOutcome outcome_at(std::uint64_t index) {
  return index % 3 == 0 ? ApplyOutcome::cas_mismatch : ApplyOutcome::applied;
}

std::vector<RequestId> random_requests(std::mt19937_64& rng, int count) {
  std::vector<RequestId> requests;
  std::map<std::uint64_t, std::uint64_t> next_sequence;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t client = rng() % 10;  // 0: untracked
    std::uint64_t& next = next_sequence[client];
    const auto pick = rng() % 10;
    const std::uint64_t seq = pick < 6 ? ++next : pick < 9 ? next : (next > 2 ? next - 2 : next);
    requests.push_back({client, seq});
  }
  return requests;
}

TEST(ClientSessionsTest, EncodeGivesTheTableAsOfAnIndexAlreadyPassed) {
  // A snapshot is taken at the state machine's index X while the handler has observed
  // further (committed chunks, and one open chunk): encode(X) must equal the table of a
  // node that observed exactly the entries up to X, and a node that loads it and goes on
  // must take the same decisions as one that saw every entry.
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    const std::size_t max = 1 + rng() % 6;
    const auto requests = random_requests(rng, 300);
    ClientSessions live(max);
    live.keep_history(true);
    std::size_t observed = 0;  // entries 1..observed went through `live`
    std::uint64_t last_encoded = 0;
    while (observed < requests.size()) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 30, requests.size() - observed);
      for (std::size_t k = observed; k < observed + n; ++k) {
        const std::uint64_t index = k + 1;
        if (live.observe(requests[k], index).verdict == RequestVerdict::fresh) {
          live.set_outcome(requests[k].client_id, index, outcome_at(index));
        }
      }
      const bool open_chunk = rng() % 3 == 0;  // snapshot while this chunk is not committed
      if (!open_chunk) live.commit();
      observed += n;
      if (rng() % 2 == 0) {
        // The snapshot's index: anywhere from the previous one to what was observed.
        const std::uint64_t x = last_encoded + rng() % (observed - last_encoded + 1);
        auto encoded = live.encode(x);
        ASSERT_TRUE(encoded.ok()) << "seed " << seed << " x " << x << ": "
                                  << encoded.error().to_string();
        last_encoded = x;

        ClientSessions reference(max);
        reference.keep_history(true);
        for (std::size_t k = 0; k < x; ++k) {
          apply(reference, requests[k], k + 1, outcome_at(k + 1));
        }
        auto expected = reference.encode(x);
        ASSERT_TRUE(expected.ok());
        EXPECT_EQ(*encoded, *expected) << "seed " << seed << " x " << x;

        ClientSessions restored(max);
        ASSERT_TRUE(restored.load(*encoded, x).ok());
        for (std::size_t k = x; k < requests.size(); ++k) {
          const auto index = k + 1;
          const auto want = reference.observe(requests[k], index);
          const auto got = restored.observe(requests[k], index);
          ASSERT_EQ(got.verdict, want.verdict) << "seed " << seed << " x " << x << " entry " << index;
          EXPECT_EQ(got.outcome, want.outcome);
          if (want.verdict == RequestVerdict::fresh) {
            reference.set_outcome(requests[k].client_id, index, outcome_at(index));
            restored.set_outcome(requests[k].client_id, index, outcome_at(index));
          }
          reference.commit();
          restored.commit();
        }
        EXPECT_EQ(restored.clients_by_activity(), reference.clients_by_activity());
      }
      if (open_chunk) live.commit();
    }
  }
}

TEST(ClientSessionsTest, EncodeCannotGoBackPastWhatItGaveOrWithoutHistory) {
  ClientSessions without;
  apply(without, {1, 1}, 1);
  EXPECT_FALSE(without.encode(1).ok()) << "no history kept: the table of no index is known";

  ClientSessions sessions;
  sessions.keep_history(true);
  for (std::uint64_t i = 1; i <= 10; ++i) apply(sessions, {i, 1}, i);
  ASSERT_TRUE(sessions.encode(8).ok());
  EXPECT_TRUE(sessions.encode(9).ok());
  auto back = sessions.encode(5);
  ASSERT_FALSE(back.ok()) << "snapshots only move forward: the history before 9 is gone";
  EXPECT_EQ(back.error().code, ErrorCode::out_of_range);
}

TEST(ClientSessionsTest, LoadRefusesADamagedTableAndLeavesItEmpty) {
  ClientSessions sessions;
  apply(sessions, {1, 1}, 1);
  auto s = sessions.load("\xff\xff\xff garbage", 5);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::corruption);
  EXPECT_EQ(sessions.size(), 0u);
  ASSERT_TRUE(sessions.load("", 5).ok()) << "the empty table";
  EXPECT_EQ(sessions.size(), 0u);
}

}  // namespace
}  // namespace raftor
