// The functional cases of the StateMachineTestSuite. Each case states one rule of the
// contract in storage/state_machine.hpp.
#include "raftor/tests/state_machine_suite/state_machine_test_suite.hpp"

#include <fstream>
#include <future>
#include <thread>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/tests/state_machine_suite/crash_cases.hpp"
#include "raftor/tests/state_machine_suite/suite_support.hpp"

namespace raftor::testing {

namespace {
using namespace detail;

std::vector<std::string> keys_named(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

std::vector<Entry> puts(std::uint64_t first_index, const std::vector<std::string>& keys,
                        const std::string& value_prefix) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    out.push_back(put_entry(first_index + i, keys[i], value_prefix + keys[i]));
  }
  return out;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// ---------------------------------------------------------------------------------------------
void start_stop_is_running(SuiteCase& t) {
  auto sm = t.builder().build(t.dir());
  ASSERT_NE(sm, nullptr);
  EXPECT_FALSE(sm->is_running()) << "a state machine is not running before start()";
  ASSERT_TRUE(sm->start().ok());
  EXPECT_TRUE(sm->is_running());
  EXPECT_TRUE(sm->start().ok()) << "a second start() is harmless";
  apply_ok(*sm, {put_entry(1, "k", "v")});
  ASSERT_TRUE(sm->stop().ok());
  EXPECT_FALSE(sm->is_running());
  auto get = sm->get("k");
  ASSERT_FALSE(get.ok()) << "get after stop() must fail";
  EXPECT_EQ(get.error().code, ErrorCode::not_running);
  auto applied = apply(*sm, {put_entry(2, "k", "v2")});
  ASSERT_FALSE(applied.ok()) << "apply_chunk after stop() must fail";
  EXPECT_EQ(applied.error().code, ErrorCode::not_running);
  ASSERT_TRUE(sm->start().ok()) << "a stopped state machine can start again";
  EXPECT_TRUE(sm->is_running());
}

void put_get_delete(SuiteCase& t) {
  auto sm = t.open();
  EXPECT_TRUE(sm->is_empty());
  EXPECT_EQ(get_value(*sm, "a"), std::nullopt);
  apply_ok(*sm, {put_entry(1, "a", "1"), put_entry(2, "b", "2")});
  EXPECT_EQ(get_value(*sm, "a"), "1");
  EXPECT_EQ(get_value(*sm, "b"), "2");
  EXPECT_EQ(sm->len(), 2u);
  apply_ok(*sm, {put_entry(3, "a", "one"), del_entry(4, "b"), del_entry(5, "never-there")});
  EXPECT_EQ(get_value(*sm, "a"), "one");
  EXPECT_EQ(get_value(*sm, "b"), std::nullopt);
  EXPECT_EQ(sm->len(), 1u);
  // Binary keys and values, and the empty value, are data like any other.
  const std::string bin_key("k\0\xff", 3), bin_value("\0\1\2", 3);
  apply_ok(*sm, {put_entry(6, bin_key, bin_value), put_entry(7, "empty", "")});
  EXPECT_EQ(get_value(*sm, bin_key), bin_value);
  EXPECT_EQ(get_value(*sm, "empty"), std::string());
  EXPECT_EQ(sm->len(), 3u);
}

void cas_absent_match_mismatch(SuiteCase& t) {
  auto sm = t.open();
  auto r = apply_ok(*sm, {cas_entry(1, "k", std::nullopt, "first")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{1, ApplyOutcome::applied}})) << "CAS on absent key";
  EXPECT_EQ(get_value(*sm, "k"), "first");

  r = apply_ok(*sm, {cas_entry(2, "k", std::nullopt, "again")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{2, ApplyOutcome::cas_mismatch}}))
      << "CAS expecting absence on a present key";
  EXPECT_EQ(get_value(*sm, "k"), "first");

  r = apply_ok(*sm, {cas_entry(3, "k", "first", "second")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{3, ApplyOutcome::applied}})) << "CAS match";
  EXPECT_EQ(get_value(*sm, "k"), "second");

  r = apply_ok(*sm, {cas_entry(4, "k", "first", "third")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{4, ApplyOutcome::cas_mismatch}})) << "CAS mismatch";
  EXPECT_FALSE(r[0].succeeded());
  EXPECT_EQ(get_value(*sm, "k"), "second") << "a failed CAS changes nothing";
  EXPECT_EQ(sm->last_applied(), (LogId{4, 1})) << "a failed CAS is still applied";

  r = apply_ok(*sm, {cas_entry(5, "missing", "x", "y")});
  EXPECT_EQ(r[0].outcome, ApplyOutcome::cas_mismatch) << "CAS expecting a value on absent key";
  EXPECT_EQ(get_value(*sm, "missing"), std::nullopt);
}

