#include "harness/report/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "harness/core/error.h"

namespace sb {

namespace {

std::string reason() { return std::strerror(errno); }

// What is at path, if anything: "" for nothing or a regular file, else what it is.
std::string not_a_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? "" : "cannot be examined (" + reason() + ")";
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "is a folder";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "is a device";
  if (S_ISFIFO(st.st_mode)) return "is a FIFO";
  if (S_ISSOCK(st.st_mode)) return "is a socket";
  return "is not a regular file";
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;  // both exist: by inode
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

// The folder of path exists or is made, and takes a file: "" or why not.
std::string folder_takes_a_file(const std::filesystem::path& folder, const std::string& name) {
  std::error_code ec;
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  if (ec) return "cannot make its folder (" + ec.message() + ")";
  const std::string probe = (folder.empty() ? std::filesystem::path(".") : folder) / fmt::format(".{}.probe.{}", name, ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return "its folder takes no new file (" + reason() + ")";
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

// All of text to fd, through short writes and signals: "" or why not.
std::string write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return reason();
    done += std::size_t(n);
  }
  return "";
}

}  // namespace

std::string jsonl_path_for(const std::string& final_path) {
  std::filesystem::path p(final_path);
  return (p.parent_path() / (p.stem().string() + ".jsonl")).string();
}

void require_output_file(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs) {
  const std::filesystem::path p(path);
  if (path.empty()) throw_config(flag + ": empty value");
  if (!p.has_filename()) throw_config(fmt::format("{} {}: names a folder; give a file name", flag, path));
  if (const std::string what = not_a_regular_file(path); !what.empty())
    throw_config(fmt::format("{} {}: {}; only a regular file may be replaced", flag, path, what));
  for (const auto& in : inputs)
    if (!in.empty() && same_file(path, in)) throw_config(fmt::format("{} {}: is the config this run reads", flag, path));
  if (const std::string why = folder_takes_a_file(p.parent_path(), p.filename().string()); !why.empty())
    throw_config(fmt::format("{} {}: {}", flag, path, why));
}

void require_output_folder(const std::string& path, const std::string& flag) {
  if (path.empty()) throw_config(flag + ": empty value");
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec))
    throw_config(fmt::format("{} {}: exists and is not a folder", flag, path));
  if (const std::string why = folder_takes_a_file(path, "dump"); !why.empty())
    throw_config(fmt::format("{} {}: {}", flag, path, why));
}

void require_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i)
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (!outputs[i].second.empty() && !outputs[j].second.empty() && same_file(outputs[i].second, outputs[j].second))
        throw_config(fmt::format("{} and {} name the same file {}", outputs[i].first, outputs[j].first, outputs[i].second));
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (!p.parent_path().empty()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) throw_runtime(fmt::format("cannot write {}: cannot make its folder ({})", path, ec.message()));
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw_runtime(fmt::format("cannot write {}: cannot create {} ({})", path, tmp, reason()));
  if (const std::string why = write_all(fd, content); !why.empty()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw_runtime(fmt::format("cannot write {}: {}", path, why));
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = reason();
    ::unlink(tmp.c_str());
    throw_runtime(fmt::format("cannot write {}: {}", path, why));
  }
}

void require_results_names(const std::string& final_path) {
  if (same_file(final_path, jsonl_path_for(final_path)))
    throw_config(fmt::format("--out {}: the per-point file would be the results file itself; name the results *.json",
                             final_path));
}

results_files::results_files(const std::string& final_path, const std::vector<std::string>& inputs)
    : m_final(final_path), m_jsonl(jsonl_path_for(final_path)) {
  require_output_file(m_final, "--out", inputs);
  require_results_names(m_final);
  require_output_file(m_jsonl, "--out's per-point file", inputs);
  m_fd = ::open(m_jsonl.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (m_fd < 0) throw_config(fmt::format("--out: cannot open {} ({})", m_jsonl, reason()));
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(m_fd, F_SETLK, &lock) != 0) {
    struct flock holder {};
    holder.l_type = F_WRLCK;
    holder.l_whence = SEEK_SET;
    const bool known = ::fcntl(m_fd, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
    ::close(m_fd);
    throw_config(fmt::format("--out {}: another run is writing it ({}); wait for it or choose another --out", m_final,
                             known ? fmt::format("process {}", holder.l_pid) : "its process holds " + m_jsonl));
  }
  // This run's from here on: its per-point file starts empty, and an earlier run's results under
  // the final name go (a run stopped early then leaves its .jsonl and no final file).
  if (::ftruncate(m_fd, 0) != 0) throw_runtime(fmt::format("cannot empty {}: {}", m_jsonl, reason()));
  if (::unlink(m_final.c_str()) != 0 && errno != ENOENT)
    throw_runtime(fmt::format("cannot remove the earlier {}: {}", m_final, reason()));
}

results_files::~results_files() {
  if (m_fd >= 0) ::close(m_fd);  // releases the lock
}

void results_files::append_line(const std::string& line) {
  if (const std::string why = write_all(m_fd, line + '\n'); !why.empty())
    throw_runtime(fmt::format("cannot write {}: {}", m_jsonl, why));
}

}  // namespace sb
