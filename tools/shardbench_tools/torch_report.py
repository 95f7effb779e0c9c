"""shardbench's `specforge` variants beside the PyTorch code they model (tools/torch-run), point by
point: the bytes each sends per rank, the peak above the inputs and the time.

  python3 tools/run_tool.py torch_report RESULTS.json... [--tolerance 0.02]

The files hold shardbench's points (their `specforge` ones are used) and torch-run's (variant torch),
in any mix; each torch-run point is paired with the specforge point of its shape.

Peaks are compared above the inputs and the fp32 copy of the logits SGLang hands over (batch and
usp): shardbench's tracked peak minus its plan's inputs and that copy, torch-run's allocator peak
above its input minus the copy. Exit 1 when a pair sends different bytes, their peaks differ by more
than the tolerance, or one ran out of memory where the other did not; 2 for unreadable inputs."""
import argparse
import sys

from .inputs import fail, load_json

SHAPE = ("path", "dtype", "tp", "sp_ulysses", "sp_ring", "batch", "seq", "vocab", "ttt")


def key(p):
    return tuple(p[k] for k in SHAPE)


def fp32_copy(p):
    """SGLang's fp32 copy of the rank's logits, [T, Vl] (batch, usp)."""
    if p["path"] == "baseline":
        return 0
    return p["batch"] * p["seq"] * (p["vocab_padded"] // p["tp"]) * 4


def shardbench_above(p):
    return p["memory"]["tracked_peak_bytes"] - p["memory"]["inputs_bytes"] - fp32_copy(p)


def torch_above(p):
    return p["memory"]["above_input_bytes"] - fp32_copy(p)


def size(b):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(b) >= scale:
            return f"{b / scale:.2f} {unit}"
    return f"{b} B"


def label(p):
    shape = f"B {p['batch']} x S {p['seq']}" if p["path"] != "usp" else f"S {p['seq']}, sp {p['sp_ulysses']}x{p['sp_ring']} (B {p['batch']})"
    return f"{p['path']}, {shape}"


def pair_rows(sb_points, torch_points, tolerance):
    sb = {key(p): p for p in sb_points if p["variant"] == "specforge" and p["status"] != "skipped"}
    rows, ok = [], True
    for t in torch_points:
        s = sb.get(key(t))
        if s is None:
            rows.append((label(t), "no shardbench specforge point of this shape", False))
            ok = False
            continue
        if "ok" not in (s["status"], t["status"]) or s["status"] != t["status"]:
            same = s["status"] == t["status"]
            rows.append((label(t), f"shardbench {s['status']}, torch {t['status']}", same))
            ok &= same
            continue
        sa, ta = shardbench_above(s), torch_above(t)
        mem = sa / ta - 1 if ta else float("inf")
        same_bytes = s["bytes_sent_per_rank"] == t["bytes_sent_per_rank"]
        good = same_bytes and abs(mem) <= tolerance and s["verified"] and t["verified"]
        ok &= good
        rows.append((label(t), (s, t, sa, ta, mem, same_bytes), good))
    return rows, ok


def render(rows, tolerance):
    out = ["| shape | bytes sent per rank (torch / shardbench) | peak above inputs, torch | shardbench | difference |"
           " time torch | shardbench | torch / shardbench |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, r, good in rows:
        if isinstance(r, str):
            out.append(f"| {name} | {r} |  |  |  |  |  |  |")
            continue
        s, t, sa, ta, mem, same_bytes = r
        ts, tt = s["time_us"]["median"] / 1e3, t["time_us"]["median"] / 1e3
        bytes_cell = f"{size(t['bytes_sent_per_rank'])} / " + ("same" if same_bytes else size(s["bytes_sent_per_rank"]))
        out.append(f"| {name} | {bytes_cell} | {size(ta)} | {size(sa)} | {100 * mem:+.2f} % |"
                   f" {tt:.2f} ms | {ts:.2f} ms | {tt / ts:.2f} |")
    out.append(f"\ntorch-run check (same bytes, peaks within {100 * tolerance:.0f} %, both verified): "
               + ("PASS" if all(g for _, _, g in rows) else "FAIL"))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="torch_report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="shardbench and tools/torch-run result files")
    ap.add_argument("--tolerance", type=float, default=0.02)
    args = ap.parse_args(argv)
    if not 0 <= args.tolerance < 1:
        fail("torch_report", f"--tolerance must be in [0, 1) (got {args.tolerance})")
    pts = [p for f in args.results for p in load_json(f, "torch_report", schema="shardbench.result/1", member="points")]
    sb = [p for p in pts if p["variant"] != "torch"]
    tp = [p for p in pts if p["variant"] == "torch"]
    if not tp:
        fail("torch_report", "no tools/torch-run point among the inputs")
    try:
        rows, ok = pair_rows(sb, tp, args.tolerance)
    except KeyError as e:
        fail("torch_report", f"an input lacks the field {e}")
    print(render(rows, args.tolerance))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
