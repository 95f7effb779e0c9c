#include "bench/planner.h"

#include <fmt/format.h>

#include <algorithm>

#include "bench/traffic.h"

namespace sb {

// The same phase name moves different sizes in different paths (and kernels reach different rates
// at different sizes): rates are kept per path/variant and phase first, per phase name second.
std::string rate_key(const point& pt, const std::string& phase) {
  return fmt::format("{}/{}:{}", to_string(pt.path), to_string(pt.variant), phase);
}

calibration calibrate(const std::vector<point_result>& measured, const std::string& hold_out) {
  calibration c;
  std::map<std::string, std::pair<double, double>> local;  // phase -> (bytes, us)
  double link_bytes = 0, link_us = 0;
  std::vector<std::string> link_points;
  for (const auto& r : measured) {
    if (r.status != "ok") continue;
    const std::string label = r.pt.label();
    if (!hold_out.empty() && label.find(hold_out) != std::string::npos) continue;
    const auto traffic = path_traffic(r.pt);
    bool used = false;
    for (const auto& [phase, us] : r.phases_us) {
      auto it = traffic.find(phase);
      if (it == traffic.end() || us <= 0) continue;
      if (!it->second.collective) {  // a purely local phase: its HBM rate, per path/variant and pooled by name
        for (const std::string& k : {rate_key(r.pt, phase), phase}) {
          local[k].first += it->second.local_bytes;
          local[k].second += us;
        }
        used = true;
      } else if (r.backend == "nccl" && r.pt.shp.tp > 1 && it->second.link_bytes > 0) {
        link_bytes += it->second.link_bytes;
        link_us += us;
        link_points.push_back(label);
      }
    }
    if (used) c.local_sources.push_back(label);
  }
  double all_bytes = 0, all_us = 0;
  for (const auto& [k, bu] : local) {
    c.local_gbps[k] = bu.first / (bu.second * 1e-6) / 1e9;
    if (k.find(':') != std::string::npos) continue;  // pooled once, by phase name
    all_bytes += bu.first;
    all_us += bu.second;
  }
  if (all_us > 0) c.pooled_local_gbps = all_bytes / (all_us * 1e-6) / 1e9;
  if (link_us > 0) {
    c.link_gbps = link_bytes / (link_us * 1e-6) / 1e9;
    c.link_source = fmt::format("comm phases of {} nccl points", link_points.size());
  }
  return c;
}

prediction predict(const point& pt, const calibration& c) {
  prediction p;
  std::vector<std::string> used;
  for (const auto& [phase, t] : path_traffic(pt)) {
    double us = 0;
    if (t.local_bytes > 0) {
      // A collective phase's own-chunk copy runs at the pooled rate: its measured time is the link's.
      auto it = c.local_gbps.end();
      if (!t.collective) {
        it = c.local_gbps.find(rate_key(pt, phase));
        if (it == c.local_gbps.end()) it = c.local_gbps.find(phase);
      }
      const double gbps = it != c.local_gbps.end() ? it->second : c.pooled_local_gbps;
      if (gbps <= 0) {
        p.complete = false;
      } else {
        const double l = t.local_bytes / (gbps * 1e9) * 1e6;
        us += l;
        p.local_us += l;
        used.push_back(fmt::format("{} at {:.0f} GB/s ({})", phase, gbps, it != c.local_gbps.end() ? it->first : "pooled"));
      }
    }
    if (t.link_bytes > 0) {
      if (c.link_gbps <= 0) {
        p.complete = false;
      } else {
        // Ranks beyond one node reach (P - G) of their P - 1 peers over the slower inter-node links.
        const int P = pt.shp.tp, G = std::max(1, c.gpus_per_node);
        double l = t.link_bytes / (c.link_gbps * 1e9) * 1e6;
        if (P > G && c.inter_node_gbps > 0) {
          const double inter = t.link_bytes * double(P - G) / double(P - 1);
          l = std::max((t.link_bytes - inter) / (c.link_gbps * 1e9), inter / (c.inter_node_gbps * 1e9)) * 1e6;
        }
        us += l;
        p.link_us += l;
        used.push_back(fmt::format("{} links at {:.0f} GB/s", phase, c.link_gbps));
      }
    }
    p.phases_us[phase] = us;
    p.total_us += us;
  }
  p.rests_on = fmt::format("{}; local rates from {} measured points{}", fmt::join(used, ", "), c.local_sources.size(),
                           c.link_source.empty() ? "" : "; links from " + c.link_source);
  return p;
}

}  // namespace sb
