// The files a run writes (--out and its .jsonl, --trace, --dump's folder, --benchmark_out, a
// frontier's --out): checked before the first point, written so that a reader sees a whole file or
// none, and locked so that two runs never write one (docs/cli.md, "Outputs").
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace sb {

// config_error (exit 2) unless `path` can be this run's output: nothing there yet or a regular file
// (never a folder, device, FIFO or socket), not one of `inputs` (the config a run reads), in a
// folder that exists or is made and takes a new file (probed with a file of this process's own,
// removed at once).
void require_output_file(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs = {});
// The same for a folder that takes files (--dump): a folder, or nothing yet (made), that takes one.
void require_output_folder(const std::string& path, const std::string& flag);
// config_error unless the (flag, path) outputs name different files.
void require_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// config_error unless a results file's .jsonl is another file than itself (--out x.jsonl).
void require_results_names(const std::string& final_path);

// Writes content to path through a temporary file of this process's own (<path>.tmp.<pid>) and a
// rename, so path is either complete or absent. Throws runtime_error naming the path and the
// reason; removes only its own temporary file.
void write_file_atomically(const std::string& path, const std::string& content);

// A run's results file and the .jsonl beside it that grows point by point. Taking it checks both
// paths, locks the .jsonl (a second run on the same --out is refused at once, naming the first's
// process), empties it, and removes an earlier run's final file of that name, so that nothing left
// there presents earlier results as this run's. The lock is released with the object.
class results_files {
 public:
  results_files(const std::string& final_path, const std::vector<std::string>& inputs);  // config_error
  ~results_files();
  results_files(const results_files&) = delete;
  results_files& operator=(const results_files&) = delete;

  void append_line(const std::string& line);  // to the .jsonl, written through at once
  const std::string& final_path() const { return m_final; }
  const std::string& jsonl_path() const { return m_jsonl; }

 private:
  std::string m_final, m_jsonl;
  int m_fd = -1;
};

std::string jsonl_path_for(const std::string& final_path);  // results/x.json -> results/x.jsonl

}  // namespace sb