void mixed_chunk_results_in_order(SuiteCase& t) {
  auto sm = t.open();
  auto r = apply_ok(*sm, {
                             put_entry(1, "a", "1"),
                             cas_entry(2, "a", "wrong", "x"),
                             noop_entry(3),
                             config_entry(4),
                             cas_entry(5, "a", "1", "2"),  // sees the put of entry 1
                             del_entry(6, "a"),
                             cas_entry(7, "a", std::nullopt, "3"),  // sees the delete of 6
                         });
  EXPECT_EQ(r, (std::vector<ApplyResult>{{1, ApplyOutcome::applied},
                                         {2, ApplyOutcome::cas_mismatch},
                                         {3, ApplyOutcome::applied},
                                         {4, ApplyOutcome::applied},
                                         {5, ApplyOutcome::applied},
                                         {6, ApplyOutcome::applied},
                                         {7, ApplyOutcome::applied}}));
  EXPECT_EQ(get_value(*sm, "a"), "3");
  EXPECT_EQ(sm->last_applied(), (LogId{7, 1}));
}

void redelivered_chunk_changes_nothing(SuiteCase& t) {
  auto sm = t.open();
  apply_ok(*sm, {put_entry(1, "a", "1"), put_entry(2, "b", "2"), del_entry(3, "a")});
  // The same chunk again: every entry is skipped.
  auto r = apply_ok(*sm, {put_entry(1, "a", "1"), put_entry(2, "b", "2"), del_entry(3, "a")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{1, ApplyOutcome::already_applied},
                                         {2, ApplyOutcome::already_applied},
                                         {3, ApplyOutcome::already_applied}}));
  EXPECT_EQ(get_value(*sm, "a"), std::nullopt) << "re-applying the put of entry 1 resurrected a";
  // An overlapping chunk whose old part differs: the old part is not applied again.
  r = apply_ok(*sm, {put_entry(2, "b", "changed"), put_entry(3, "c", "changed"),
                     put_entry(4, "d", "4")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{2, ApplyOutcome::already_applied},
                                         {3, ApplyOutcome::already_applied},
                                         {4, ApplyOutcome::applied}}));
  EXPECT_EQ(get_value(*sm, "b"), "2");
  EXPECT_EQ(get_value(*sm, "c"), std::nullopt);
  EXPECT_EQ(get_value(*sm, "d"), "4");
  EXPECT_EQ(sm->len(), 2u);
  EXPECT_EQ(sm->last_applied(), (LogId{4, 1}));
}

void malformed_entry_leaves_no_partial_write(SuiteCase& t) {
  auto sm = t.open();
  apply_ok(*sm, {put_entry(1, "keep", "1")});
  for (const std::string& bad_payload : {std::string("\xff\xff\xff garbage", 12), std::string()}) {
    // An empty payload parses as a Command naming no operation: malformed too.
    std::vector<Entry> chunk{put_entry(2, "a", "x"), del_entry(3, "keep"),
                             put_entry(4, "b", "y"),
                             Entry{5, 1, EntryType::normal, bad_payload},
                             put_entry(6, "c", "z")};
    auto r = apply(*sm, chunk);
    ASSERT_FALSE(r.ok()) << "a chunk with a malformed entry must fail";
    EXPECT_EQ(r.error().code, ErrorCode::malformed_entry) << r.error().to_string();
    EXPECT_NE(r.error().message.find('5'), std::string::npos)
        << "the error must name the malformed entry's index: " << r.error().message;
    EXPECT_EQ(get_value(*sm, "a"), std::nullopt) << "partial write of a failed chunk";
    EXPECT_EQ(get_value(*sm, "b"), std::nullopt) << "partial write of a failed chunk";
    EXPECT_EQ(get_value(*sm, "keep"), "1") << "partial delete of a failed chunk";
    EXPECT_EQ(sm->len(), 1u);
    EXPECT_EQ(sm->last_applied(), (LogId{1, 1}));
  }
  // The state machine still works afterwards.
  apply_ok(*sm, {put_entry(2, "a", "x")});
  EXPECT_EQ(get_value(*sm, "a"), "x");
}

