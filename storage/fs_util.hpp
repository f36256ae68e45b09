// Small POSIX helpers for durable file handling (fsync of files and directories, atomic
// replacement by rename), shared by the file-based state machine and the snapshotter.
#pragma once

#include <filesystem>
#include <string_view>

#include "raftor/storage/status.hpp"

namespace raftor::fs {

Status fsync_file(const std::filesystem::path& path);
// A rename or create is durable only once its directory is fsynced.
Status fsync_dir(const std::filesystem::path& dir);
// Writes `data` to path.tmp, fsyncs it, renames it over `path`, fsyncs the directory:
// a crash leaves the old content or the new, never a mix.
Status atomic_write_file(const std::filesystem::path& path, std::string_view data);
// rename(2) then fsync of the destination's directory.
Status durable_rename(const std::filesystem::path& from, const std::filesystem::path& to);
Status create_directories(const std::filesystem::path& dir);

}  // namespace raftor::fs
