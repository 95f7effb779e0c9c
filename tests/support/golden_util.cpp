#include "tests/support/golden_util.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <optional>

#include "bench/engine.h"
#include "harness/report/npy.h"

namespace sb::golden {

void PrintTo(const golden_case& c, std::ostream* os) { *os << c.name; }

namespace {
const std::string kGolden = std::string(SB_TEST_DATA_DIR) + "/golden";

}  // namespace

std::vector<golden_case> load_cases() {
  std::ifstream f(kGolden + "/cases.json");
  nlohmann::json j = nlohmann::json::parse(f);
  std::vector<golden_case> out;
  for (const auto& c : j) {
    golden_case g;
    g.name = c["name"];
    g.path = c["path"];
    g.shp.tp = c["tp"];
    g.shp.batch = c["batch"];
    g.shp.seq = c["seq"];
    g.shp.vocab = c["vocab"];
    g.shp.vocab_pad = c["vocab_pad"];
    g.shp.sp_ulysses = c["sp_ulysses"];
    g.shp.sp_ring = c["sp_ring"];
    g.shp.ttt = c["ttt"];
    g.shp.hidden = 4;  // the cases' hidden states are [B·S, 12] = 3H
    out.push_back(g);
  }
  return out;
}

namespace {

// A float32 array converted to a buffer of dtype t (exact: the cases' values fit every dtype).
std::vector<char> convert(const npy_array& a, dtype t) {
  const float* src = reinterpret_cast<const float*>(a.data.data());
  std::vector<char> out(std::size_t(a.elements()) * dtype_size(t));
  for (std::int64_t i = 0; i < a.elements(); ++i) store_from_float(out.data(), i, t, src[i]);
  return out;
}

// Compares a buffer of dtype t with a golden array element by element (as doubles, exactly).
void expect_equal(const std::vector<char>& got, dtype t, const npy_array& want, const std::string& what) {
  ASSERT_EQ(std::int64_t(got.size() / dtype_size(t)), want.elements()) << what;
  for (std::int64_t i = 0; i < want.elements(); ++i) {
    double w = want.descr == "<i8" ? double(reinterpret_cast<const std::int64_t*>(want.data.data())[i])
                                   : double(reinterpret_cast<const float*>(want.data.data())[i]);
    double g = load_as_double(got.data(), i, t);
    ASSERT_EQ(g, w) << what << " differs at flat index " << i;
  }
}

}  // namespace

void check_case(const golden_case& gc, backend_kind backend) {
  const std::string dir = kGolden + "/" + gc.name;
  for (dtype t : {dtype::bf16, dtype::fp16, dtype::fp32}) {
    engine_options o;
    o.iters = 1;
    o.warmup = 1;
    o.world.backend = backend;
    o.verify_definition = false;  // the inputs are the cases', not the generator's
    o.keep_outputs = true;
    o.input_override = [&](int rank, const std::string& name) -> std::optional<std::vector<char>> {
      if (name == "input") return convert(read_npy(fmt::format("{}/input_r{}.npy", dir, rank)), t);
      if (name == "hidden_global") return convert(read_npy(dir + "/hidden_global.npy"), dtype::bf16);
      return std::nullopt;
    };
    for (variant_kind v : {variant_kind::specforge, variant_kind::fused}) {
      shape s = gc.shp;
      s.type = t;
      shape flat = s;
      flat.sp_ulysses = flat.sp_ring = 1;
      std::vector<std::pair<path_kind, shape>> runs{{path_kind::baseline, flat}};
      runs.emplace_back(parse_path(gc.path), gc.path == "usp" ? s : flat);
      for (const auto& [p, shp] : runs) {
        point_outcome out = run_point({p, v, shp}, o);
        ASSERT_EQ(out.result.status, "ok") << out.result.reason;
        const std::string tag = fmt::format("{} {}/{} {}", gc.name, to_string(p), to_string(v), to_string(t));
        for (int r = 0; r < s.tp; ++r) {
          const rank_buffers& b = out.outputs[std::size_t(r)];
          expect_equal(b.at("output"), dtype::fp32, read_npy(fmt::format("{}/{}_r{}.npy", dir, to_string(p), r)),
                       tag + fmt::format(" rank {} output", r));
          if (p != path_kind::usp) continue;
          expect_equal(b.at("hidden"), dtype::bf16, read_npy(fmt::format("{}/usp_hidden_r{}.npy", dir, r)),
                       tag + fmt::format(" rank {} hidden", r));
          expect_equal(b.at("position_ids"), dtype::i64, read_npy(fmt::format("{}/usp_position_ids_r{}.npy", dir, r)),
                       tag + fmt::format(" rank {} position_ids", r));
        }
      }
    }
  }
}


}  // namespace sb::golden
