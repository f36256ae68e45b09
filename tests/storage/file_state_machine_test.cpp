// FileStateMachine specifics beyond the StateMachineTestSuite: recovery of a torn or
// damaged data file, compaction, crash leftovers, the directory lock, write failures.
#include "raftor/storage/file_state_machine.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raftor/snapshot/checksum.hpp"
#include "raftor/storage/command.hpp"

namespace raftor {
namespace {

namespace fsys = std::filesystem;
using Model = std::map<std::string, std::string>;

class FileStateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = fsys::temp_directory_path() /
           ("raftor-fsm-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fsys::remove_all(dir_);
    fsys::create_directories(dir_);
  }
  void TearDown() override { fsys::remove_all(dir_); }

  std::unique_ptr<FileStateMachine> open(FileStateMachineOptions options = {}) {
    auto sm = std::make_unique<FileStateMachine>(dir_ / "sm", options);
    auto s = sm->start();
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return sm;
  }

  fsys::path data_path() const { return dir_ / "sm" / "data"; }
  fsys::path dir_;
};

Entry put(std::uint64_t index, std::string_view key, std::string_view value) {
  return {index, 1, EntryType::normal, command::put(key, value)};
}
Entry del(std::uint64_t index, std::string_view key) {
  return {index, 1, EntryType::normal, command::del(key)};
}

Result<std::vector<ApplyResult>> apply_sync(StateMachine& sm, std::vector<Entry> chunk) {
  std::optional<Result<std::vector<ApplyResult>>> out;
  sm.apply_chunk(std::move(chunk), [&](Result<std::vector<ApplyResult>> r) { out.emplace(r); });
  return std::move(*out);
}

void expect_state(const StateMachine& sm, const Model& model, std::uint64_t last_index) {
  EXPECT_EQ(sm.len(), model.size());
  for (const auto& [key, value] : model) {
    auto got = sm.get(key);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(*got, value) << "key " << key;
  }
  EXPECT_EQ(sm.last_applied().index, last_index);
}

std::string read_file(const fsys::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fsys::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Record offsets of a data file: "RFTFSMD1" | (len u32 | checksum u64 | body)*.
std::vector<std::size_t> record_offsets(const std::string& file) {
  std::vector<std::size_t> out;
  for (std::size_t pos = 8; pos + 12 <= file.size();) {
    out.push_back(pos);
    std::uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = (len << 8) | static_cast<unsigned char>(file[pos + i]);
    pos += 12 + len;
  }
  return out;
}

// Five chunks, each mixing puts and deletes; models[k] = state after chunk k (0 = empty).
struct History {
  std::vector<Model> models{Model{}};
  std::vector<std::uint64_t> last_index{0};
};

History write_history(StateMachine& sm) {
  History h;
  Model model;
  std::uint64_t index = 0;
  for (int c = 0; c < 5; ++c) {
    std::vector<Entry> chunk;
    for (int i = 0; i < 3; ++i) {
      const std::string key = std::string("k").append(std::to_string((c * 3 + i) % 7));
      const std::string value = {'v', static_cast<char>('0' + c), '-', static_cast<char>('0' + i)};
      chunk.push_back(put(++index, key, value));
      model[key] = value;
    }
    const std::string gone = std::string("k").append(std::to_string(c % 7));
    chunk.push_back(del(++index, gone));
    model.erase(gone);
    auto r = apply_sync(sm, std::move(chunk));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    h.models.push_back(model);
    h.last_index.push_back(index);
  }
  return h;
}

TEST_F(FileStateMachineTest, ReopensToTheAppliedState) {
  History h;
  SnapshotMetadata meta{{3, 1}, {{1, 2, 3}, {4}}, snapshot::checksum_of("x"), 42};
  {
    auto sm = open();
    h = write_history(*sm);
    ASSERT_TRUE(sm->persist_last_snapshot_metadata(meta).ok());
  }  // the destructor stops and flushes
  auto sm = open();
  expect_state(*sm, h.models.back(), h.last_index.back());
  EXPECT_EQ(sm->snapshot_metadata(), meta);
}

TEST_F(FileStateMachineTest, MethodsFailBeforeStartAndAfterStop) {
  FileStateMachine sm(dir_ / "sm");
  EXPECT_EQ(sm.get("a").error().code, ErrorCode::not_running);
  EXPECT_EQ(apply_sync(sm, {put(1, "a", "1")}).error().code, ErrorCode::not_running);
  EXPECT_EQ(sm.flush().error().code, ErrorCode::not_running);
  ASSERT_TRUE(sm.start().ok());
  ASSERT_TRUE(sm.start().ok());  // harmless twice
  ASSERT_TRUE(apply_sync(sm, {put(1, "a", "1")}).ok());
  ASSERT_TRUE(sm.stop().ok());
  EXPECT_EQ(sm.get("a").error().code, ErrorCode::not_running);
  EXPECT_EQ(sm.reset().error().code, ErrorCode::not_running);
  ASSERT_TRUE(sm.start().ok());  // restartable
  EXPECT_EQ(*sm.get("a"), std::optional<std::string>("1"));
}

TEST_F(FileStateMachineTest, TornTailReopensToTheLastWholeChunk) {
  std::string file;
  History h;
  {
    auto sm = open();
    h = write_history(*sm);
  }
  file = read_file(data_path());
  const auto offsets = record_offsets(file);
  ASSERT_EQ(offsets.size(), 5u);  // one record per chunk
  // Cut inside every record (header and body) and at its very end.
  for (std::size_t r = 0; r < offsets.size(); ++r) {
    const std::size_t begin = offsets[r];
    const std::size_t end = r + 1 < offsets.size() ? offsets[r + 1] : file.size();
    for (std::size_t cut : {begin + 1, begin + 5, begin + 12, begin + 13, (begin + end) / 2,
                            end - 1, end}) {
      SCOPED_TRACE("record " + std::to_string(r) + " cut at " + std::to_string(cut));
      write_file(data_path(), file.substr(0, cut));
      const std::size_t whole = cut == end ? r + 1 : r;  // chunks fully on disk
      {
        auto sm = open();
        expect_state(*sm, h.models[whole], h.last_index[whole]);
        EXPECT_EQ(fsys::file_size(data_path()), cut == end ? end : begin);  // tail cut off
        // Appends after the recovered tail survive the next reopen.
        const std::uint64_t next = h.last_index[whole] + 1;
        ASSERT_TRUE(apply_sync(*sm, {put(next, "after", "crash")}).ok());
      }
      auto sm = open();
      Model expected = h.models[whole];
      expected["after"] = "crash";
      expect_state(*sm, expected, h.last_index[whole] + 1);
    }
  }
}

TEST_F(FileStateMachineTest, FlippedByteInLastRecordIsDropped) {
  History h;
  {
    auto sm = open();
    h = write_history(*sm);
  }
  const std::string file = read_file(data_path());
  const auto offsets = record_offsets(file);
  for (std::size_t at : {offsets.back() + 2, offsets.back() + 6, offsets.back() + 20,
                         file.size() - 1}) {
    SCOPED_TRACE("flip at " + std::to_string(at));
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    write_file(data_path(), damaged);
    auto sm = open();
    expect_state(*sm, h.models[4], h.last_index[4]);
    EXPECT_EQ(fsys::file_size(data_path()), offsets.back());
  }
}

TEST_F(FileStateMachineTest, FlippedByteInMiddleRecordIsRefused) {
  {
    auto sm = open();
    write_history(*sm);
  }
  const std::string file = read_file(data_path());
  const auto offsets = record_offsets(file);
  // In the body, in the checksum, and in the length (the record then seems to run on).
  for (std::size_t at : {offsets[2] + 30, offsets[2] + 5, offsets[2] + 1}) {
    SCOPED_TRACE("flip at " + std::to_string(at));
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x40);
    write_file(data_path(), damaged);
    FileStateMachine sm(dir_ / "sm");
    auto s = sm.start();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::corruption);
    EXPECT_NE(s.error().message.find("offset " + std::to_string(offsets[2])), std::string::npos)
        << s.error().message;
    EXPECT_FALSE(sm.is_running());
    EXPECT_EQ(read_file(data_path()), damaged);  // nothing dropped
  }
}