void last_applied_after_apply_and_reset(SuiteCase& t) {
  auto sm = t.open();
  EXPECT_EQ(sm->last_applied(), (LogId{0, 0}));
  apply_ok(*sm, {put_entry(1, "a", "1", 1), put_entry(2, "b", "2", 2)});
  EXPECT_EQ(sm->last_applied(), (LogId{2, 2}));
  apply_ok(*sm, {noop_entry(3, 3), config_entry(4, 3)});
  EXPECT_EQ(sm->last_applied(), (LogId{4, 3})) << "noop and config entries advance last_applied";
  EXPECT_EQ(sm->entry_term(4), std::optional<std::uint64_t>(3));
  ASSERT_TRUE(sm->reset().ok());
  EXPECT_EQ(sm->last_applied(), (LogId{0, 0}));
}

void update_and_persist_last_applied(SuiteCase& t) {
  {
    auto sm = t.open();
    apply_ok(*sm, {put_entry(1, "a", "1")});
    sm->update_last_applied({10, 4});
    EXPECT_EQ(sm->last_applied(), (LogId{10, 4}));
    ASSERT_TRUE(sm->persist_last_applied({12, 5}).ok());
    EXPECT_EQ(sm->last_applied(), (LogId{12, 5}));
    ASSERT_TRUE(sm->stop().ok());
  }
  auto sm = t.open();
  EXPECT_EQ(sm->last_applied(), (LogId{12, 5})) << "persist_last_applied must survive reopen";
  EXPECT_EQ(get_value(*sm, "a"), "1");
}

void snapshot_metadata_in_memory_and_persisted(SuiteCase& t) {
  const SnapshotMetadata meta{{7, 2}, {{1, 2, 3}, {4}}, snapshot::checksum_of("x"), 123};
  {
    auto sm = t.open();
    EXPECT_EQ(sm->snapshot_metadata(), std::nullopt);
    sm->update_last_snapshot_metadata(meta);
    EXPECT_EQ(sm->snapshot_metadata(), meta);
    ASSERT_TRUE(sm->persist_last_snapshot_metadata(meta).ok());
    ASSERT_TRUE(sm->save_hard_state().ok());
    ASSERT_TRUE(sm->stop().ok());
  }
  auto sm = t.open();
  EXPECT_EQ(sm->snapshot_metadata(), meta) << "snapshot metadata must survive reopen";
}

void snapshot_round_trip_replaces_state_exactly(SuiteCase& t) {
  auto sm = t.open();
  const auto base = keys_named("base", 50);
  const auto extra = keys_named("extra", 20);
  Model model;
  auto chunk = puts(1, base, "v-");
  chunk.push_back(del_entry(51, "base7"));
  model.apply(chunk);
  apply_ok(*sm, chunk);

  const auto path = t.scratch_dir("snap") / "snapshot";
  const SnapshotMetadata meta = take_snapshot(*sm, path);
  EXPECT_EQ(meta.last_included, (LogId{51, 1})) << "the snapshot ends at last_applied";
  EXPECT_EQ(meta.checksum.size(), 16u) << "XXH3-128 checksum expected";
  EXPECT_NE(meta.checksum, std::string(meta.checksum.size(), '\0')) << "a zero checksum";
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(meta.size, std::filesystem::file_size(path));
  EXPECT_EQ(snapshot::checksum_file(path).value(), meta.checksum)
      << "the returned checksum must be the file's";

  // Mutate: overwrite, delete, add keys the snapshot does not have.
  std::vector<Entry> later = puts(52, extra, "x-");
  later.push_back(put_entry(72, "base1", "overwritten"));
  later.push_back(del_entry(73, "base2"));
  apply_ok(*sm, later);

  ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path).ok());
  std::vector<std::string> universe = base;
  universe.insert(universe.end(), extra.begin(), extra.end());
  expect_state(*sm, model, universe);
  EXPECT_EQ(sm->snapshot_metadata(), meta);
  EXPECT_EQ(sm->entry_term(51), std::optional<std::uint64_t>(1));

  // Apply continues right after the snapshot.
  auto r = apply_ok(*sm, {put_entry(52, "after", "snapshot")});
  EXPECT_EQ(r, (std::vector<ApplyResult>{{52, ApplyOutcome::applied}}));
  EXPECT_EQ(get_value(*sm, "after"), "snapshot");

  // Installing into a fresh instance reproduces the same state.
  auto other = t.open_at(t.scratch_dir("other"));
  ASSERT_TRUE(other->apply_snapshot_from_file(meta, path).ok());
  expect_state(*other, model, universe);
}

