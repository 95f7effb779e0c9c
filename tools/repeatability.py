#!/usr/bin/env python3
"""Compares the per-point medians of two runs of the same config on the same GPU: prints each
point's relative difference and the share of points within the tolerance (default 3 %).

--overhead A B: the median cost of what B adds (e.g. --cupti).
--gated A B: B is A's config run with --gate. Every point of B must say it was gated and every point
of A that it was not; prints each point's median ratio B/A and both runs' spread (max / median of
the samples), and fails when more than a tenth of the points are slower gated by more than the
tolerance (a gate only takes the host's launch latency out; it should never cost time)."""
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


def spread(p):
    s = p["time_us"]
    return s["max"] / s["median"] - 1 if s["median"] > 0 else float("nan")


def gate_of(p):
    return p.get("launch_gate", "off")  # files from before --gate existed were not gated


def gated(a_path, b_path, tol=0.03):
    a, b = ok_points(a_path), ok_points(b_path)
    common = sorted(set(a) & set(b))
    if not common:
        fail("repeatability", f"{a_path} and {b_path} have no ok point in common")
    wrong = [f"{k[0]}/{k[1]} seq {k[8]}: A {gate_of(a[k])}, B {gate_of(b[k])}"
             for k in common if gate_of(a[k]) != "off" or gate_of(b[k]) == "off"]
    slower, ratios, kinds = 0, [], {}
    for k in common:
        ma, mb = a[k]["time_us"]["median"], b[k]["time_us"]["median"]
        r = mb / ma
        ratios.append(r)
        slower += r > 1 + tol
        g = gate_of(b[k])
        kinds[g] = kinds.get(g, 0) + 1
        print(f"{k[0] + '/' + k[1]:<20} seq {k[8]:>6} sp {k[5]}x{k[6]}  {ma:>10.1f} us {mb:>10.1f} us  B/A {r:6.3f}  "
              f"spread {100 * spread(a[k]):6.2f} % -> {100 * spread(b[k]):6.2f} %  ({g})")
    ratios.sort()
    sa = sorted(spread(a[k]) for k in common)
    sb = sorted(spread(b[k]) for k in common)
    print(f"gated/ungated median time: median {ratios[len(ratios) // 2]:.3f}, min {ratios[0]:.3f}, max {ratios[-1]:.3f} "
          f"over {len(common)} points; median spread {100 * sa[len(sa) // 2]:.2f} % -> {100 * sb[len(sb) // 2]:.2f} %; "
          + ", ".join(f"{n} {g}" for g, n in sorted(kinds.items())))
    for w in wrong:
        print(f"not gated as asked: {w}")
    if wrong:
        print(f"gated run: {len(wrong)} of {len(common)} points not gated as asked")
        return 1
    print(f"gated run: {slower} of {len(common)} points slower by more than {100 * tol:.0f} %")
    return 0 if slower <= 0.1 * len(common) else 1


if __name__ == "__main__":
    modes = {"--overhead": overhead, "--gated": gated}
    if len(sys.argv) != 3 and not (len(sys.argv) == 4 and sys.argv[1] in modes):
        fail("repeatability", "usage: tools/repeatability.py [--overhead | --gated] A.json B.json")
    if sys.argv[1] in modes:
        sys.exit(guarded("repeatability", modes[sys.argv[1]], sys.argv[2], sys.argv[3]))
    sys.exit(guarded("repeatability", main, sys.argv[1], sys.argv[2]))