TEST_F(FileStateMachineTest, CompactionPreservesStateAndShrinksTheFile) {
  const FileStateMachineOptions options{.compaction_min_bytes = 16 << 10, .compaction_ratio = 2};
  Model model;
  std::uint64_t index = 0;
  std::uintmax_t largest = 0;
  bool shrank = false;
  const SnapshotMetadata meta{{7, 1}, {{1}, {}}, snapshot::checksum_of("m"), 9};
  {
    auto sm = open(options);
    ASSERT_TRUE(sm->persist_last_snapshot_metadata(meta).ok());
    for (int round = 0; round < 200; ++round) {
      std::vector<Entry> chunk;
      for (int i = 0; i < 10; ++i) {
        const std::string key = std::string("key").append(std::to_string(i));
        const std::string value(100, static_cast<char>('a' + round % 26));
        chunk.push_back(put(++index, key, value));
        model[key] = value;
      }
      chunk.push_back(del(++index, "key9"));
      model.erase("key9");
      ASSERT_TRUE(apply_sync(*sm, std::move(chunk)).ok());
      const auto size = fsys::file_size(data_path());
      if (size < largest) shrank = true;
      largest = std::max(largest, size);
    }
    expect_state(*sm, model, index);
  }
  EXPECT_TRUE(shrank);
  // 200 rounds wrote ~200 KiB of records; compaction keeps the file near its threshold.
  EXPECT_LT(largest, 20u << 10);
  auto sm = open(options);
  expect_state(*sm, model, index);
  EXPECT_EQ(sm->snapshot_metadata(), meta);
}

