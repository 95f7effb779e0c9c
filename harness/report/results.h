// Results JSON, schema `shardbench.result/1` (results/README.md). Points are appended to a .jsonl
// beside the final file as they finish (a crash loses only the point in flight); the final file is
// written to a temporary name and renamed, so it is either complete or absent.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "harness/core/env_info.h"
#include "harness/report/output_file.h"
#include "harness/core/point.h"
#include "harness/report/printer.h"

namespace sb {

inline constexpr const char* kResultSchema = "shardbench.result/1";

nlohmann::json to_json(const point_result& r);
point_result point_from_json(const nlohmann::json& j);  // the inverse, for tools and tests
// A results file's points: config_error (exit 2) for a file that is unreadable, not JSON, not a
// shardbench.result/1 file, or whose point lacks a field (one line naming the point).
std::vector<point_result> load_results(const std::string& file);
// `plan --json`: one point's plan, or the rule it breaks.
nlohmann::json to_json(const plan_row& row);
// `frontier --out`: schema shardbench.frontier/1.
nlohmann::json frontier_json(const env_info& env, std::size_t budget_bytes, std::size_t reserve_bytes, std::int64_t seq_step,
                             std::int64_t max_seq, const std::vector<frontier_result>& rows);
nlohmann::json to_json(const env_info& e);

// The run's results: each point as it finishes to the .jsonl, then the final file (docs/cli.md).
class result_sink {
 public:
  // "" disables it; else the files are checked and taken (results_files: config_error, exit 2).
  result_sink(const std::string& final_path, const std::vector<std::string>& inputs);
  void append(const point_result& r);  // one line to <final>.jsonl
  // The final file; `extra` members are added at the top level (an interrupted run says so).
  void finalize(const nlohmann::json& env, const nlohmann::json& config, const std::vector<point_result>& points,
                const nlohmann::json& extra = nlohmann::json::object());
  std::string jsonl_path() const { return m_files ? m_files->jsonl_path() : std::string(); }

 private:
  std::unique_ptr<results_files> m_files;
};

}  // namespace sb
