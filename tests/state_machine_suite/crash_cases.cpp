#include "raftor/tests/state_machine_suite/crash_cases.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "raftor/storage/proto_convert.hpp"

namespace raftor::testing::detail {

namespace {
using namespace std::chrono_literals;

constexpr std::uint64_t kChunkSize = 50;
constexpr std::uint64_t kChunks = 4000;
constexpr int kKeys = 300;

std::string key_of(std::uint64_t n) { return "k" + std::to_string(n % kKeys); }

// Chunk c (0-based): puts, deletes and CAS over a small key space so that chunks overwrite
// each other and a mix of two chunks is distinguishable from either.
std::vector<Entry> make_chunk(std::uint64_t c) {
  std::vector<Entry> chunk;
  chunk.reserve(kChunkSize);
  for (std::uint64_t i = 0; i < kChunkSize; ++i) {
    const std::uint64_t index = c * kChunkSize + i + 1;
    const std::string key = key_of(c * 31 + i * 7);
    if (i % 10 == 9) {
      chunk.push_back(del_entry(index, key));
    } else if (i % 10 == 5) {
      chunk.push_back(cas_entry(index, key, std::nullopt, "cas" + std::to_string(c)));
    } else {
      chunk.push_back(put_entry(index, key, "c" + std::to_string(c) + "i" + std::to_string(i) +
                                                std::string(64, 'v')));
    }
  }
  return chunk;
}

std::vector<std::string> all_keys() {
  std::vector<std::string> out;
  for (int i = 0; i < kKeys; ++i) out.push_back("k" + std::to_string(i));
  return out;
}

[[noreturn]] void child_fail(const std::string& why) {
  child_report("error " + why);
  std::_Exit(3);
}

[[noreturn]] void apply_child(SuiteCase& t, const std::filesystem::path& dir) {
  auto sm = t.builder().build(dir / "sm");
  if (!sm || !sm->start().ok()) child_fail("cannot start");
  child_report("ready");
  for (std::uint64_t c = 0; c < kChunks; ++c) {
    auto r = apply(*sm, make_chunk(c));
    if (!r.ok()) child_fail(r.error().to_string());
    if (c % 10 == 9) {
      if (auto s = sm->flush(); !s.ok()) child_fail(s.error().to_string());
      child_report("flushed " + std::to_string((c + 1) * kChunkSize));
    }
  }
  child_report("done");
  std::_Exit(0);
}

std::string describe(const StateMachine& sm) {
  return "last_applied=" + std::to_string(sm.last_applied().index) +
         " len=" + std::to_string(sm.len());
}
}  // namespace

void crash_during_apply_chunk(SuiteCase& t) {
  if (auto dir = child_dir()) apply_child(t, *dir);

  const std::chrono::milliseconds delays[] = {0ms, 10ms, 40ms, 100ms, 250ms};
  for (std::size_t round = 0; round < std::size(delays); ++round) {
    SCOPED_TRACE("kill after " + std::to_string(delays[round].count()) + " ms");
    const auto dir = t.scratch_dir("apply-crash-" + std::to_string(round));
    std::uint64_t flushed = 0;
    {
      Child child(dir);
      auto ready = child.read_line();
      ASSERT_EQ(ready, std::optional<std::string>("ready")) << "child did not start";
      std::this_thread::sleep_for(delays[round]);
      child.kill();
      while (auto line = child.read_line(1s)) {
        ASSERT_FALSE(line->starts_with("error")) << "child: " << *line;
        if (line->starts_with("flushed ")) flushed = std::stoull(line->substr(8));
      }
    }
    auto sm = t.open_at(dir / "sm");
    ASSERT_NE(sm, nullptr);
    const std::uint64_t applied = sm->last_applied().index;
    ASSERT_EQ(applied % kChunkSize, 0u)
        << "after a crash last_applied must end a whole chunk: " << describe(*sm);
    EXPECT_GE(applied, flushed) << "entries acknowledged by flush() were lost";
    Model model;
    for (std::uint64_t c = 0; c < applied / kChunkSize; ++c) model.apply(make_chunk(c));
    expect_state(*sm, model, all_keys());
    // And it keeps going from there.
    auto next = apply(*sm, make_chunk(applied / kChunkSize));
    EXPECT_TRUE(next.ok()) << next.error().to_string();
  }
}

namespace {
constexpr int kSnapshotKeys = 20000;

std::vector<Entry> snapshot_state_chunk(std::uint64_t first_index, const std::string& tag,
                                        int keys) {
  std::vector<Entry> out;
  for (int i = 0; i < keys; ++i) {
    out.push_back(put_entry(first_index + i, "s" + std::to_string(i), tag + std::string(100, 'x')));
  }
  return out;
}

std::vector<std::string> snapshot_universe() {
  std::vector<std::string> out;
  for (int i = 0; i < kSnapshotKeys; i += 97) out.push_back("s" + std::to_string(i));
  return out;
}

[[noreturn]] void install_child(SuiteCase& t, const std::filesystem::path& dir) {
  std::ifstream in(dir / "snapshot.meta", std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  auto meta = parse_snapshot_metadata(bytes);
  if (!meta.ok()) child_fail(meta.error().to_string());
  auto sm = t.builder().build(dir / "sm");
  if (!sm || !sm->start().ok()) child_fail("cannot start");
  child_report("ready");
  if (auto s = sm->apply_snapshot_from_file(*meta, dir / "snapshot"); !s.ok()) {
    child_fail(s.error().to_string());
  }
  child_report("installed");
  std::_Exit(0);
}

void expect_sampled_state(const StateMachine& sm, const Model& model) {
  EXPECT_EQ(sm.len(), model.data.size());
  EXPECT_EQ(sm.last_applied(), model.last_applied);
  for (const auto& key : snapshot_universe()) {
    auto it = model.data.find(key);
    EXPECT_EQ(get_value(sm, key),
              it == model.data.end() ? std::nullopt : std::optional<std::string>(it->second))
        << "key " << key;
  }
}
}  // namespace

void crash_during_snapshot_install(SuiteCase& t) {
  if (auto dir = child_dir()) install_child(t, *dir);

  // The new state: a snapshot of kSnapshotKeys keys taken from another instance.
  Model new_model;
  const auto source_dir = t.scratch_dir("source");
  const auto snapshot_path = source_dir / "snapshot";
  SnapshotMetadata meta;
  {
    auto source = t.open_at(source_dir / "sm");
    auto chunk = snapshot_state_chunk(1, "new", kSnapshotKeys);
    new_model.apply(chunk);
    apply_ok(*source, std::move(chunk));
    meta = take_snapshot(*source, snapshot_path);
  }
  // The old state: half the keys, other values, a different last_applied.
  Model old_model;
  auto old_chunk = snapshot_state_chunk(1, "old", kSnapshotKeys / 2);
  old_model.apply(old_chunk);

  auto prepare_round = [&](const std::string& name) {
    const auto dir = t.scratch_dir(name);
    std::filesystem::copy_file(snapshot_path, dir / "snapshot");
    std::ofstream(dir / "snapshot.meta", std::ios::binary) << serialize(meta);
    auto sm = t.open_at(dir / "sm");
    apply_ok(*sm, old_chunk);
    EXPECT_TRUE(sm->stop().ok());
    return dir;
  };

  // Calibrate: how long does an install take here?
  std::chrono::microseconds install_time{0};
  {
    const auto dir = prepare_round("calibrate");
    Child child(dir);
    ASSERT_EQ(child.read_line(), std::optional<std::string>("ready"));
    const auto start = std::chrono::steady_clock::now();
    auto line = child.read_line();
    ASSERT_EQ(line, std::optional<std::string>("installed")) << "child: " << line.value_or("");
    install_time = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    child.wait();
    auto sm = t.open_at(dir / "sm");
    expect_sampled_state(*sm, new_model);
  }

  int saw_old = 0, saw_new = 0;
  // Kill points spread over the install and past its end, so both outcomes are exercised.
  for (int round = 0; round < 7; ++round) {
    const auto delay = install_time * round / 4;
    SCOPED_TRACE("kill after " + std::to_string(delay.count()) + " us of a " +
                 std::to_string(install_time.count()) + " us install");
    const auto dir = prepare_round("install-crash-" + std::to_string(round));
    {
      Child child(dir);
      ASSERT_EQ(child.read_line(), std::optional<std::string>("ready"));
      std::this_thread::sleep_for(delay);
      child.kill();
      while (auto line = child.read_line(1s)) {
        ASSERT_FALSE(line->starts_with("error")) << "child: " << *line;
      }
    }
    auto sm = t.open_at(dir / "sm");
    ASSERT_NE(sm, nullptr);
    const LogId applied = sm->last_applied();
    if (applied == old_model.last_applied) {
      ++saw_old;
      expect_sampled_state(*sm, old_model);
      EXPECT_EQ(sm->snapshot_metadata(), std::nullopt);
    } else {
      ASSERT_EQ(applied, new_model.last_applied)
          << "after a crash during install the state must be the old or the new one, not "
          << describe(*sm);
      ++saw_new;
      expect_sampled_state(*sm, new_model);
      EXPECT_EQ(sm->snapshot_metadata(), meta);
    }
  }
  std::printf("[ crash ] snapshot install of %d keys took %lld us; after kills: %d old, %d new\n",
              kSnapshotKeys, static_cast<long long>(install_time.count()), saw_old, saw_new);
}

}  // namespace raftor::testing::detail