void snapshot_install_on_reset_state(SuiteCase& t) {
  auto sm = t.open();
  Model model;
  auto chunk = puts(1, keys_named("k", 30), "v");
  model.apply(chunk);
  apply_ok(*sm, chunk);
  const auto path = t.scratch_dir("snap") / "snapshot";
  const auto meta = take_snapshot(*sm, path);
  ASSERT_TRUE(sm->reset().ok());
  EXPECT_TRUE(sm->is_empty());
  ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path).ok());
  expect_state(*sm, model, keys_named("k", 30));
}

// A damaged file is refused before any state is touched.
void expect_refused_unchanged(SuiteCase& t, StateMachine& sm, const SnapshotMetadata& meta,
                              const std::filesystem::path& path, const Model& model,
                              const std::vector<std::string>& universe, ErrorCode expected,
                              const std::string& what) {
  auto s = sm.apply_snapshot_from_file(meta, path);
  ASSERT_FALSE(s.ok()) << what << " was accepted";
  EXPECT_EQ(s.error().code, expected) << what << ": " << s.error().to_string();
  EXPECT_FALSE(s.error().message.empty());
  expect_state(sm, model, universe);
  EXPECT_EQ(sm.snapshot_metadata(), std::nullopt) << what << " changed the snapshot metadata";
}

void snapshot_with_flipped_byte_refused(SuiteCase& t) {
  auto sm = t.open();
  const auto keys = keys_named("k", 40);
  apply_ok(*sm, puts(1, keys, "old-"));
  const auto path = t.scratch_dir("snap") / "snapshot";
  const auto meta = take_snapshot(*sm, path);
  Model model;
  model.apply(puts(1, keys, "old-"));
  auto newer = puts(41, keys, "new-");
  model.apply(newer);
  apply_ok(*sm, newer);

  const std::string pristine = read_file(path);
  ASSERT_FALSE(pristine.empty());
  for (std::size_t pos : {std::size_t{0}, pristine.size() / 2, pristine.size() - 1}) {
    std::string damaged = pristine;
    damaged[pos] = static_cast<char>(damaged[pos] ^ 0x01);
    write_file(path, damaged);
    expect_refused_unchanged(t, *sm, meta, path, model, keys, ErrorCode::checksum_mismatch,
                             "a snapshot with byte " + std::to_string(pos) + " flipped");
  }
  // Restored, the same file is accepted.
  write_file(path, pristine);
  ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path).ok());
  EXPECT_EQ(get_value(*sm, "k0"), "old-k0");
}

void truncated_snapshot_refused(SuiteCase& t) {
  auto sm = t.open();
  const auto keys = keys_named("k", 40);
  apply_ok(*sm, puts(1, keys, "old-"));
  const auto path = t.scratch_dir("snap") / "snapshot";
  const auto meta = take_snapshot(*sm, path);
  Model model;
  model.apply(puts(1, keys, "old-"));
  model.apply({del_entry(41, "k1")});
  apply_ok(*sm, {del_entry(41, "k1")});
  const std::string pristine = read_file(path);
  for (std::size_t len : {std::size_t{0}, pristine.size() / 2, pristine.size() - 1}) {
    write_file(path, pristine.substr(0, len));
    expect_refused_unchanged(t, *sm, meta, path, model, keys, ErrorCode::checksum_mismatch,
                             "a snapshot truncated to " + std::to_string(len) + " bytes");
  }
  std::filesystem::remove(path);
  auto missing = sm->apply_snapshot_from_file(meta, path);
  ASSERT_FALSE(missing.ok()) << "a missing snapshot file was accepted";
  expect_state(*sm, model, keys);
}

void snapshot_with_wrong_checksum_refused(SuiteCase& t) {
  auto sm = t.open();
  const auto keys = keys_named("k", 10);
  apply_ok(*sm, puts(1, keys, "v"));
  const auto path = t.scratch_dir("snap") / "snapshot";
  auto meta = take_snapshot(*sm, path);
  Model model;
  model.apply(puts(1, keys, "v"));
  model.apply({del_entry(11, "k0")});
  apply_ok(*sm, {del_entry(11, "k0")});
  auto wrong = meta;
  wrong.checksum = snapshot::checksum_of("something else");
  expect_refused_unchanged(t, *sm, wrong, path, model, keys, ErrorCode::checksum_mismatch,
                           "a snapshot whose metadata has another checksum");
  wrong.checksum.clear();
  expect_refused_unchanged(t, *sm, wrong, path, model, keys, ErrorCode::checksum_mismatch,
                           "a snapshot whose metadata has no checksum");
}

