// Console output: a fixed-width table of results and a plan table. Printers only format; they never
// measure (nvbench's split between summaries and printers).
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "harness/core/point.h"

namespace sb {

std::string human_bytes(double bytes);  // "16.9 GB" (decimal units, as SEMANTICS.md quotes them)

void print_results_table(std::ostream& os, const std::vector<point_result>& results);
// Per point, GPU time per phase and its largest kernels (from --cupti).
void print_kernel_breakdown(std::ostream& os, const std::vector<point_result>& results, int top = 4);
void print_summary_line(std::ostream& os, const std::vector<point_result>& results);

struct plan_row {
  point pt;
  point_plan plan;
  std::string invalid_reason;  // non-empty: the point is not valid
};
void print_plan_table(std::ostream& os, const std::vector<plan_row>& rows);

}  // namespace sb
