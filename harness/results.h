// Results JSON, schema `shardbench.result/1` (docs/results.md). Points are appended to a .jsonl
// beside the final file as they finish (a crash loses only the point in flight); the final file is
// written to a temporary name and renamed, so it is either complete or absent.
#pragma once
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "harness/point.h"
#include "harness/env.h"

namespace sb {

inline constexpr const char* kResultSchema = "shardbench.result/1";

nlohmann::json to_json(const point_result& r);
point_result point_from_json(const nlohmann::json& j);  // the inverse, for tools and tests
nlohmann::json to_json(const env_info& e);

class result_sink {
 public:
  explicit result_sink(std::string final_path);  // "" disables it
  void append(const point_result& r);            // one line to <final>.jsonl, flushed
  void finalize(const nlohmann::json& env, const nlohmann::json& config, const std::vector<point_result>& points);
  const std::string& jsonl_path() const { return m_jsonl_path; }

 private:
  std::string m_final;
  std::string m_jsonl_path;
  std::ofstream m_jsonl;
};

std::string jsonl_path_for(const std::string& final_path);  // results/x.json -> results/x.jsonl

// Writes content to path (its folder created) through path.tmp and a rename, so the file is either
// complete or absent: the results, the frontier and the trace JSON. Throws runtime_error naming the
// path, leaving no .tmp behind.
void write_file_atomically(const std::string& path, const std::string& content);

// A config error unless path can name an output file (not an existing folder, not ending in a
// separator) in a folder that exists or could be made (it is made): checked before a sweep, so that
// a bad --out fails at once, not after the run.
void require_output_file(const std::string& path, const std::string& flag);

}  // namespace sb
