#include "raftor/storage/fs_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace raftor::fs {

namespace {
Error os_error(std::string_view what, const std::filesystem::path& path, int err) {
  return make_error(ErrorCode::io_error,
                    std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Status fsync_fd_of(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return os_error("cannot open", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return os_error("cannot fsync", path, err);
  return {};
}
}  // namespace

Status fsync_file(const std::filesystem::path& path) { return fsync_fd_of(path, O_RDONLY); }

Status fsync_dir(const std::filesystem::path& dir) {
  return fsync_fd_of(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY);
}

Status atomic_write_file(const std::filesystem::path& path, std::string_view data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot create", tmp, errno);
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return os_error("cannot write", tmp, err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return os_error("cannot fsync", tmp, err);
  }
  ::close(fd);
  return durable_rename(tmp, path);
}

Status durable_rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return os_error("cannot rename onto", to, errno);
  return fsync_dir(to.parent_path());
}

Status create_directories(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::io_error,
                      "cannot create directory " + dir.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace raftor::fs
