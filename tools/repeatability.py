#!/usr/bin/env python3
"""Compares the per-point medians of two runs of the same config on the same GPU: prints each
point's relative difference and the share of points within the tolerance (default 3 %)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shardbench_tools.inputs import fail, guarded, load_json  # noqa: E402


def key(p):
    return (p["path"], p["variant"], p["backend"], p["dtype"], p["tp"], p["sp_ulysses"], p["sp_ring"], p["batch"],
            p["seq"], p["vocab"], p["hidden"], p["ttt"])


def ok_points(path):
    return {key(p): p for p in load_json(path, "repeatability", "shardbench.result/1", "points") if p["status"] == "ok"}


def main(a_path, b_path, tol=0.03):
    a, b = ok_points(a_path), ok_points(b_path)
    common = sorted(set(a) & set(b))
    within = 0
    for k in common:
        ma, mb = a[k]["time_us"]["median"], b[k]["time_us"]["median"]
        d = abs(mb - ma) / ma
        within += d <= tol
        print(f"{k[0] + '/' + k[1]:<20} seq {k[8]:>6} sp {k[5]}x{k[6]}  {ma:>10.1f} us {mb:>10.1f} us  {100 * d:5.2f} %")
    share = within / len(common) if common else 0.0
    print(f"repeatability: {within} of {len(common)} points within {100 * tol:.0f} % ({100 * share:.1f} %)")
    return 0 if share >= 0.9 else 1


def overhead(a_path, b_path):
    """Median of per-point (b - a) / a: the cost of what b adds (e.g. --cupti)."""
    a, b = ok_points(a_path), ok_points(b_path)
    d = sorted((b[k]["time_us"]["median"] - a[k]["time_us"]["median"]) / a[k]["time_us"]["median"] for k in set(a) & set(b))
    if d:
        print(f"overhead of the second run on the median time: median {100 * d[len(d) // 2]:.2f} %, "
              f"min {100 * d[0]:.2f} %, max {100 * d[-1]:.2f} % over {len(d)} points")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 and not (len(sys.argv) == 4 and sys.argv[1] == "--overhead"):
        fail("repeatability", "usage: tools/repeatability.py [--overhead] A.json B.json")
    if sys.argv[1] == "--overhead":
        sys.exit(guarded("repeatability", overhead, sys.argv[2], sys.argv[3]))
    sys.exit(guarded("repeatability", main, sys.argv[1], sys.argv[2]))