void state_survives_stop_and_reopen(SuiteCase& t) {
  Model model;
  auto chunk = puts(1, keys_named("k", 100), "v");
  chunk.push_back(del_entry(101, "k5"));
  chunk.push_back(cas_entry(102, "k6", "vk6", "swapped"));
  model.apply(chunk);
  {
    auto sm = t.open();
    apply_ok(*sm, chunk);
    ASSERT_TRUE(sm->stop().ok());
  }
  auto sm = t.open();
  expect_state(*sm, model, keys_named("k", 100));
}

void state_survives_drop_without_stop(SuiteCase& t) {
  Model model;
  auto chunk = puts(1, keys_named("k", 100), "v");
  model.apply(chunk);
  {
    auto sm = t.open();
    apply_ok(*sm, chunk);
    // Destroyed while running: the destructor must flush and close.
  }
  auto sm = t.open();
  expect_state(*sm, model, keys_named("k", 100));
}

void snapshot_install_survives_reopen(SuiteCase& t) {
  Model model;
  const auto keys = keys_named("k", 30);
  SnapshotMetadata meta;
  const auto path = t.scratch_dir("snap") / "snapshot";
  {
    auto sm = t.open();
    model.apply(puts(1, keys, "snap-"));
    apply_ok(*sm, puts(1, keys, "snap-"));
    meta = take_snapshot(*sm, path);
    apply_ok(*sm, puts(31, keys, "later-"));
    ASSERT_TRUE(sm->apply_snapshot_from_file(meta, path).ok());
    model.apply({put_entry(31, "after", "x")});
    apply_ok(*sm, {put_entry(31, "after", "x")});
    ASSERT_TRUE(sm->stop().ok());
  }
  auto sm = t.open();
  expect_state(*sm, model, keys);
  EXPECT_EQ(sm->snapshot_metadata(), meta);
}

void reset_clears_data_and_metadata(SuiteCase& t) {
  {
    auto sm = t.open();
    apply_ok(*sm, puts(1, keys_named("k", 20), "v"));
    const auto path = t.scratch_dir("snap") / "snapshot";
    auto meta = take_snapshot(*sm, path);
    ASSERT_TRUE(sm->persist_last_snapshot_metadata(meta).ok());
    ASSERT_TRUE(sm->reset().ok());
    EXPECT_TRUE(sm->is_empty());
    EXPECT_EQ(sm->len(), 0u);
    EXPECT_EQ(get_value(*sm, "k1"), std::nullopt);
    EXPECT_EQ(sm->last_applied(), (LogId{0, 0}));
    EXPECT_EQ(sm->snapshot_metadata(), std::nullopt);
    // Applying from index 1 works again after a reset.
    apply_ok(*sm, {put_entry(1, "fresh", "1")});
    ASSERT_TRUE(sm->reset().ok());
  }
  if (!t.persistent()) return;
  auto sm = t.open();
  EXPECT_TRUE(sm->is_empty()) << "reset must be durable";
  EXPECT_EQ(sm->last_applied(), (LogId{0, 0}));
  EXPECT_EQ(sm->snapshot_metadata(), std::nullopt);
}

