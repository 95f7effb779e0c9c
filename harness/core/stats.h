// Summary statistics of timing samples. Every sample is kept; the summary is derived from them.
#pragma once
#include <vector>

namespace sb {

struct summary {
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0;  // stddev: sample (n-1) form
  std::vector<double> samples;
};

summary summarize(std::vector<double> samples);

}  // namespace sb
