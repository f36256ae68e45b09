#include "document_store.hpp"

#include <raftor/snapshot/checksum.hpp>
#include <raftor/snapshot/kv_snapshot_file.hpp>
#include <raftor/storage/fs_util.hpp>
#include <raftor/storage/kv_apply.hpp>
#include <raftor/storage/proto_convert.hpp>

#include <charconv>

namespace docstore {

using raftor::ErrorCode;
using raftor::make_error;
using raftor::Result;
using raftor::Status;

namespace {
// Records of the state file (a raftor KV snapshot file): the value's first byte says what
// the record is, so that document ids can be any bytes.
constexpr char kDocument = 'd';          // id -> 'd' | revision u64 | body
constexpr char kSnapshotMetadata = 'm';  // "" -> 'm' | serialized SnapshotMetadata

std::string encode_document(const DocumentStore::Document& doc) {
  std::string out(1 + 8, kDocument);
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>(doc.revision >> (8 * i));
  out += doc.body;
  return out;
}

std::optional<DocumentStore::Document> decode_document(std::string_view value) {
  if (value.size() < 9 || value[0] != kDocument) return std::nullopt;
  std::uint64_t revision = 0;
  for (int i = 7; i >= 0; --i) revision = (revision << 8) | static_cast<unsigned char>(value[1 + i]);
  return DocumentStore::Document{revision, std::string(value.substr(9))};
}

// Checkpoints are named checkpoint-<generation>-<checksum hex>: the name carries what is
// needed to validate the file, and the highest generation is the current one.
struct CheckpointName {
  std::uint64_t generation = 0;
  std::string checksum_hex;
};

std::optional<CheckpointName> parse_checkpoint_name(const std::string& name) {
  constexpr std::string_view prefix = "checkpoint-";
  if (!name.starts_with(prefix)) return std::nullopt;
  const auto dash = name.find('-', prefix.size());
  if (dash == std::string::npos) return std::nullopt;
  CheckpointName out;
  const char* first = name.data() + prefix.size();
  if (std::from_chars(first, name.data() + dash, out.generation).ec != std::errc{}) {
    return std::nullopt;
  }
  out.checksum_hex = name.substr(dash + 1);
  if (out.checksum_hex.size() != 32) return std::nullopt;
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// Applies commands straight to the document map (apply_kv_chunk validated the chunk).
class DocumentTarget final : public raftor::KvTarget {
 public:
  explicit DocumentTarget(DocumentStore::Documents& docs) : docs_(docs) {}
  Result<bool> holds(std::string_view id, const std::string* expected) override {
    auto it = docs_.find(id);
    if (expected == nullptr) return it == docs_.end();
    return it != docs_.end() && it->second.body == *expected;
  }
  Status put(std::string_view id, std::string_view body) override {
    auto [it, inserted] = docs_.try_emplace(std::string(id));
    it->second.revision += 1;
    it->second.body.assign(body);
    return {};
  }
  Status del(std::string_view id) override {
    if (auto it = docs_.find(id); it != docs_.end()) docs_.erase(it);
    return {};
  }

 private:
  DocumentStore::Documents& docs_;
};
}  // namespace

DocumentStore::DocumentStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

DocumentStore::~DocumentStore() {
  if (is_running()) (void)stop();  // the contract: a destructor flushes
}

Status DocumentStore::check_running() const {
  if (!running_) return make_error(ErrorCode::not_running, "document store is stopped");
  return {};
}

bool DocumentStore::is_running() const {
  std::shared_lock lock(mutex_);
  return running_;
}

Status DocumentStore::start() {
  std::unique_lock lock(mutex_);
  if (running_) return {};
  if (auto s = raftor::fs::create_directories(dir_); !s) return s;
  // Find the newest checkpoint; older ones and unfinished temporaries are leftovers.
  std::optional<CheckpointName> newest;
  std::filesystem::path newest_path;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto name = parse_checkpoint_name(entry.path().filename().string());
    if (name && (!newest || name->generation > newest->generation)) {
      newest = name;
      newest_path = entry.path();
    }
  }
  docs_.clear();
  last_applied_ = {};
  snapshot_metadata_.reset();
  if (newest) {
    std::optional<raftor::Error> bad_record;
    auto header = raftor::snapshot::read_kv_snapshot(
        newest_path, from_hex(newest->checksum_hex),
        [&](std::string_view id, std::string_view value) {
          if (!value.empty() && value[0] == kSnapshotMetadata) {
            auto meta = raftor::parse_snapshot_metadata(value.substr(1));
            if (meta) snapshot_metadata_ = *meta;
            else bad_record = meta.error();
          } else if (auto doc = decode_document(value)) {
            docs_.emplace(id, std::move(*doc));
          } else {
            bad_record = make_error(ErrorCode::corruption, "bad document record");
          }
        });
    if (!header) return header.error();
    if (bad_record) return *bad_record;
    last_applied_ = header->last_included;
  }
  running_ = true;
  return {};
}

Status DocumentStore::stop() {
  std::unique_lock lock(mutex_);
  if (!running_) return {};
  auto s = checkpoint_locked();
  running_ = false;
  return s;
}

std::optional<std::uint64_t> DocumentStore::revision(std::string_view id) const {
  std::shared_lock lock(mutex_);
  auto it = docs_.find(id);
  if (it == docs_.end()) return std::nullopt;
  return it->second.revision;
}

std::size_t DocumentStore::count_in_collection(std::string_view collection) const {
  std::shared_lock lock(mutex_);
  const std::string prefix = std::string(collection) + "/";
  std::size_t n = 0;
  for (auto it = docs_.lower_bound(prefix); it != docs_.end() && it->first.starts_with(prefix); ++it) {
    ++n;
  }
  return n;
}

Result<std::optional<std::string>> DocumentStore::get(std::string_view id) const {
  std::shared_lock lock(mutex_);
  if (auto s = check_running(); !s) return s.error();
  auto it = docs_.find(id);
  if (it == docs_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second.body};
}

std::size_t DocumentStore::len() const {
  std::shared_lock lock(mutex_);
  return docs_.size();
}

void DocumentStore::apply_chunk(std::vector<raftor::Entry> chunk, ApplyDone done) {
  std::unique_lock lock(mutex_);
  if (auto s = check_running(); !s) return done(s.error());
  DocumentTarget target(docs_);
  auto outcome = raftor::apply_kv_chunk(chunk, last_applied_, target, scratch_);
  if (!outcome) return done(outcome.error());
  if (outcome->last_applied) last_applied_ = *outcome->last_applied;
  lock.unlock();
  done(std::move(outcome->results));
}

void DocumentStore::update_last_applied(raftor::LogId last_applied) {
  std::unique_lock lock(mutex_);
  last_applied_ = last_applied;
}

raftor::LogId DocumentStore::last_applied() const {
  std::shared_lock lock(mutex_);
  return last_applied_;
}

Status DocumentStore::persist_last_applied(raftor::LogId last_applied) {
  std::unique_lock lock(mutex_);
  if (auto s = check_running(); !s) return s;
  last_applied_ = last_applied;
  return checkpoint_locked();
}

void DocumentStore::update_last_snapshot_metadata(const raftor::SnapshotMetadata& metadata) {
  std::unique_lock lock(mutex_);
  snapshot_metadata_ = metadata;
}

std::optional<raftor::SnapshotMetadata> DocumentStore::snapshot_metadata() const {
  std::shared_lock lock(mutex_);
  return snapshot_metadata_;
}

Status DocumentStore::persist_last_snapshot_metadata(const raftor::SnapshotMetadata& metadata) {
  std::unique_lock lock(mutex_);
  if (auto s = check_running(); !s) return s;
  snapshot_metadata_ = metadata;
  return checkpoint_locked();
}

Result<raftor::GeneratedSnapshot> DocumentStore::write_state(const std::filesystem::path& path) const {
  auto writer = raftor::snapshot::KvSnapshotWriter::create(path, last_applied_);
  if (!writer) return writer.error();
  for (const auto& [id, doc] : docs_) {
    if (auto s = writer->add(id, encode_document(doc)); !s) return s.error();
  }
  return writer->finish();
}

Result<raftor::GeneratedSnapshot> DocumentStore::generate_snapshot_data(
    const std::filesystem::path& path) {
  std::shared_lock lock(mutex_);  // a consistent view; apply waits while it is written
  if (auto s = check_running(); !s) return s.error();
  return write_state(path);
}

Status DocumentStore::apply_snapshot_from_file(const raftor::SnapshotMetadata& metadata,
                                               const std::filesystem::path& path) {
  if (auto s = check_running(); !s) return s;
  Documents loaded;
  std::optional<raftor::Error> bad_record;
  auto header = raftor::snapshot::read_kv_snapshot(
      path, metadata.checksum, [&](std::string_view id, std::string_view value) {
        if (auto doc = decode_document(value)) loaded.emplace(id, std::move(*doc));
        else bad_record = make_error(ErrorCode::corruption, "snapshot has a bad document record");
      });
  if (!header) return header.error();
  if (bad_record) return *bad_record;
  std::unique_lock lock(mutex_);
  Documents previous_docs = std::exchange(docs_, std::move(loaded));
  const auto previous_applied = std::exchange(last_applied_, metadata.last_included);
  auto previous_meta = std::exchange(snapshot_metadata_, metadata);
  // The new checkpoint's rename is the atomic switch from the old state to the new.
  if (auto s = checkpoint_locked(); !s) {
    docs_ = std::move(previous_docs);
    last_applied_ = previous_applied;
    snapshot_metadata_ = std::move(previous_meta);
    return s;
  }
  return {};
}

Status DocumentStore::flush() {
  std::unique_lock lock(mutex_);
  if (auto s = check_running(); !s) return s;
  return checkpoint_locked();
}

Status DocumentStore::reset() {
  std::unique_lock lock(mutex_);
  if (auto s = check_running(); !s) return s;
  docs_.clear();
  last_applied_ = {};
  snapshot_metadata_.reset();
  return checkpoint_locked();
}

Status DocumentStore::checkpoint_locked() {
  std::uint64_t generation = 0;
  std::vector<std::filesystem::path> old;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (auto parsed = parse_checkpoint_name(name)) {
      generation = std::max(generation, parsed->generation);
      old.push_back(entry.path());
    } else if (name.starts_with("checkpoint.tmp")) {
      old.push_back(entry.path());
    }
  }
  const auto tmp = dir_ / "checkpoint.tmp";
  auto writer = raftor::snapshot::KvSnapshotWriter::create(tmp, last_applied_);
  if (!writer) return writer.error();
  for (const auto& [id, doc] : docs_) {
    if (auto s = writer->add(id, encode_document(doc)); !s) return s;
  }
  if (snapshot_metadata_) {
    if (auto s = writer->add("", kSnapshotMetadata + raftor::serialize(*snapshot_metadata_)); !s) {
      return s;
    }
  }
  auto written = writer->finish();
  if (!written) return written.error();
  const auto final_path = dir_ / ("checkpoint-" + std::to_string(generation + 1) + "-" +
                                  raftor::snapshot::to_hex(written->checksum));
  if (auto s = raftor::fs::durable_rename(tmp, final_path); !s) return s;
  std::error_code ec;
  for (const auto& path : old) {
    if (path != tmp) std::filesystem::remove(path, ec);
  }
  return {};
}

}  // namespace docstore
