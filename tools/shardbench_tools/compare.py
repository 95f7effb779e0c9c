"""A/B comparison of two shardbench result files, and the regression gate.

Points are matched by (path, variant, backend, dtype, shape). For each: the ratio of medians
(B/A), a two-sided Mann-Whitney U test on the kept samples, and a verdict: `faster`/`slower` when
the difference is significant (p < alpha) and larger than the noise threshold, else `same`. Memory
growth and verification changes are flagged, as is a point timed with another launch gate (`--gate`)
in B than in A. Points only in one file are listed.

The gate fails (exit 1) when a point is slower than --max-slowdown with significance, uses more
memory than --max-memory-growth, or stopped verifying (or went missing from B)."""
import argparse
import sys

from .inputs import check_result, read_json
from .stats import mann_whitney_u, median

SHAPE_KEYS = ("path", "variant", "backend", "dtype", "tp", "sp_ulysses", "sp_ring", "batch", "seq", "vocab",
              "vocab_pad", "hidden", "ttt")


def load(path):
    """A result file; ValueError (exit 2 in main) when it is not one. Exit 1 is the gate's alone."""
    return check_result(read_json(path), path)


def key(p):
    return tuple(p.get(k) for k in SHAPE_KEYS)


def label(k):
    d = dict(zip(SHAPE_KEYS, k))
    return (f"{d['path']}/{d['variant']} {d['backend']} {d['dtype']} tp{d['tp']} sp{d['sp_ulysses']}x{d['sp_ring']} "
            f"b{d['batch']} s{d['seq']} v{d['vocab']}")


def compare(a_doc, b_doc, alpha=0.05, noise=0.01, max_slowdown=0.05, max_memory_growth=0.0):
    a = {key(p): p for p in a_doc["points"] if p["status"] != "skipped"}
    b = {key(p): p for p in b_doc["points"] if p["status"] != "skipped"}
    rows, failures = [], []
    for k in sorted(set(a) & set(b), key=str):
        pa, pb = a[k], b[k]
        row = {"point": label(k), "status_a": pa["status"], "status_b": pb["status"], "flags": []}
        gate_a, gate_b = pa.get("launch_gate", "off"), pb.get("launch_gate", "off")
        if gate_a != gate_b:  # --gate leaves the host's launch latency out: the times differ by design
            row["flags"].append(f"launch gate {gate_a} -> {gate_b}")
        if pa["status"] == "ok" and pb["status"] == "ok":
            sa, sb = pa["time_us"]["samples"], pb["time_us"]["samples"]
            ma, mb = median(sa), median(sb)
            ratio = mb / ma if ma > 0 else float("nan")
            _, p = mann_whitney_u(sa, sb)
            significant = p < alpha
            if significant and ratio > 1 + noise:
                verdict = "slower"
            elif significant and ratio < 1 - noise:
                verdict = "faster"
            else:
                verdict = "same"
            row.update(median_a=ma, median_b=mb, ratio=ratio, p=p, verdict=verdict)
            if verdict == "slower" and ratio > 1 + max_slowdown:
                failures.append(f"{row['point']}: {100 * (ratio - 1):.1f}% slower (p={p:.3g})")
            mem_a = pa["memory"]["tracked_peak_bytes"]
            mem_b = pb["memory"]["tracked_peak_bytes"]
            row.update(mem_a=mem_a, mem_b=mem_b)
            if mem_b > mem_a * (1 + max_memory_growth):
                row["flags"].append("more memory")
                failures.append(f"{row['point']}: tracked peak {mem_a} -> {mem_b} bytes")
        else:
            row.update(verdict="-")
        if pa.get("verified") and not pb.get("verified"):
            row["flags"].append("stopped verifying")
            failures.append(f"{row['point']}: stopped verifying ({pb['status']}: {pb.get('reason', '')})")
        if pb.get("verified") and not pa.get("verified"):
            row["flags"].append("now verifies")
        rows.append(row)
    only_a = [label(k) for k in sorted(set(a) - set(b), key=str)]
    only_b = [label(k) for k in sorted(set(b) - set(a), key=str)]
    for p in only_a:
        failures.append(f"{p}: missing from B")
    return rows, only_a, only_b, failures


def render(rows, only_a, only_b, failures, markdown):
    out = []
    if markdown:
        out.append("| point | median A (us) | median B (us) | B/A | p | verdict | flags |")
        out.append("|---|---:|---:|---:|---:|---|---|")
    else:
        out.append(f"{'point':<70} {'median A':>11} {'median B':>11} {'B/A':>7} {'p':>9} {'verdict':<8} flags")
    for r in rows:
        if "ratio" in r:
            cells = (r["point"], f"{r['median_a']:.1f}", f"{r['median_b']:.1f}", f"{r['ratio']:.3f}", f"{r['p']:.2g}",
                     r["verdict"], ", ".join(r["flags"]))
        else:
            cells = (r["point"], r["status_a"], r["status_b"], "-", "-", r["verdict"], ", ".join(r["flags"]))
        if markdown:
            out.append("| " + " | ".join(cells) + " |")
        else:
            out.append(f"{cells[0]:<70} {cells[1]:>11} {cells[2]:>11} {cells[3]:>7} {cells[4]:>9} {cells[5]:<8} {cells[6]}")
    for title, pts in (("only in A", only_a), ("only in B", only_b)):
        if pts:
            out.append("")
            out.append(f"{'**' if markdown else ''}{title}{'**' if markdown else ''} ({len(pts)}):")
            out.extend(("- " if markdown else "  ") + p for p in pts)
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    out.append("")
    out.append("summary: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) +
               f"; {len(only_a)} only in A, {len(only_b)} only in B")
    if failures:
        out.append("gate failures:" if not markdown else "**gate failures:**")
        out.extend(("- " if markdown else "  ") + f for f in failures)
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tools/compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="results A (the reference)")
    ap.add_argument("b", help="results B (the candidate)")
    ap.add_argument("--markdown", action="store_true", help="Markdown table instead of plain text")
    ap.add_argument("--gate", action="store_true", help="exit 1 on a regression")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test (default 0.05)")
    ap.add_argument("--noise", type=float, default=0.01, help="smallest ratio change called faster/slower (default 0.01)")
    ap.add_argument("--max-slowdown", type=float, default=0.05, help="gate: tolerated slowdown (default 0.05 = 5%%)")
    ap.add_argument("--max-memory-growth", type=float, default=0.0, help="gate: tolerated growth of tracked peak (default 0)")
    args = ap.parse_args(argv)
    if not 0 < args.alpha < 1:
        ap.error(f"--alpha must be between 0 and 1 (got {args.alpha})")
    for name in ("noise", "max_slowdown", "max_memory_growth"):
        if not getattr(args, name) >= 0:  # NaN too
            ap.error(f"--{name.replace('_', '-')} must be non-negative (got {getattr(args, name)})")
    try:
        a, b = load(args.a), load(args.b)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        print(f"compare: error: {e}", file=sys.stderr)
        return 2
    rows, only_a, only_b, failures = compare(a, b, args.alpha, args.noise, args.max_slowdown, args.max_memory_growth)
    print(render(rows, only_a, only_b, failures if args.gate else [], args.markdown))
    return 1 if args.gate and failures else 0


if __name__ == "__main__":
    sys.exit(main())
