// The collective alone, at a point's op_bytes (bench --collectives): nccl-tests' measurement.
#include <fmt/format.h>

#include "bench/engine.h"
#include "bench/stages.h"
#include "harness/core/error.h"

namespace sb {

std::vector<double> time_raw_collective(world& w, collective_kind k, std::size_t op_bytes, const engine_options& o) {
  if (o.world.backend == backend_kind::local)
    throw_config("raw collectives need every rank real: the nccl backend (or cpu, host threads)");
  const int P = w.size();
  const std::size_t chunk_bytes = op_bytes / std::size_t(P);  // per rank (gather) or per peer (all-to-all)
  std::vector<double> samples;
  std::string oom;  // rank 0's account when a rank could not allocate
  w.run([&](rank_backend& c) {
    std::unique_ptr<buffer> send, recv;
    std::string mine;
    try {
      send = c.allocate(k == collective_kind::all_gather ? chunk_bytes : chunk_bytes * std::size_t(P));
      recv = c.allocate(chunk_bytes * std::size_t(P));
    } catch (const oom_error& e) {
      mine = e.what();
    }
    if (c.sum_over_ranks(mine.empty() ? 0 : 1) > 0) {  // every rank stops, or the others would wait in the collective
      if (c.rank() == 0) oom = mine.empty() ? "another rank ran out of memory" : mine;
      return;
    }
    c.zero(send->data(), send->bytes());
    a2a_args a{send->data(), recv->data(), {}, {}, a2a_impl::collective};
    for (int q = 0; q < P; ++q) {
      a.send_chunks.push_back({std::size_t(q) * chunk_bytes, chunk_bytes});
      a.recv_chunks.push_back({std::size_t(q) * chunk_bytes, chunk_bytes});
    }
    const peer_model no_peers = [](int) -> peer_contribution { throw_runtime("a raw collective has no emulated peers"); };
    auto op = [&] {
      c.phase_begin("collective");
      if (k == collective_kind::all_gather) c.all_gather(send->data(), recv->data(), chunk_bytes, no_peers);
      else c.all_to_all(a, no_peers);
      c.phase_end();
    };
    warm_up(c, o, [&](int) {
      c.iteration_begin(iteration_kind::warmup);
      op();
      return c.iteration_end().total_us;
    });
    std::vector<double> times;
    for (int i = 0; i < o.iters; ++i) {
      c.barrier();
      c.iteration_begin(iteration_kind::timed);
      op();
      times.push_back(c.max_over_ranks(c.iteration_end().total_us));
    }
    if (c.rank() == 0) samples = std::move(times);
  });
  if (!oom.empty()) throw oom_error(oom);
  return samples;
}

}  // namespace sb