TEST_F(FileStateMachineTest, CrashLeftoverTmpFilesAreRemoved) {
  History h;
  {
    auto sm = open();
    h = write_history(*sm);
  }
  for (const char* name : {"data.compact.tmp", "data.install.tmp", "data.reset.tmp", "data.tmp"}) {
    write_file(dir_ / "sm" / name, "half-written garbage");
  }
  auto sm = open();
  expect_state(*sm, h.models.back(), h.last_index.back());
  for (const auto& entry : fsys::directory_iterator(dir_ / "sm")) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
}

TEST_F(FileStateMachineTest, SecondInstanceOnTheSameDirectoryIsRefused) {
  auto first = open();
  FileStateMachine second(dir_ / "sm");
  auto s = second.start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("already open"), std::string::npos) << s.error().message;
  EXPECT_FALSE(second.is_running());
  ASSERT_TRUE(first->stop().ok());
  EXPECT_TRUE(second.start().ok());
}

TEST_F(FileStateMachineTest, MalformedEntryWritesNothing) {
  auto sm = open();
  ASSERT_TRUE(apply_sync(*sm, {put(1, "a", "1")}).ok());
  const auto size = fsys::file_size(data_path());
  auto r = apply_sync(*sm, {put(2, "a", "2"), Entry{3, 1, EntryType::normal, "\xff\xff garbage"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_entry);
  EXPECT_EQ(fsys::file_size(data_path()), size);
  EXPECT_EQ(*sm->get("a"), std::optional<std::string>("1"));
  // Re-delivered entries are skipped and write nothing either.
  auto again = apply_sync(*sm, {put(1, "a", "x")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].outcome, ApplyOutcome::already_applied);
  EXPECT_EQ(fsys::file_size(data_path()), size);
}

TEST_F(FileStateMachineTest, SnapshotRoundTripReplacesStateDurably) {
  const fsys::path snap = dir_ / "snap";
  GeneratedSnapshot generated;
  History h;
  {
    FileStateMachine source(dir_ / "source");
    ASSERT_TRUE(source.start().ok());
    h = write_history(source);
    auto g = source.generate_snapshot_data(snap);
    ASSERT_TRUE(g.ok()) << g.error().to_string();
    generated = *g;
  }
  EXPECT_EQ(generated.last_included.index, h.last_index.back());
  const SnapshotMetadata meta{generated.last_included, {{1, 2}, {}}, generated.checksum,
                              generated.size};
  {
    auto sm = open();
    ASSERT_TRUE(apply_sync(*sm, {put(1, "only-here", "x"), put(2, "k1", "old")}).ok());
    SnapshotMetadata bad = meta;
    bad.checksum = snapshot::checksum_of("something else");
    auto refused = sm->apply_snapshot_from_file(bad, snap);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::checksum_mismatch);
    EXPECT_EQ(*sm->get("only-here"), std::optional<std::string>("x"));
    EXPECT_EQ(sm->last_applied().index, 2u);

    auto s = sm->apply_snapshot_from_file(meta, snap);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    expect_state(*sm, h.models.back(), h.last_index.back());
    EXPECT_EQ(sm->snapshot_metadata(), meta);
  }
  auto sm = open();
  expect_state(*sm, h.models.back(), h.last_index.back());
  EXPECT_EQ(sm->snapshot_metadata(), meta);
}

TEST_F(FileStateMachineTest, ResetIsDurable) {
  {
    auto sm = open();
    write_history(*sm);
    ASSERT_TRUE(sm->save_hard_state().ok());
    ASSERT_TRUE(sm->reset().ok());
    expect_state(*sm, {}, 0);
    EXPECT_FALSE(sm->snapshot_metadata().has_value());
  }
  auto sm = open();
  expect_state(*sm, {}, 0);
  EXPECT_FALSE(sm->snapshot_metadata().has_value());
}

TEST_F(FileStateMachineTest, PersistedMetadataSurvivesReopen) {
  const SnapshotMetadata meta{{5, 2}, {{1, 2, 3}, {}}, snapshot::checksum_of("s"), 77};
  {
    auto sm = open();
    ASSERT_TRUE(apply_sync(*sm, {put(1, "a", "1")}).ok());
    ASSERT_TRUE(sm->persist_last_applied({9, 3}).ok());
    sm->update_last_snapshot_metadata(meta);
    ASSERT_TRUE(sm->save_hard_state().ok());
  }
  auto sm = open();
  EXPECT_EQ(sm->last_applied(), (LogId{9, 3}));
  EXPECT_EQ(sm->snapshot_metadata(), meta);
  EXPECT_EQ(sm->entry_term(9), std::optional<std::uint64_t>(3));
}

// A write that fails (here: the file size limit) poisons the state machine instead of
// letting memory and disk diverge; the file is cut back, so a restart recovers.
TEST_F(FileStateMachineTest, FailedWritePoisonsAndRestartRecovers) {
  auto sm = open();
  ASSERT_TRUE(apply_sync(*sm, {put(1, "a", "1")}).ok());
  const auto size = fsys::file_size(data_path());

  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = size + 100;  // the next record is larger: torn, then EFBIG
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  auto r = apply_sync(*sm, {put(2, "b", std::string(1000, 'x'))});
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::io_error);
  EXPECT_EQ(fsys::file_size(data_path()), size);  // the torn record was cut back
  EXPECT_EQ(apply_sync(*sm, {put(3, "c", "3")}).error().code, ErrorCode::io_error);
  EXPECT_EQ(sm->get("a").error().code, ErrorCode::io_error);
  EXPECT_EQ(sm->flush().error().code, ErrorCode::io_error);

  ASSERT_TRUE(sm->stop().ok());
  ASSERT_TRUE(sm->start().ok());
  expect_state(*sm, {{"a", "1"}}, 1);
  ASSERT_TRUE(apply_sync(*sm, {put(2, "b", "2")}).ok());
}

TEST_F(FileStateMachineTest, CompareAndSwapSeesTheChunksEarlierWrites) {
  {
    auto sm = open();
    auto r = apply_sync(*sm, {put(1, "a", "1"),
                         Entry{2, 1, EntryType::normal, command::cas("a", "1", "2")},
                         Entry{3, 1, EntryType::normal, command::cas("a", "1", "3")},
                         Entry{4, 1, EntryType::noop, ""}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[1].outcome, ApplyOutcome::applied);
    EXPECT_EQ((*r)[2].outcome, ApplyOutcome::cas_mismatch);
  }
  auto sm = open();
  expect_state(*sm, {{"a", "2"}}, 4);
}

}  // namespace
}  // namespace raftor
