#include "harness/report/results.h"

#include "harness/core/error.h"

namespace sb {

using nlohmann::json;

json to_json(const env_info& e) {
  return json{{"gpu", e.gpu},   {"gpu_count", e.gpu_count}, {"driver", e.driver},         {"cuda", e.cuda},
              {"nccl", e.nccl}, {"host", e.host},           {"git_sha", e.git_sha},       {"build_type", e.build_type},
              {"backend", e.backend}, {"started_at", e.started_at}, {"clocks", e.clocks}};
}

json to_json(const point_result& r) {
  const shape& s = r.pt.shp;
  json phases = json::object();
  for (const auto& [name, us] : r.phases_us) phases[name] = us;
  json j{{"path", std::string(to_string(r.pt.path))},
         {"variant", std::string(to_string(r.pt.variant))},
         {"backend", r.backend},
         {"timing", r.timing_domain},
         {"launch_gate", r.launch_gate},
         {"dtype", std::string(to_string(s.type))},
         {"tp", s.tp},
         {"sp_ulysses", s.sp_ulysses},
         {"sp_ring", s.sp_ring},
         {"batch", s.batch},
         {"seq", s.seq},
         {"vocab", s.vocab},
         {"vocab_pad", s.vocab_pad},
         {"vocab_padded", s.vocab_padded()},
         {"hidden", s.hidden},
         {"ttt", s.ttt},
         {"seed", s.seed},
         {"consumer", std::string(to_string(s.consumer))},
         {"draft_vocab", s.draft_vocab},
         {"t2d", std::string(to_string(s.t2d))},
         {"status", r.status},
         {"reason", r.reason},
         {"verified", r.verified},
         {"mismatches", r.mismatches},
         {"first_mismatch", r.first_mismatch},
         {"cross_checked_with_baseline", r.cross_checked},
         {"collective", std::string(to_string(r.collective))},
         {"bytes_sent_per_rank", r.bytes_sent},
         {"bytes_sent_all_ranks", r.bytes_sent_all_ranks},
         {"op_bytes", r.op_bytes},
         {"useful_bytes", r.useful_bytes},
         {"iters", r.iters},
         {"warmup", r.warmup},
         {"warmup_ms", r.warmup_ms},
         {"time_us",
          {{"median", r.time_us.median},
           {"min", r.time_us.min},
           {"max", r.time_us.max},
           {"mean", r.time_us.mean},
           {"stddev", r.time_us.stddev},
           {"samples", r.time_us.samples}}},
         {"phases_us", phases},
         {"algbw_gbps", r.algbw_gbps},
         {"busbw_gbps", r.busbw_gbps},
         {"effective_gbps", r.effective_gbps},
         {"memory",
          {{"predicted_peak_bytes", r.memory.predicted_peak},
           {"tracked_peak_bytes", r.memory.tracked_peak},
           {"device_peak_bytes", r.memory.device_peak},
           {"inputs_bytes", r.memory.inputs},
           {"tracked_over_predicted",
            r.memory.predicted_peak ? double(r.memory.tracked_peak) / double(r.memory.predicted_peak) : 0.0}}}};
  if (!r.kernels.empty()) {
    j["memory"]["cupti_alloc_peak_bytes"] = r.cupti_alloc_peak_bytes;
    for (const auto& k : r.kernels)
      j["kernels"].push_back({{"phase", k.phase}, {"name", k.name}, {"calls", k.calls}, {"total_us", k.total_us}});
  }
  return j;
}

point_result point_from_json(const json& j) {
  point_result r;
  r.pt.path = parse_path(j.at("path").get<std::string>());
  r.pt.variant = parse_variant(j.at("variant").get<std::string>());
  shape& s = r.pt.shp;
  s.type = parse_dtype(j.at("dtype").get<std::string>());
  s.tp = j.at("tp");
  s.sp_ulysses = j.at("sp_ulysses");
  s.sp_ring = j.at("sp_ring");
  s.batch = j.at("batch");
  s.seq = j.at("seq");
  s.vocab = j.at("vocab");
  s.vocab_pad = j.value("vocab_pad", std::int64_t(64));
  s.hidden = j.at("hidden");
  s.ttt = j.at("ttt");
  s.seed = j.value("seed", std::uint64_t(1));
  s.consumer = parse_consumer(j.value("consumer", "none"));
  s.draft_vocab = j.value("draft_vocab", std::int64_t(32000));
  s.t2d = parse_t2d(j.value("t2d", "uniform"));
  r.backend = j.at("backend");
  r.timing_domain = j.value("timing", "");
  r.launch_gate = j.value("launch_gate", "off");
  r.status = j.at("status");
  r.reason = j.value("reason", "");
  r.verified = j.at("verified");
  r.mismatches = j.at("mismatches");
  r.first_mismatch = j.value("first_mismatch", "");
  r.cross_checked = j.value("cross_checked_with_baseline", false);
  r.collective = j.value("collective", "all_gather") == "all_gather" ? collective_kind::all_gather : collective_kind::all_to_all;
  r.bytes_sent = j.at("bytes_sent_per_rank");
  r.bytes_sent_all_ranks = j.value("bytes_sent_all_ranks", std::size_t(0));
  r.op_bytes = j.at("op_bytes");
  r.useful_bytes = j.value("useful_bytes", std::size_t(0));
  r.iters = j.value("iters", 0);
  r.warmup = j.value("warmup", 0);
  r.warmup_ms = j.value("warmup_ms", 0.0);
  const json& t = j.at("time_us");
  r.time_us.median = t.at("median");
  r.time_us.min = t.at("min");
  r.time_us.max = t.at("max");
  r.time_us.mean = t.at("mean");
  r.time_us.stddev = t.at("stddev");
  r.time_us.samples = t.at("samples").get<std::vector<double>>();
  for (const auto& [k, v] : j.at("phases_us").items()) r.phases_us.emplace_back(k, v.get<double>());
  r.algbw_gbps = j.at("algbw_gbps");
  r.busbw_gbps = j.at("busbw_gbps");
  r.effective_gbps = j.value("effective_gbps", 0.0);
  const json& m = j.at("memory");
  r.memory = {m.at("predicted_peak_bytes"), m.at("tracked_peak_bytes"), m.at("device_peak_bytes"),
              m.value("inputs_bytes", std::size_t(0))};
  r.cupti_alloc_peak_bytes = m.value("cupti_alloc_peak_bytes", std::size_t(0));
  if (j.contains("kernels"))
    for (const auto& k : j.at("kernels"))
      r.kernels.push_back({k.at("phase"), k.at("name"), k.at("calls"), k.at("total_us")});
  return r;
}

result_sink::result_sink(const std::string& final_path, const std::vector<std::string>& inputs) {
  if (!final_path.empty()) m_files = std::make_unique<results_files>(final_path, inputs);
}

void result_sink::append(const point_result& r) {
  if (m_files) m_files->append_line(to_json(r).dump());
}

void result_sink::finalize(const json& env, const json& config, const std::vector<point_result>& points, const json& extra) {
  if (!m_files) return;
  json doc{{"schema", kResultSchema}, {"env", env}, {"config", config}, {"points", json::array()}};
  for (const auto& p : points) doc["points"].push_back(to_json(p));
  doc.update(extra);
  write_file_atomically(m_files->final_path(), doc.dump(1) + '\n');
}

}  // namespace sb
