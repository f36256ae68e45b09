#include "raftor/tests/state_machine_suite/suite_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <future>

#include "raftor/storage/command.hpp"
#include "raftor/storage/proto_convert.hpp"

extern char** environ;

namespace raftor::testing::detail {

namespace {
constexpr const char* kChildDirEnv = "RAFTOR_SUITE_CHILD_DIR";
constexpr const char* kChildFdEnv = "RAFTOR_SUITE_CHILD_FD";
}  // namespace

Entry put_entry(std::uint64_t index, std::string_view key, std::string_view value,
                std::uint64_t term) {
  return {index, term, EntryType::normal, command::put(key, value)};
}
Entry del_entry(std::uint64_t index, std::string_view key, std::uint64_t term) {
  return {index, term, EntryType::normal, command::del(key)};
}
Entry cas_entry(std::uint64_t index, std::string_view key, std::optional<std::string_view> expected,
                std::string_view value, std::uint64_t term) {
  return {index, term, EntryType::normal, command::cas(key, expected, value)};
}
Entry noop_entry(std::uint64_t index, std::uint64_t term) {
  return {index, term, EntryType::noop, {}};
}
Entry config_entry(std::uint64_t index, std::uint64_t term) {
  std::string payload;
  to_proto(Membership{{1, 2, 3}, {}}).SerializeToString(&payload);
  return {index, term, EntryType::config, payload};
}

void Model::apply(const std::vector<Entry>& chunk) {
  pb::Command cmd;
  for (const Entry& e : chunk) {
    if (e.index <= last_applied.index) continue;
    last_applied = e.id();
    if (e.type != EntryType::normal || !command::decode(e, cmd).ok()) continue;
    switch (cmd.op_case()) {
      case pb::Command::kPut: data[cmd.put().key()] = cmd.put().value(); break;
      case pb::Command::kDel: data.erase(cmd.del().key()); break;
      case pb::Command::kCas: {
        auto it = data.find(cmd.cas().key());
        const bool holds = cmd.cas().has_expected()
                               ? it != data.end() && it->second == cmd.cas().expected()
                               : it == data.end();
        if (holds) data[cmd.cas().key()] = cmd.cas().value();
        break;
      }
      default: break;
    }
  }
}

// --- fixture ------------------------------------------------------------------------------------
void SuiteCase::SetUp() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "raftor-sm-suite-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
  root_ = pattern;
  dir_ = root_ / "sm";
  std::filesystem::create_directories(dir_);
}

void SuiteCase::TearDown() {
  if (builder_->cleanup) {
    builder_->cleanup(dir_);
    for (const auto& d : extra_dirs_) builder_->cleanup(d);
  }
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::filesystem::path SuiteCase::scratch_dir(const std::string& name) {
  auto d = root_ / name;
  std::filesystem::create_directories(d);
  extra_dirs_.push_back(d);
  return d;
}

std::unique_ptr<StateMachine> SuiteCase::open() { return open_at(dir_); }

std::unique_ptr<StateMachine> SuiteCase::open_at(const std::filesystem::path& dir) {
  auto sm = builder_->build(dir);
  EXPECT_NE(sm, nullptr) << "the builder returned no state machine";
  if (!sm) return nullptr;
  auto started = sm->start();
  EXPECT_TRUE(started.ok()) << "start() failed: " << started.error().to_string();
  return sm;
}

// --- helpers ------------------------------------------------------------------------------------
Result<std::vector<ApplyResult>> apply(StateMachine& sm, std::vector<Entry> chunk) {
  auto promise = std::make_shared<std::promise<Result<std::vector<ApplyResult>>>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto future = promise->get_future();
  sm.apply_chunk(std::move(chunk), [promise, calls](Result<std::vector<ApplyResult>> r) {
    if (calls->fetch_add(1) == 0) promise->set_value(std::move(r));
  });
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return make_error(ErrorCode::internal, "apply_chunk did not call done within 60 s");
  }
  auto result = future.get();
  EXPECT_EQ(calls->load(), 1) << "apply_chunk must call done exactly once";
  return result;
}

std::vector<ApplyResult> apply_ok(StateMachine& sm, std::vector<Entry> chunk) {
  auto r = apply(sm, std::move(chunk));
  EXPECT_TRUE(r.ok()) << "apply_chunk failed: " << r.error().to_string();
  return r.ok() ? std::move(r).value() : std::vector<ApplyResult>{};
}

