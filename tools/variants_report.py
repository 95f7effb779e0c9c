#!/usr/bin/env python3
"""The variants compared, from shardbench result files (DeepSeek-V3 32K tp8, one rank
at full size) and a `bench --kernels` output:

  variants_report.py VARIANTS.json CONSUMER.json [KERNELS.json]

Prints, per sp layout: usp fused vs specforge bytes and time (fused should send 2·B = 2·P/sp times
fewer bytes), peer_pull's tracked peak against its inputs + outputs, pruned's bytes against fused
and specforge for each draft vocabulary, and the fused usp local work (unpack + align) against the
time its bytes take at the D2D copy rate of the same run. Exits 1 when a checked bound fails."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shardbench_tools.inputs import fail, guarded, load_json  # noqa: E402


def load(path):
    return [p for p in load_json(path, "variants_report", "shardbench.result/1", "points") if p["status"] != "skipped"]


def key(p):
    return (p["path"], p["variant"], p["sp_ulysses"], p["sp_ring"], p["batch"], p.get("t2d", "uniform"))


def gb(b):
    return f"{b / 1e9:.3f} GB"


def find(pts, path, variant, sp, batch, t2d="uniform"):
    for p in pts:
        if key(p) == (path, variant, sp, 1, batch, t2d):
            return p
    return None


def main(argv):
    plain, consumer = load(argv[1]), load(argv[2])
    kernels = load_json(argv[3], "variants_report", member="benchmarks") if len(argv) > 3 else []
    ok = True
    tp = plain[0]["tp"]
    print(f"DeepSeek-V3 seq {plain[0]['seq']} tp {tp} {plain[0]['dtype']}, backend {plain[0]['backend']}")
    print("\n== usp: fused vs specforge (bytes sent per rank, median time, tracked peak)")
    for sp in (8, 4, 2):
        b = tp // sp
        sf, fu = find(plain, "usp", "specforge", sp, b), find(plain, "usp", "fused", sp, b)
        if not sf or not fu:
            continue
        ratio = sf["bytes_sent_per_rank"] / fu["bytes_sent_per_rank"]
        line = (f"  sp={sp} (B={b}): specforge {gb(sf['bytes_sent_per_rank'])} [{sf['status']}], fused "
                f"{gb(fu['bytes_sent_per_rank'])} [{fu['status']}]: {ratio:.4f}x fewer bytes (2·P/sp = {2 * b})")
        ok &= abs(ratio / (2 * b) - 1) < 0.01 and fu["status"] == "ok"
        print(line)
        if sf["status"] == "ok" and fu["status"] == "ok":
            print(f"      time specforge {sf['time_us']['median'] / 1e3:.2f} ms, fused {fu['time_us']['median'] / 1e3:.2f} ms "
                  f"({sf['time_us']['median'] / fu['time_us']['median']:.2f}x); peak {gb(sf['memory']['tracked_peak_bytes'])} vs "
                  f"{gb(fu['memory']['tracked_peak_bytes'])}")
        else:
            print(f"      specforge: {sf['status']} {sf.get('reason', '')[:100]}; fused peak {gb(fu['memory']['tracked_peak_bytes'])}"
                  f" (plan for specforge: {gb(sf['memory']['predicted_peak_bytes'])})")

    print("\n== peer_pull: tracked peak vs inputs + outputs (its plan holds nothing else)")
    for p in plain:
        if p["variant"] != "peer_pull" or p["status"] != "ok":
            continue
        m = p["memory"]
        r = m["tracked_peak_bytes"] / m["predicted_peak_bytes"]
        ok &= r <= 1.05
        fu = find(plain, p["path"], "fused", p["sp_ulysses"], p["batch"])
        extra = ""
        if fu and fu["status"] == "ok":
            extra = (f"; fused peak {gb(fu['memory']['tracked_peak_bytes'])}, time peer_pull "
                     f"{p['time_us']['median'] / 1e3:.2f} ms vs fused {fu['time_us']['median'] / 1e3:.2f} ms")
        print(f"  {p['path']} sp={p['sp_ulysses']} B={p['batch']}: tracked {gb(m['tracked_peak_bytes'])} / in+out "
              f"{gb(m['predicted_peak_bytes'])} = {r:.4f}{extra}")

    print("\n== pruned vs fused and specforge (consumer stage on: target_p over Vd columns + position_mask)")
    for p in consumer:
        if p["variant"] != "pruned":
            continue
        fu = find(consumer, p["path"], "fused", p["sp_ulysses"], p["batch"], p["t2d"])
        sf = find(consumer, p["path"], "specforge", p["sp_ulysses"], p["batch"], p["t2d"])
        if not fu:
            continue
        r = fu["bytes_sent_per_rank"] / p["bytes_sent_per_rank"]
        r_all = fu["bytes_sent_all_ranks"] / p["bytes_sent_all_ranks"]
        # Uniform draft vocabularies: every rank sends >= 3x fewer bytes. Skewed ones load rank 0, so
        # the bound holds for the bytes of all ranks together, not for the busiest rank.
        ok &= (r if p["t2d"] == "uniform" else r_all) >= 3.0 and p["status"] == "ok"
        line = (f"  {p['path']} sp={p['sp_ulysses']} B={p['batch']} t2d={p['t2d']}: busiest rank sends pruned "
                f"{gb(p['bytes_sent_per_rank'])} vs fused {gb(fu['bytes_sent_per_rank'])} ({r:.2f}x fewer); all ranks "
                f"{gb(p['bytes_sent_all_ranks'])} vs {gb(fu['bytes_sent_all_ranks'])} ({r_all:.2f}x)")
        if sf:
            line += f", specforge {gb(sf['bytes_sent_per_rank'])} ({sf['bytes_sent_per_rank'] / p['bytes_sent_per_rank']:.2f}x)"
        print(line)
        if p["status"] == "ok" and fu["status"] == "ok":
            t = f"      time pruned {p['time_us']['median'] / 1e3:.2f} ms, fused {fu['time_us']['median'] / 1e3:.2f} ms"
            if sf and sf["status"] == "ok":
                t += f", specforge {sf['time_us']['median'] / 1e3:.2f} ms"
            t += (f"; peak pruned {gb(p['memory']['tracked_peak_bytes'])}, fused {gb(fu['memory']['tracked_peak_bytes'])}")
            print(t)
            print(f"      phases pruned {fmt_phases(p)}; fused {fmt_phases(fu)}")

    if kernels:
        print("\n== fused usp local work (unpack + align) vs the D2D copy time of its bytes, same run")
        for sp in ("8x1", "4x2"):
            for dt in ("bf16", "fp32"):
                rows = [k for k in kernels if not k.get("error_occurred") and k["name"].startswith("kernel/usp/fused/")
                        and f"/{dt}/seq:32768/sp:{sp}" in k["name"]]
                if not rows:
                    continue
                kernel_s = sum(k["bytes"] / k["kernel_GBps"] for k in rows) / 1e9
                copy_s = sum(k["bytes"] / k["d2d_GBps"] for k in rows) / 1e9
                r = kernel_s / copy_s
                if sp == "8x1":
                    ok &= r <= 1.25
                names = ", ".join(k["name"].split("/")[3] for k in rows)
                print(f"  sp {sp} {dt}: {names}: {r:.3f}x the copy time (bound 1.25)")
    print("\nvariants check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def fmt_phases(p):
    return " ".join(f"{n}={v / 1e3:.2f}" for n, v in p["phases_us"].items()) + " ms"


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        fail("variants_report", "usage: tools/variants_report.py VARIANTS.json CONSUMER.json [KERNELS.json]")
    sys.exit(guarded("variants_report", main, sys.argv))
