#include "harness/report/results.h"

#include <fmt/format.h>

#include "harness/core/error.h"
#include "harness/report/config.h"

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

std::vector<point_result> load_results(const std::string& file) {
  const std::string text = read_text_file(file, "results");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw_config(fmt::format("{}: not JSON: {}", file, e.what()));
  }
  if (!doc.is_object() || doc.value("schema", "") != kResultSchema)
    throw_config(fmt::format("{}: not a {} file", file, kResultSchema));
  const auto points = doc.find("points");
  if (points == doc.end() || !points->is_array()) throw_config(fmt::format("{}: has no 'points' list", file));
  std::vector<point_result> pts;
  for (std::size_t n = 0; n < points->size(); ++n) {
    // A file cut short or edited by hand: one line naming the point, not the JSON library's words.
    try {
      pts.push_back(point_from_json((*points)[n]));
    } catch (const json::exception& e) {
      const std::string_view what = e.what();  // "[json.exception.out_of_range.403] key 'path' not found"
      const std::size_t close = what.find("] ");
      throw_config(fmt::format("{}: point {}: {}", file, n, close == std::string_view::npos ? what : what.substr(close + 2)));
    } catch (const config_error& e) {
      throw_config(fmt::format("{}: point {}: {}", file, n, e.what()));
    }
  }
  return pts;
}


nlohmann::json to_json(const plan_row& row) {
  const point& p = row.pt;
  json j{{"path", std::string(to_string(p.path))}, {"variant", std::string(to_string(p.variant))},
         {"shape", p.shp.label()},  {"tp", p.shp.tp}, {"sp_ulysses", p.shp.sp_ulysses},
         {"sp_ring", p.shp.sp_ring}, {"batch", p.shp.batch}, {"seq", p.shp.seq},
         {"vocab", p.shp.vocab}, {"vocab_padded", p.shp.vocab_padded()}, {"hidden", p.shp.hidden},
         {"ttt", p.shp.ttt}, {"dtype", std::string(to_string(p.shp.type))}};
  if (p.shp.has_consumer())
    j.update({{"consumer", std::string(to_string(p.shp.consumer))}, {"draft_vocab", p.shp.draft_vocab},
              {"t2d", std::string(to_string(p.shp.t2d))}});
  if (!row.invalid_reason.empty()) {
    j["invalid"] = row.invalid_reason;
    return j;
  }
  j["collective"] = std::string(to_string(row.plan.collective));
  j["bytes_sent_per_rank"] = row.plan.bytes_sent;
  j["op_bytes"] = row.plan.op_bytes;
  j["useful_bytes"] = row.plan.useful_bytes;
  j["predicted_peak_bytes"] = row.plan.peak_bytes;
  j["steps"] = row.plan.steps;
  for (const auto& b : row.plan.buffers)
    j["buffers"].push_back({{"name", b.name}, {"dtype", std::string(to_string(b.type))}, {"dims", b.dims},
                            {"bytes", b.bytes()}, {"first_step", b.first_step}, {"last_step", b.last_step},
                            {"input", b.is_input()}});
  return j;
}

json frontier_json(const env_info& env, std::size_t budget_bytes, std::size_t reserve_bytes, std::int64_t seq_step,
                   std::int64_t max_seq, const std::vector<frontier_result>& rows) {
  json j{{"schema", "shardbench.frontier/1"}, {"env", to_json(env)}, {"budget_bytes", budget_bytes},
         {"reserve_bytes", reserve_bytes}, {"seq_step", seq_step}, {"max_seq", max_seq}, {"frontier", json::array()}};
  for (const auto& r : rows) {
    json t = json::array();
    for (const auto& tr : r.trials) t.push_back({{"seq", tr.seq}, {"status", tr.status}, {"tracked_peak_bytes", tr.tracked_peak}});
    j["frontier"].push_back({{"path", std::string(to_string(r.pt.path))}, {"variant", std::string(to_string(r.pt.variant))},
                             {"tp", r.pt.shp.tp}, {"sp_ulysses", r.pt.shp.sp_ulysses}, {"sp_ring", r.pt.shp.sp_ring},
                             {"batch", r.pt.shp.batch}, {"vocab", r.pt.shp.vocab}, {"hidden", r.pt.shp.hidden},
                             {"dtype", std::string(to_string(r.pt.shp.type))}, {"measured_seq", r.measured_seq},
                             {"predicted_seq", r.predicted_seq}, {"capped_at_max_seq", r.capped}, {"trials", t}});
  }
  return j;
}

}  // namespace sb
