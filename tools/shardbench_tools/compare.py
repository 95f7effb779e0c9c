"""A/B comparison of two shardbench result files, and the regression gate.

Points are matched on every field that identifies them: every field of a point that is not a
measurement (path, variant, backend, dtype, the shape, seed, consumer, draft_vocab, t2d, a
torch-run's impl, and any axis added later). For each: the ratio of medians (B/A), a two-sided
Mann-Whitney U test on the kept samples, and a verdict: `faster`/`slower` when the difference is
significant (p < alpha) and larger than the noise threshold; `inconclusive` when the sample counts
cannot reach p < alpha at all, whatever the times (3 samples a side cannot); else `same`. Memory
growth and verification changes are flagged, as is a point timed with another launch gate (`--gate`)
in B than in A. Points only in one file are listed.

The gate fails (exit 1) when a point is slower than --max-slowdown with significance, inconclusive,
uses more memory than --max-memory-growth, or stopped verifying (or went missing from B). Times of
the cpu backend (host threads sharing the machine's cores: not a performance signal) are reported
but gated only with --gate-cpu-times; their memory and verification are gated."""
import argparse
import math
import sys

from .inputs import check_result, read_json
from .stats import mann_whitney_u, median

# What a run measured of a point, or derived from its identity: everything else identifies it.
MEASURED = {"status", "reason", "verified", "mismatches", "first_mismatch", "cross_checked_with_baseline", "collective",
            "bytes_sent_per_rank", "bytes_sent_all_ranks", "op_bytes", "useful_bytes", "iters", "warmup", "warmup_ms",
            "time_us", "phases_us", "algbw_gbps", "busbw_gbps", "effective_gbps", "memory", "kernels", "timing",
            "launch_gate", "vocab_padded"}
# The fields a label shows first, in this order; any other identifying field follows as name=value.
LABEL = ("path", "variant", "backend", "dtype", "tp", "sp_ulysses", "sp_ring", "batch", "seq", "vocab")


def load(path):
    """A result file; ValueError (exit 2 in main) when it is not one. Exit 1 is the gate's alone."""
    return check_result(read_json(path), path)


def key(p):
    return tuple(sorted((k, json_key(v)) for k, v in p.items() if k not in MEASURED))


def json_key(v):
    return tuple(sorted(v.items())) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v


def label(k):
    d = dict(k)
    text = (f"{d['path']}/{d['variant']} {d['backend']} {d['dtype']} tp{d['tp']} sp{d['sp_ulysses']}x{d['sp_ring']} "
            f"b{d['batch']} s{d['seq']} v{d['vocab']}")
    # Only what tells points apart is worth showing: a consumer stage's fields, a torch-run's impl,
    # and anything beyond the defaults.
    quiet = {"consumer": "none", "hidden": None, "ttt": None, "vocab_pad": None, "seed": None}
    for name, value in k:
        if name in LABEL or (name in quiet and (quiet[name] is None or quiet[name] == value)):
            continue
        if d.get("consumer", "none") == "none" and name in ("draft_vocab", "t2d"):
            continue
        text += f" {name}={value}"
    return text


def min_p(n1, n2):
    """The smallest two-sided p the U test can give for these sample counts (complete separation,
    no ties)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    n = n1 + n2
    z = (n1 * n2 / 2.0 - 0.5) / math.sqrt(n1 * n2 * (n + 1) / 12.0)
    return math.erfc(z / math.sqrt(2.0))


def gated_times(p, gate_cpu_times):
    return gate_cpu_times or not str(p.get("backend", "")).startswith("cpu")


def index(doc, name):
    out = {}
    for p in doc["points"]:
        if p["status"] == "skipped":
            continue
        k = key(p)
        if k in out:
            raise ValueError(f"{name}: two points are the same point ({label(k)})")
        out[k] = p
    return out


def compare(a_doc, b_doc, alpha=0.05, noise=0.01, max_slowdown=0.05, max_memory_growth=0.0, gate_cpu_times=False):
    a, b = index(a_doc, "A"), index(b_doc, "B")
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
            if min_p(len(sa), len(sb)) >= alpha:
                verdict = "inconclusive"
            elif significant and ratio > 1 + noise:
                verdict = "slower"
            elif significant and ratio < 1 - noise:
                verdict = "faster"
            else:
                verdict = "same"
            row.update(median_a=ma, median_b=mb, ratio=ratio, p=p, verdict=verdict)
            timed = gated_times(pa, gate_cpu_times) and gated_times(pb, gate_cpu_times)
            if not timed:
                row["flags"].append("cpu times: not gated")
            if timed and verdict == "slower" and ratio > 1 + max_slowdown:
                failures.append(f"{row['point']}: {100 * (ratio - 1):.1f}% slower (p={p:.3g})")
            if timed and verdict == "inconclusive":
                failures.append(f"{row['point']}: inconclusive: {len(sa)} and {len(sb)} samples cannot reach "
                                f"p < {alpha:g} (run more --iters)")
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
    ap.add_argument("--gate-cpu-times", action="store_true",
                    help="gate the cpu backend's times too (host threads sharing cores: noisy; off by default)")
    args = ap.parse_args(argv)
    if not 0 < args.alpha < 1:
        ap.error(f"--alpha must be between 0 and 1 (got {args.alpha})")
    for name in ("noise", "max_slowdown", "max_memory_growth"):
        if not getattr(args, name) >= 0:  # NaN too
            ap.error(f"--{name.replace('_', '-')} must be non-negative (got {getattr(args, name)})")
    try:
        a, b = load(args.a), load(args.b)
        rows, only_a, only_b, failures = compare(a, b, args.alpha, args.noise, args.max_slowdown, args.max_memory_growth,
                                                 args.gate_cpu_times)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        print(f"compare: error: {e}", file=sys.stderr)
        return 2
    print(render(rows, only_a, only_b, failures if args.gate else [], args.markdown))
    return 1 if args.gate and failures else 0


if __name__ == "__main__":
    sys.exit(main())