void get_multi_order_and_absent(SuiteCase& t) {
  auto sm = t.open();
  apply_ok(*sm, {put_entry(1, "b", "2"), put_entry(2, "a", "1"), put_entry(3, "c", "3")});
  const std::vector<std::string> keys{"c", "missing", "a", "b", "a", ""};
  auto r = sm->get_multi(keys);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (std::vector<std::optional<std::string>>{"3", std::nullopt, "1", "2", "1",
                                                         std::nullopt}));
  auto none = sm->get_multi({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

void flush_and_flush_async(SuiteCase& t) {
  auto sm = t.open();
  apply_ok(*sm, {put_entry(1, "a", "1")});
  ASSERT_TRUE(sm->flush().ok());
  std::promise<Status> done;
  std::atomic<int> calls{0};
  sm->flush_async([&](Status s) {
    if (calls.fetch_add(1) == 0) done.set_value(std::move(s));
  });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
  EXPECT_EQ(calls.load(), 1) << "flush_async must call done exactly once";
}

void snapshot_consistent_while_applying(SuiteCase& t) {
  // generate_snapshot_data may run concurrently with apply_chunk (the snapshotter and the
  // handler are different actors): the snapshot must be the state after a whole prefix of
  // chunks, and exactly the state at its last_included.
  auto sm = t.open();
  constexpr int kChunks = 200, kPerChunk = 20;
  std::vector<std::vector<Entry>> chunks;
  std::uint64_t index = 1;
  for (int c = 0; c < kChunks; ++c) {
    std::vector<Entry> chunk;
    for (int i = 0; i < kPerChunk; ++i, ++index) {
      const std::string key = "k" + std::to_string((c * 7 + i) % 97);
      chunk.push_back(i % 5 == 4 ? del_entry(index, key)
                                 : put_entry(index, key, "c" + std::to_string(c)));
    }
    chunks.push_back(std::move(chunk));
  }
  std::atomic<bool> failed{false};
  std::thread applier([&] {
    for (auto& chunk : chunks) {
      if (!apply(*sm, chunk).ok()) failed = true;
    }
  });
  std::vector<SnapshotMetadata> metas;
  const auto dir = t.scratch_dir("snaps");
  for (int s = 0; s < 5; ++s) metas.push_back(take_snapshot(*sm, dir / std::to_string(s)));
  applier.join();
  ASSERT_FALSE(failed.load());

  auto probe = t.open_at(t.scratch_dir("probe"));
  for (int s = 0; s < 5; ++s) {
    const auto& meta = metas[s];
    ASSERT_EQ(meta.last_included.index % kPerChunk, 0u)
        << "snapshot " << s << " ends inside a chunk, at " << meta.last_included.index;
    Model model;
    for (std::uint64_t c = 0; c < meta.last_included.index / kPerChunk; ++c) model.apply(chunks[c]);
    ASSERT_TRUE(probe->apply_snapshot_from_file(meta, dir / std::to_string(s)).ok());
    expect_state(*probe, model, keys_named("k", 97));
  }
}

using Body = void (*)(SuiteCase&);
struct Registration {
  CaseSpec spec;
  Body body;
};

const Registration kCases[] = {
    {{"StartStopIsRunning", false}, start_stop_is_running},
    {{"PutGetDelete", false}, put_get_delete},
    {{"CasAbsentMatchMismatch", false}, cas_absent_match_mismatch},
    {{"MixedChunkResultsInOrder", false}, mixed_chunk_results_in_order},
    {{"RedeliveredChunkChangesNothing", false}, redelivered_chunk_changes_nothing},
    {{"MalformedEntryLeavesNoPartialWrite", false}, malformed_entry_leaves_no_partial_write},
    {{"LastAppliedAfterApplyAndReset", false}, last_applied_after_apply_and_reset},
    {{"UpdateAndPersistLastApplied", true}, update_and_persist_last_applied},
    {{"SnapshotMetadataInMemoryAndPersisted", true}, snapshot_metadata_in_memory_and_persisted},
    {{"SnapshotRoundTripReplacesStateExactly", false}, snapshot_round_trip_replaces_state_exactly},
    {{"SnapshotInstallOnResetState", false}, snapshot_install_on_reset_state},
    {{"SnapshotWithFlippedByteRefused", false}, snapshot_with_flipped_byte_refused},
    {{"TruncatedSnapshotRefused", false}, truncated_snapshot_refused},
    {{"SnapshotWithWrongChecksumRefused", false}, snapshot_with_wrong_checksum_refused},
    {{"SnapshotConsistentWhileApplying", false}, snapshot_consistent_while_applying},
    {{"StateSurvivesStopAndReopen", true}, state_survives_stop_and_reopen},
    {{"StateSurvivesDropWithoutStop", true}, state_survives_drop_without_stop},
    {{"SnapshotInstallSurvivesReopen", true}, snapshot_install_survives_reopen},
    {{"ResetClearsDataAndMetadata", false}, reset_clears_data_and_metadata},
    {{"GetMultiOrderAndAbsent", false}, get_multi_order_and_absent},
    {{"FlushAndFlushAsync", false}, flush_and_flush_async},
    {{"CrashDuringApplyChunk", true}, crash_during_apply_chunk},
    {{"CrashDuringSnapshotInstall", true}, crash_during_snapshot_install},
};

}  // namespace

bool register_state_machine_suite(const std::string& name, StateMachineBuilder builder) {
  auto shared = std::make_shared<const StateMachineBuilder>(std::move(builder));
  const std::string suite = "StateMachineSuite/" + name;
  for (const auto& c : kCases) register_case(suite, c.spec, shared, c.body);
  return true;
}

}  // namespace raftor::testing
