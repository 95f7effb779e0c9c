#!/usr/bin/env python3
"""Prints, per point of a shardbench results file, the tracked per-rank peak next to plan's
prediction and their ratio, and checks the bounds gpu-check asserts (ratio within 5 %, baseline
peak at least 4x the fused usp peak)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shardbench_tools.inputs import fail, guarded, load_json  # noqa: E402


def main(path):
    pts = [p for p in load_json(path, "peak_report", "shardbench.result/1", "points") if p["status"] != "skipped"]
    print(f"{'path/variant':<20} {'status':<8} {'median_us':>12} {'predicted':>12} {'tracked':>12} {'device':>12} {'ratio':>7}")
    ok = True
    for p in pts:
        m = p["memory"]
        pred, trk = m["predicted_peak_bytes"], m["tracked_peak_bytes"]
        ratio = trk / pred if pred else float("nan")
        within = 1.0 <= ratio <= 1.05
        ok &= within and p["status"] == "ok"
        print(f"{p['path'] + '/' + p['variant']:<20} {p['status']:<8} {p['time_us']['median']:>12.1f} "
              f"{pred / 1e9:>10.3f}GB {trk / 1e9:>10.3f}GB {m['device_peak_bytes'] / 1e9:>10.3f}GB {ratio:>7.4f}"
              f"{'' if within else '  OUT OF BOUNDS'}")
    peak = {(p["path"], p["variant"]): p["memory"]["tracked_peak_bytes"] for p in pts}
    if ("baseline", "fused") in peak and ("usp", "fused") in peak:
        r = peak[("baseline", "fused")] / peak[("usp", "fused")]
        print(f"baseline/fused peak / usp/fused peak = {r:.2f} (must be >= 4)")
        ok &= r >= 4
    print("peak check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("peak_report", "usage: tools/peak_report.py RESULTS.json")
    sys.exit(guarded("peak_report", main, sys.argv[1]))