std::optional<std::string> get_value(const StateMachine& sm, std::string_view key) {
  auto r = sm.get(key);
  EXPECT_TRUE(r.ok()) << "get(" << key << ") failed: " << r.error().to_string();
  return r.ok() ? *r : std::nullopt;
}

void expect_state(const StateMachine& sm, const Model& model,
                  const std::vector<std::string>& universe) {
  EXPECT_EQ(sm.len(), model.data.size()) << "len() differs from the expected state";
  EXPECT_EQ(sm.last_applied(), model.last_applied)
      << "last_applied " << sm.last_applied().index << " expected " << model.last_applied.index;
  for (const auto& [key, value] : model.data) {
    EXPECT_EQ(get_value(sm, key), std::optional<std::string>(value)) << "key " << key;
  }
  for (const auto& key : universe) {
    if (!model.data.count(key)) {
      EXPECT_EQ(get_value(sm, key), std::nullopt) << "key " << key;
    }
  }
}

SnapshotMetadata take_snapshot(StateMachine& sm, const std::filesystem::path& path) {
  auto gen = sm.generate_snapshot_data(path);
  EXPECT_TRUE(gen.ok()) << "generate_snapshot_data failed: " << gen.error().to_string();
  if (!gen.ok()) return {};
  return SnapshotMetadata{gen->last_included, Membership{{1, 2, 3}, {}}, gen->checksum, gen->size};
}

// --- registration -------------------------------------------------------------------------------
namespace {
class RegisteredCase final : public SuiteCase {
 public:
  RegisteredCase(std::shared_ptr<const StateMachineBuilder> builder, CaseSpec spec,
                 std::function<void(SuiteCase&)> body)
      : SuiteCase(std::move(builder)), spec_(spec), body_(std::move(body)) {}
  void TestBody() override {
    if (spec_.needs_persistence && !persistent()) {
      GTEST_SKIP() << "the state machine keeps nothing across instances";
    }
    body_(*this);
  }

 private:
  CaseSpec spec_;
  std::function<void(SuiteCase&)> body_;
};
}  // namespace

void register_case(const std::string& suite, const CaseSpec& spec,
                   std::shared_ptr<const StateMachineBuilder> builder,
                   std::function<void(SuiteCase&)> body) {
  ::testing::RegisterTest(suite.c_str(), spec.name, nullptr, nullptr, __FILE__, __LINE__,
                          [builder, spec, body]() -> SuiteCase* {
                            return new RegisteredCase(builder, spec, body);
                          });
}

// --- child processes ----------------------------------------------------------------------------
std::optional<std::filesystem::path> child_dir() {
  const char* dir = std::getenv(kChildDirEnv);
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  return std::filesystem::path(dir);
}

void child_report(const std::string& line) {
  const char* fd_text = std::getenv(kChildFdEnv);
  if (fd_text == nullptr) return;
  const int fd = std::atoi(fd_text);
  std::string out = line + "\n";
  // One write(2) per line: the parent never sees half a line from a killed child... unless
  // the line exceeds PIPE_BUF, which these short lines never do.
  (void)::write(fd, out.data(), out.size());
}

Child::Child(const std::filesystem::path& dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter =
      std::string("--gtest_filter=") + info->test_suite_name() + "." + info->name();
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    if (var.starts_with(kChildDirEnv) || var.starts_with(kChildFdEnv)) continue;
    env_strings.emplace_back(var);
  }
  env_strings.push_back(std::string(kChildDirEnv) + "=" + dir.string());
  env_strings.push_back(std::string(kChildFdEnv) + "=" + std::to_string(fds[1]));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = exe, arg1 = filter, arg2 = "--gtest_brief=1";
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The write end must survive exec in the child (it was opened O_CLOEXEC).
  posix_spawn_file_actions_adddup2(&actions, fds[1], fds[1]);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    ADD_FAILURE() << "posix_spawn failed: " << rc;
    return;
  }
  pid_ = pid;
  fd_ = fds[0];
}

Child::~Child() {
  if (pid_ > 0) kill();
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> Child::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (fd_ < 0) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(fd_);
      fd_ = -1;
      continue;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

void Child::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait();
}

int Child::wait() {
  int status = 0;
  if (pid_ > 0) {
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  return status;
}

}  // namespace raftor::testing::detail
